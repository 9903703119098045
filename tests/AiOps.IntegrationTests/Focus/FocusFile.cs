using System.Globalization;
using System.Text;

namespace AiOps.IntegrationTests.Focus;

/// <summary>
/// A FOCUS CSV read independently of the server's reader (a plain RFC 4180 split), so expected totals come from the
/// file itself. Rows are dictionaries by column name; <see cref="Write"/> produces a file the server can import.
/// </summary>
public sealed class FocusFile
{
    public FocusFile(IReadOnlyList<string> header, List<Dictionary<string, string>> rows)
    {
        Header = header;
        Rows = rows;
    }

    public IReadOnlyList<string> Header { get; }
    public List<Dictionary<string, string>> Rows { get; }

    public static string SamplePath
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AiOps.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("repository root not found");
            return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "focus", "focus_sample.csv"));
        }
    }

    public static FocusFile Sample() => Parse(File.ReadAllText(SamplePath));

    public static FocusFile Parse(string text)
    {
        var records = Split(text);
        var header = records[0];
        var rows = records.Skip(1).Where(r => r.Count > 1 || r[0].Length > 0)
            .Select(r => header.Select((h, i) => (h, v: r[i])).ToDictionary(x => x.h, x => x.v)).ToList();
        return new FocusFile(header, rows);
    }

    private static List<List<string>> Split(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { record.Add(field.ToString()); field.Clear(); }
            else if (c == '\n' || c == '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
            }
            else field.Append(c);
        }
        if (field.Length > 0 || record.Count > 0) { record.Add(field.ToString()); records.Add(record); }
        return records;
    }

    public string Write()
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(',', Header.Select(Quote)));
        foreach (var row in Rows) sb.AppendLine(string.Join(',', Header.Select(h => row[h] == "NULL" ? "NULL" : Quote(row[h]))));
        return sb.ToString();
    }

    private static string Quote(string v) => "\"" + v.Replace("\"", "\"\"") + "\"";

    public static double Cost(Dictionary<string, string> row) => double.Parse(row["BilledCost"], CultureInfo.InvariantCulture);

    public IEnumerable<Dictionary<string, string>> InPeriod(string month) => Rows.Where(r => r["BillingPeriodStart"].StartsWith(month, StringComparison.Ordinal));

    public Dictionary<string, double> SumBy(string month, string column) => InPeriod(month)
        .GroupBy(r => r[column]).ToDictionary(g => g.Key, g => g.Sum(Cost));

    public IReadOnlyList<string> Months => Rows.Select(r => r["BillingPeriodStart"][..7]).Distinct().Order().ToList();
}

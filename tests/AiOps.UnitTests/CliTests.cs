using System.Globalization;
using System.Reflection;

namespace AiOps.UnitTests;

public class CliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aiops-cli-" + Guid.NewGuid().ToString("N"));

    public CliTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>Runs the real `aiops` entry point (dispatcher included) in process.</summary>
    private static int Aiops(params string[] args)
    {
        var entry = typeof(AiOps.Cli.Commands.DetectCommand).Assembly.EntryPoint!;
        var result = entry.Invoke(null, [args]);
        return result switch
        {
            int i => i,
            Task<int> t => t.GetAwaiter().GetResult(),
            _ => throw new InvalidOperationException("unexpected entry point"),
        };
    }

    private void WriteSeries(string path, double[] y)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var lines = new List<string> { "timestamp,value" };
        for (int t = 0; t < y.Length; t++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{Synthetic.Start.AddMinutes(5 * t):yyyy-MM-dd HH:mm:ss},{y[t]}"));
        File.WriteAllLines(path, lines);
    }

    [Fact]
    public void DetectSingleFileWritesOneScoredRowPerInputRow()
    {
        var y = Synthetic.Seasonal(800, seed: 11, period: 288);
        y[700] += 60;
        var input = Path.Combine(_dir, "in.csv");
        var output = Path.Combine(_dir, "out.csv");
        WriteSeries(input, y);
        Assert.Equal(0, Aiops("detect", "--input", input, "--output", output));
        var lines = File.ReadAllLines(output);
        Assert.Equal("timestamp,value,anomaly_score", lines[0]);
        Assert.Equal(y.Length + 1, lines.Length);
        var inLines = File.ReadAllLines(input);
        var scores = new double[y.Length];
        for (int i = 1; i < lines.Length; i++)
        {
            var parts = lines[i].Split(',');
            Assert.Equal(inLines[i].Split(',')[0], parts[0]);
            scores[i - 1] = double.Parse(parts[2], CultureInfo.InvariantCulture);
            Assert.InRange(scores[i - 1], 0.0, 1.0);
        }
        Assert.Equal(700, Array.IndexOf(scores, scores.Skip(200).Max()));
    }

    [Fact]
    public void DetectFolderUsesTheNabResultsLayout()
    {
        var input = Path.Combine(_dir, "data");
        WriteSeries(Path.Combine(input, "catA", "one.csv"), Synthetic.Seasonal(300, seed: 12));
        WriteSeries(Path.Combine(input, "catB", "two.csv"), Synthetic.Seasonal(300, seed: 13));
        var output = Path.Combine(_dir, "results");
        Assert.Equal(0, Aiops("detect", "--input", input, "--output", output, "--name", "mydet"));
        Assert.Equal(301, File.ReadAllLines(Path.Combine(output, "catA", "mydet_one.csv")).Length);
        Assert.Equal(301, File.ReadAllLines(Path.Combine(output, "catB", "mydet_two.csv")).Length);
    }

    [Fact]
    public void ForecastWritesPointAndIntervalFilesOfTheSameShape()
    {
        var train = Path.Combine(_dir, "train.csv");
        var lines = new List<string> { "\"V1\",\"V2\"" };
        for (int i = 0; i < 3; i++)
        {
            var y = Synthetic.Seasonal(400 + 50 * i, seed: 20 + i);
            lines.Add($"\"S{i}\"," + string.Join(",", y.Select(v => $"\"{v.ToString("0.###", CultureInfo.InvariantCulture)}\"")) + new string(',', 5));
        }
        File.WriteAllLines(train, lines);
        var output = Path.Combine(_dir, "fc.csv");
        Assert.Equal(0, Aiops("forecast", "--train", train, "--horizon", "12", "--frequency", "24", "--output", output));
        foreach (var suffix in new[] { "", ".lo80", ".hi80", ".lo95", ".hi95" })
        {
            var file = Path.Combine(_dir, $"fc{suffix}.csv");
            var rows = File.ReadAllLines(file);
            Assert.Equal(4, rows.Length);
            Assert.Equal("id," + string.Join(",", Enumerable.Range(1, 12).Select(h => $"F{h}")), rows[0]);
            Assert.All(rows.Skip(1), r => Assert.Equal(13, r.Split(',').Length));
            Assert.StartsWith("S0,", rows[1]);
        }
        var mean = File.ReadAllLines(output)[1].Split(',').Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var hi = File.ReadAllLines(Path.Combine(_dir, "fc.hi95.csv"))[1].Split(',').Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.All(mean.Zip(hi), p => Assert.True(p.First <= p.Second));
    }

    [Fact]
    public void UnknownCommandFailsWithUsageExitCode()
    {
        Assert.Equal(2, Aiops("frobnicate"));
        Assert.Equal(2, Aiops("detect", "--input", Path.Combine(_dir, "missing.csv"), "--output", Path.Combine(_dir, "x.csv")));
    }
}

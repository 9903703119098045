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
    public void DetectWithTheServersAlarmScoreReportsAGradualIncidentAtThatLevel()
    {
        // the gradual family of SyntheticFamilyTests, seed 33, 60-point ramp: the refractory period from the default 0.5
        // keeps it below 0.8 (0.56), from --alarm-score 0.8 (what the server's grains use) it reaches 0.8
        var y = Synthetic.RampedShift(4000, 33, at: 3000, ramp: 60, shift: 8);
        var input = Path.Combine(_dir, "ramp.csv");
        WriteSeries(input, y);
        double Max(string output) => File.ReadLines(output).Skip(1 + 3000).Take(400)
            .Max(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture));
        Assert.Equal(0, Aiops("detect", input, Path.Combine(_dir, "default.csv")));
        Assert.Equal(0, Aiops("detect", input, Path.Combine(_dir, "server.csv"), "--alarm-score", "0.8"));
        Assert.True(Max(Path.Combine(_dir, "default.csv")) < 0.8);
        Assert.True(Max(Path.Combine(_dir, "server.csv")) >= 0.8);
    }

    [Fact]
    public void DetectWithATimeZoneScoresAsTheDetectorToldThatZone()
    {
        // Berlin's clock across the 2026 spring change (SyntheticFamilyTests): --time-zone gives the file's detector the
        // zone, so its scores are those of the zoned detector in process, and the first shifted morning does not alarm
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var change = new DateTime(2026, 3, 29, 1, 0, 0, DateTimeKind.Utc);
        var points = Synthetic.LocalDaytime(23 * 288, 31, change - TimeSpan.FromDays(21) - TimeSpan.FromHours(1), TimeSpan.FromMinutes(5), zone);
        var input = Path.Combine(_dir, "berlin.csv");
        File.WriteAllLines(input, ["timestamp,value", .. points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Utc:yyyy-MM-dd HH:mm:ss},{p.Value:R}"))]);
        double[] Scores(string output) => File.ReadLines(output).Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(0, Aiops("detect", input, Path.Combine(_dir, "zoned.csv"), "--alarm-score", "0.8", "--time-zone", "Europe/Berlin"));
        Assert.Equal(0, Aiops("detect", input, Path.Combine(_dir, "utc.csv"), "--alarm-score", "0.8"));
        var zoned = new AnomalyDetector { AlarmScore = 0.8, LocalTime = zone };
        var expected = points.Select(p => Math.Round(zoned.Score(p.Utc, p.Value), 6)).ToArray();
        Assert.Equal(expected, Scores(Path.Combine(_dir, "zoned.csv")));
        Assert.True(Scores(Path.Combine(_dir, "utc.csv")).Max() >= 0.8 && expected.Max() < 0.8);

        var (exit, _, err) = Run("detect", input, Path.Combine(_dir, "x.csv"), "--time-zone", "Mars/Olympus_Mons");
        Assert.Equal(2, exit);
        Assert.Contains("--time-zone", err);
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
    public void DetectWithExplainSaysWhichViewFoundEachPoint()
    {
        // Known answer: a 30-sd spike in a daily 5-minute series is found by the point view, as the server's alert says
        // (reason "point"); the score column is the same as without --explain.
        var y = Synthetic.Seasonal(800, seed: 11, period: 288);
        y[700] += 60;
        var input = Path.Combine(_dir, "in.csv");
        WriteSeries(input, y);
        string plain = Path.Combine(_dir, "plain.csv"), explained = Path.Combine(_dir, "explained.csv");
        Assert.Equal(0, Aiops("detect", input, plain));
        Assert.Equal(0, Aiops("detect", input, explained, "--explain"));
        var a = File.ReadAllLines(plain);
        var b = File.ReadAllLines(explained);
        Assert.Equal("timestamp,value,anomaly_score,reason", b[0]);
        Assert.Equal(a.Length, b.Length);
        for (int i = 1; i < a.Length; i++) Assert.Equal(a[i], b[i][..b[i].LastIndexOf(',')]);
        Assert.Equal("point", b[701].Split(',')[3]);
        Assert.Contains(b.Skip(1), l => l.EndsWith(",level", StringComparison.Ordinal) || l.EndsWith(",pattern", StringComparison.Ordinal));
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

    /// <summary>Runs the command tree with captured stdout/stderr.</summary>
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = AiOps.Cli.CliApp.RunAsync(args, output, error).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("--bogus", "detect", "--bogus", "x")]
    [InlineData("--bogus", "detect", "--input", "a.csv", "--output", "b", "--bogus")]
    [InlineData("--frobnicate", "forecast", "--train", "a.csv", "--output", "b.csv", "--frobnicate", "1")]
    [InlineData("--nope", "import", "focus", "file.csv", "--nope")]
    [InlineData("--nope", "keys", "list", "--nope")]
    [InlineData("--nope", "db", "migrate", "--nope")]
    public void AnUnknownOptionExitsWithTheUsageCodeAndNamesIt(string named, params string[] args)
    {
        var (exit, _, err) = Run(args);
        Assert.Equal(2, exit);
        Assert.Contains($"'{named}'", err);
        Assert.Contains("--help", err);
    }

    [Theory]
    [InlineData("--output", "forecast", "--train", "a.csv")]
    [InlineData("--horizon", "forecast", "--train", "a.csv", "--output", "b.csv", "--horizon", "abc")]
    [InlineData("--horizon", "forecast", "--train", "a.csv", "--output", "b.csv", "--horizon", "0")]
    [InlineData("--parallel", "detect", "a.csv", "b.csv", "--parallel", "many")]
    [InlineData("--alarm-score", "detect", "a.csv", "b.csv", "--alarm-score", "1")]
    [InlineData("--alarm-score", "detect", "a.csv", "b.csv", "--alarm-score", "0")]
    [InlineData("--step", "forecast", "--train", "a.csv", "--output", "b.csv", "--step", "fortnightly")]
    [InlineData("INPUT", "detect")]
    [InlineData("OUTPUT", "detect", "a.csv")]
    [InlineData("FILE", "import", "focus")]
    [InlineData("--id", "keys", "revoke")]
    public void AMissingArgumentOrBadValueExitsWithTheUsageCodeAndNamesIt(string named, params string[] args)
    {
        var (exit, _, err) = Run(args);
        Assert.Equal(2, exit);
        Assert.Contains(named, err);
    }

    [Fact]
    public void HelpListsEveryCommandAndEveryCommandHasHelp()
    {
        var (exit, output, _) = Run("--help");
        Assert.Equal(0, exit);
        foreach (var command in new[] { "detect", "forecast", "db", "keys", "import" }) Assert.Contains(command, output);
        string[][] leaves = [["detect"], ["forecast"], ["db", "migrate"], ["keys", "create"], ["keys", "list"], ["keys", "revoke"], ["import", "focus"]];
        foreach (var leaf in leaves)
        {
            var (code, help, _) = Run([.. leaf, "--help"]);
            Assert.Equal(0, code);
            Assert.Contains($"aiops {string.Join(' ', leaf)}", help);
        }
        Assert.Contains("--parallel", Run("detect", "--help").Out);
        Assert.Contains("--horizon", Run("forecast", "-h").Out);
        Assert.Contains("migrate", Run("db", "--help").Out);
        // a bare group shows what it offers and is a usage error
        var bare = Run("keys");
        Assert.Equal(2, bare.Exit);
        Assert.Contains("revoke", bare.Out);
    }

    [Fact]
    public void TheSuggestDirectiveCompletesCommandsAndOptions()
    {
        var (exit, output, _) = Run("[suggest:10]", "detect --p");
        Assert.Equal(0, exit);
        Assert.Equal(["--parallel"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("forecast", Run("[suggest:2]", "fo").Out);
        // the form the README's bash completion function sends: the whole line, executable name included
        Assert.Equal("--parallel", Run("[suggest:16]", "aiops detect --p").Out.Trim());
        Assert.Contains("revoke", Run("[suggest:11]", "aiops keys ").Out);
    }

    [Fact]
    public void QuotedFieldsWithCommasAreOneCell()
    {
        var rows = AiOps.Cli.TimeSeriesCsv.ParseText(
            "\"timestamp\",\"value\",\"note\"\n\"Thu, 01 Jan 2026 00:00:00 GMT\",\"1.5\",\"a, b\"\n\n2026-01-01 00:05:00 , 2 ,\"x,\"\"y\"\"\"\n");
        Assert.Equal(2, rows.Count);
        Assert.Equal("Thu, 01 Jan 2026 00:00:00 GMT", rows[0].RawTimestamp);
        Assert.Equal(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), rows[0].Timestamp);
        Assert.Equal(1.5, rows[0].Value);
        Assert.Equal(new DateTime(2026, 1, 1, 0, 5, 0, DateTimeKind.Utc), rows[1].Timestamp);
        Assert.Equal("2", rows[1].RawValue);
        Assert.Equal(2.0, rows[1].Value);

        var wide = AiOps.Cli.WideCsv.ParseText("\"id\",\"V1\",\"V2\"\n\"H1, eu-west\",\"1\",\"2.5\",,\nH2,3,NA,4\n");
        Assert.Equal(2, wide.Count);
        Assert.Equal("H1, eu-west", wide[0].Id);
        Assert.Equal([1.0, 2.5], wide[0].Values);
        Assert.Equal("H2", wide[1].Id);
        Assert.Equal(3, wide[1].Values.Length);
        Assert.True(double.IsNaN(wide[1].Values[1]));
    }

    [Fact]
    public void DetectKeepsAQuotedTimestampWithACommaAsOneCell()
    {
        var y = Synthetic.Seasonal(300, seed: 14);
        var input = Path.Combine(_dir, "rfc.csv");
        File.WriteAllLines(input, ["timestamp,value", .. y.Select((v, t) => string.Create(CultureInfo.InvariantCulture, $"\"{Synthetic.Start.AddMinutes(5 * t):R}\",{v}"))]);
        var output = Path.Combine(_dir, "rfc-out.csv");
        Assert.Equal(0, Run("detect", input, output).Exit);
        var lines = File.ReadAllLines(output);
        Assert.Equal(301, lines.Length);
        // the timestamp holds a comma, so it is written quoted and reads back as one cell
        var back = AiOps.Cli.TimeSeriesCsv.ParseText(string.Join('\n', lines));
        Assert.Equal(300, back.Count);
        Assert.Equal(Synthetic.Start.AddMinutes(5 * 299), back[^1].Timestamp);
        Assert.StartsWith($"\"{Synthetic.Start:R}\",", lines[1]);
    }

    [Fact]
    public void AGlobSelectsTheMatchingFilesOnly()
    {
        var data = Path.Combine(_dir, "data");
        WriteSeries(Path.Combine(data, "catA", "one.csv"), Synthetic.Seasonal(100, seed: 1));
        WriteSeries(Path.Combine(data, "catB", "two.csv"), Synthetic.Seasonal(100, seed: 2));
        WriteSeries(Path.Combine(data, "catB", "deeper", "three.csv"), Synthetic.Seasonal(100, seed: 3));
        WriteSeries(Path.Combine(data, "catB", "two.txt"), Synthetic.Seasonal(100, seed: 4));
        WriteSeries(Path.Combine(data, "top.csv"), Synthetic.Seasonal(100, seed: 5));

        string Rel(string root, IEnumerable<string> files) => string.Join(" ", files.Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')));
        var output = Path.Combine(_dir, "out");
        Assert.Equal(0, Run("detect", Path.Combine(data, "*", "*.csv"), output, "--name", "g").Exit);
        Assert.Equal("catA/g_one.csv catB/g_two.csv", Rel(output, Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)));

        Assert.Equal("catB/deeper/three.csv catB/two.csv", Rel(data, AiOps.Cli.InputFiles.FilesOf(Path.Combine(data, "catB", "**", "*.csv"))));
        Assert.Equal("catA/one.csv catB/deeper/three.csv catB/two.csv top.csv", Rel(data, AiOps.Cli.InputFiles.FilesOf(Path.Combine(data, "**", "*.csv"))));
        Assert.Equal("catB/two.csv catB/two.txt", Rel(data, AiOps.Cli.InputFiles.FilesOf(Path.Combine(data, "cat?", "t*"))));
        Assert.Equal(("data", "*/x?.csv"), AiOps.Cli.InputFiles.Split("data/*/x?.csv"));

        var none = Run("detect", Path.Combine(data, "*", "*.json"), output);
        Assert.Equal(2, none.Exit);
        Assert.Contains("no files match", none.Err);
    }

    [Fact]
    public void ForecastReadsEveryFileAGlobMatches()
    {
        var dir = Path.Combine(_dir, "wide");
        Directory.CreateDirectory(dir);
        for (int f = 0; f < 2; f++)
        {
            var y = Synthetic.Seasonal(200, seed: 40 + f);
            File.WriteAllLines(Path.Combine(dir, $"part{f}.csv"), ["id,V1", $"\"P{f}, x\"," + string.Join(",", y.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)))]);
        }
        File.WriteAllText(Path.Combine(dir, "other.csv"), "id,V1\nZ,1,2,3\n");
        var output = Path.Combine(_dir, "fc.csv");
        Assert.Equal(0, Run("forecast", "--train", Path.Combine(dir, "part*.csv"), "--horizon", "6", "--frequency", "24", "--output", output).Exit);
        var ids = AiOps.Cli.WideCsv.Read(output).Select(s => s.Id).ToArray();
        Assert.Equal(["P0, x", "P1, x"], ids);
    }
}

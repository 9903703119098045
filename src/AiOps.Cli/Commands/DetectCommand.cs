using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AiOps.Intelligence;

namespace AiOps.Cli.Commands;

/// <summary>`aiops detect`: runs <see cref="AnomalyDetector"/> over a timestamp,value CSV file, a NAB-style folder or a glob.</summary>
public static class DetectCommand
{
    public static Command Create()
    {
        var inputArg = new Argument<string?>("INPUT") { Description = "A CSV file, a folder (every *.csv below it) or a quoted glob such as \"data/*/*.csv\"", Arity = ArgumentArity.ZeroOrOne };
        var outputArg = new Argument<string?>("OUTPUT") { Description = "Output file (file input) or folder (folder or glob input)", Arity = ArgumentArity.ZeroOrOne };
        var input = new Option<string?>("--input") { Description = "Same as INPUT", HelpName = "FILE|DIR|GLOB" };
        var output = new Option<string?>("--output") { Description = "Same as OUTPUT", HelpName = "FILE|DIR" };
        var name = new Option<string>("--name") { Description = "Detector name: output files are NAME_<file> (NAB results layout)", DefaultValueFactory = _ => "aiops" };
        var parallel = ParallelOption();
        var set = SetOption("AnomalyDetectorOptions");
        var alarmScore = new Option<double>("--alarm-score")
        {
            Description = "Score at which you alarm: the refractory period starts there (the server's grains use their alarm threshold, 0.8)",
            DefaultValueFactory = _ => 0.5,
            HelpName = "SCORE",
        };
        alarmScore.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v > 0 && v < 1)) r.AddError($"--alarm-score {v.ToString(CultureInfo.InvariantCulture)} is not in (0, 1).");
        });
        var timeZone = new Option<string?>("--time-zone")
        {
            Description = "IANA time zone whose clock the series follow (e.g. Europe/Berlin): across a daylight-saving change each reading is compared with the same local time a day or week ago. Default: UTC",
            HelpName = "ZONE",
        };
        timeZone.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } id && !TimeZoneInfo.TryFindSystemTimeZoneById(id, out _))
                r.AddError($"--time-zone '{id}' is not a time zone known to this machine (an IANA id such as Europe/Berlin).");
        });
        var explain = new Option<bool>("--explain")
        {
            Description = "Add a reason column: the view that found each point most unusual (point, pattern, level; empty when none found anything), as the server's anomaly alerts give it",
        };
        var command = new Command("detect", "Score timestamp,value CSV files with the online anomaly detector") { inputArg, outputArg, input, output, name, parallel, set, alarmScore, timeZone, explain };
        command.Validators.Add(r =>
        {
            // a positional argument takes any token that is not an option here: report `--bogus` as the unknown option it is
            foreach (var value in new[] { r.GetValue(inputArg), r.GetValue(outputArg) })
                if (value is { Length: > 1 } && value[0] == '-')
                {
                    r.AddError($"Unrecognized option '{value}'.");
                    return;
                }
            if (r.GetValue(inputArg) is not null == r.GetValue(input) is not null)
                r.AddError(r.GetValue(inputArg) is null ? "Give the input: INPUT or --input." : "Give the input once: INPUT or --input, not both.");
            else if (r.GetValue(outputArg) is not null == r.GetValue(output) is not null)
                r.AddError(r.GetValue(outputArg) is null ? "Give the output: OUTPUT or --output." : "Give the output once: OUTPUT or --output, not both.");
        });
        command.SetUsageAction((r, ct) => RunAsync(
            (r.GetValue(inputArg) ?? r.GetValue(input))!, (r.GetValue(outputArg) ?? r.GetValue(output))!,
            r.GetValue(name)!, r.GetValue(parallel), OptionSetter.Apply(new AnomalyDetectorOptions(), r.GetValue(set)), r.GetValue(alarmScore),
            r.GetValue(timeZone) is { } zone ? TimeZoneInfo.FindSystemTimeZoneById(zone) : null, r.GetValue(explain), ct));
        return command;
    }

    internal static Option<int> ParallelOption()
    {
        var parallel = new Option<int>("--parallel") { Description = "Worker count", DefaultValueFactory = _ => Environment.ProcessorCount, HelpName = "N" };
        return parallel.AtLeast(1);
    }

    internal static Option<string?> SetOption(string optionsType) =>
        new("--set") { Description = $"Override {optionsType} properties: Name=Value,Name=Value", HelpName = "Option=Value,..." };

    /// <summary>(input file, output file) pairs; folders and globs keep the layout relative to their root.</summary>
    internal static List<(string In, string Out)> Jobs(string input, string output, string name)
    {
        var jobs = new List<(string In, string Out)>();
        string root;
        List<string> files;
        if (InputFiles.IsGlob(input))
        {
            (root, var pattern) = InputFiles.Split(input);
            files = InputFiles.Match(root, pattern);
            if (files.Count == 0) throw new UsageException($"no files match {input}");
        }
        else if (File.Exists(input)) return [(input, output)];
        else if (Directory.Exists(input))
        {
            root = input;
            files = InputFiles.Match(root, "**/*.csv");
            if (files.Count == 0) throw new UsageException($"no .csv files under {input}");
        }
        else throw new UsageException($"input not found: {input}");
        foreach (var file in files)
        {
            var rel = Path.GetRelativePath(root, file);
            var dir = Path.GetDirectoryName(rel) ?? "";
            jobs.Add((file, Path.Combine(output, dir, $"{name}_{Path.GetFileName(file)}")));
        }
        return jobs;
    }

    private static async Task<int> RunAsync(string input, string output, string name, int parallel, AnomalyDetectorOptions options, double alarmScore, TimeZoneInfo? localTime, bool explain, CancellationToken cancellationToken)
    {
        var jobs = Jobs(input, output, name);

        // largest files first so that parallel workers finish together
        jobs = jobs.OrderByDescending(j => new FileInfo(j.In).Length).ToList();
        var wall = Stopwatch.StartNew();
        long totalPoints = 0, totalTicks = 0;
        int maxBytes = 0, maxSerialized = 0;
        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel), CancellationToken = cancellationToken },
            async (job, ct) =>
            {
                var r = await DetectFileAsync(job.In, job.Out, options, alarmScore, localTime, explain, ct);
                Interlocked.Add(ref totalPoints, r.Points);
                Interlocked.Add(ref totalTicks, r.ScoreTicks);
                lock (jobs) { maxBytes = Math.Max(maxBytes, r.Bytes); maxSerialized = Math.Max(maxSerialized, r.Serialized); }
            });
        wall.Stop();
        double cpuUs = totalTicks * 1e6 / Stopwatch.Frequency;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"detect: {jobs.Count} file(s), {totalPoints} points, wall {wall.Elapsed.TotalSeconds:F2} s ({wall.Elapsed.TotalMicroseconds / Math.Max(1, totalPoints):F2} us/point wall, {parallel} worker(s)); " +
            $"scoring time summed over series {cpuUs / 1e6:F2} s = {cpuUs / Math.Max(1, totalPoints):F2} us/point single-thread; max detector memory {maxBytes} B, max serialized {maxSerialized} B; trainings {AnomalyDetector.TrainCount} taking {AnomalyDetector.TrainTime.TotalMilliseconds:F0} ms"));
        return 0;
    }

    private sealed record FileResult(long Points, long ScoreTicks, int Bytes, int Serialized);

    private static async Task<FileResult> DetectFileAsync(string input, string output, AnomalyDetectorOptions options, double alarmScore, TimeZoneInfo? localTime, bool explain, CancellationToken ct)
    {
        var rows = TimeSeriesCsv.Read(input);
        var detector = new AnomalyDetector(options) { AlarmScore = alarmScore, LocalTime = localTime };
        var scores = new double[rows.Count];
        var debug = Environment.GetEnvironmentVariable("AIOPS_DETECT_DEBUG") == "1" ? new ComponentSurprises[rows.Count] : null;
        var views = explain ? new AnomalyView[rows.Count] : null;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < rows.Count; i++)
        {
            scores[i] = detector.Score(rows[i].Timestamp, rows[i].Value);
            if (debug is not null) debug[i] = detector.LastSurprises;
            if (views is not null) views[i] = detector.LastView;
        }
        long ticks = Stopwatch.GetTimestamp() - t0;
        if (debug is not null) Console.Error.WriteLine($"{Path.GetFileName(input)}: period {detector.SeasonalPeriod}");
        var dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var sb = new System.Text.StringBuilder(rows.Count * 40);
        sb.Append("timestamp,value,anomaly_score").Append(views is null ? "" : ",reason").Append(debug is null ? "\n" : ",s_residual,s_shape,s_seasonal,s_novelty,s_context\n");
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append(CsvText.Cell(rows[i].RawTimestamp)).Append(',').Append(CsvText.Cell(rows[i].RawValue)).Append(',').Append(scores[i].ToString("0.######", inv));
            if (views is not null) sb.Append(',').Append(views[i] switch { AnomalyView.Point => "point", AnomalyView.Pattern => "pattern", AnomalyView.Level => "level", _ => "" });
            if (debug is not null)
                sb.Append(string.Create(inv, $",{debug[i].Residual:F2},{debug[i].Shape:F2},{debug[i].Seasonal:F2},{debug[i].Novelty:F2},{debug[i].Context:F2}"));
            sb.Append('\n');
        }
        await File.WriteAllTextAsync(output, sb.ToString(), ct);
        return new FileResult(rows.Count, ticks, detector.EstimatedBytes, detector.Serialize().Length);
    }
}

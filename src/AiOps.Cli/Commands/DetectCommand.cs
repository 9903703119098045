using System.Diagnostics;
using System.Globalization;
using AiOps.Intelligence;

namespace AiOps.Cli.Commands;

/// <summary>`aiops detect`: runs <see cref="AnomalyDetector"/> over a timestamp,value CSV file or a NAB-style folder.</summary>
public sealed class DetectCommand : ICommand
{
    public string Name => "detect";
    public string Summary => "score timestamp,value CSV files with the online anomaly detector";
    public string Usage => "--input FILE|DIR --output FILE|DIR [--name NAME] [--parallel N] [--set Option=Value,...]";

    public async Task<int> RunAsync(CommandArgs args, CancellationToken cancellationToken)
    {
        var input = args.Require("input");
        var output = args.Require("output");
        var name = args.Get("name") ?? "aiops";
        int parallel = args.GetInt("parallel", Environment.ProcessorCount);
        var options = OptionSetter.Apply(new AnomalyDetectorOptions(), args.Get("set"));

        var jobs = new List<(string In, string Out)>();
        if (File.Exists(input)) jobs.Add((input, output));
        else if (Directory.Exists(input))
        {
            foreach (var file in Directory.EnumerateFiles(input, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var rel = Path.GetRelativePath(input, file);
                var dir = Path.GetDirectoryName(rel) ?? "";
                jobs.Add((file, Path.Combine(output, dir, $"{name}_{Path.GetFileName(file)}")));
            }
            if (jobs.Count == 0) throw new UsageException($"no .csv files under {input}");
        }
        else throw new UsageException($"input not found: {input}");

        // largest files first so that parallel workers finish together
        jobs = jobs.OrderByDescending(j => new FileInfo(j.In).Length).ToList();
        var wall = Stopwatch.StartNew();
        long totalPoints = 0, totalTicks = 0;
        int maxBytes = 0, maxSerialized = 0;
        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel), CancellationToken = cancellationToken },
            async (job, ct) =>
            {
                var r = await DetectFileAsync(job.In, job.Out, options, ct);
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

    private static async Task<FileResult> DetectFileAsync(string input, string output, AnomalyDetectorOptions options, CancellationToken ct)
    {
        var lines = await File.ReadAllLinesAsync(input, ct);
        var rows = TimeSeriesCsv.Parse(lines);
        var detector = new AnomalyDetector(options);
        var scores = new double[rows.Count];
        var debug = Environment.GetEnvironmentVariable("AIOPS_DETECT_DEBUG") == "1" ? new ComponentSurprises[rows.Count] : null;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < rows.Count; i++)
        {
            scores[i] = detector.Score(rows[i].Timestamp, rows[i].Value);
            if (debug is not null) debug[i] = detector.LastSurprises;
        }
        long ticks = Stopwatch.GetTimestamp() - t0;
        if (debug is not null) Console.Error.WriteLine($"{Path.GetFileName(input)}: period {detector.SeasonalPeriod}");
        var dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var sb = new System.Text.StringBuilder(rows.Count * 40);
        sb.Append(debug is null ? "timestamp,value,anomaly_score\n" : "timestamp,value,anomaly_score,s_residual,s_shape,s_seasonal,s_novelty\n");
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append(rows[i].RawTimestamp).Append(',').Append(rows[i].RawValue).Append(',').Append(scores[i].ToString("0.######", inv));
            if (debug is not null)
                sb.Append(string.Create(inv, $",{debug[i].Residual:F2},{debug[i].Shape:F2},{debug[i].Seasonal:F2},{debug[i].Novelty:F2}"));
            sb.Append('\n');
        }
        await File.WriteAllTextAsync(output, sb.ToString(), ct);
        return new FileResult(rows.Count, ticks, detector.EstimatedBytes, detector.Serialize().Length);
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AiOps.Intelligence;

namespace AiOps.Cli.Commands;

/// <summary>`aiops forecast`: M4-style wide CSV in (id,v1,v2,...), point forecasts and 80/95% bounds out.</summary>
public static class ForecastCommand
{
    public static Command Create()
    {
        var train = new Option<string>("--train") { Description = "Wide CSV of training series (id,v1,v2,...); a quoted glob reads every matching file", Required = true, HelpName = "FILE|GLOB" };
        var output = new Option<string>("--output") { Description = "Point forecasts; OUT.lo80/.hi80/.lo95/.hi95.csv hold the bounds", Required = true, HelpName = "OUT.csv" };
        var horizon = new Option<int>("--horizon") { Description = "Steps to forecast", DefaultValueFactory = _ => 48, HelpName = "H" };
        horizon.AtLeast(1);
        var frequency = new Option<int>("--frequency") { Description = "Seasonal period (M4 frequency); 7 implies daily steps", HelpName = "F" };
        var step = new Option<string?>("--step") { Description = "Time step: 1h, 1d or minutes (default 1h, 1d when --frequency 7)", HelpName = "1h|1d|MINUTES" };
        step.Validators.Add(r =>
        {
            try { ParseStep(r.GetValueOrDefault<string?>(), 0); }
            catch (FormatException) { r.AddError($"--step '{r.GetValueOrDefault<string?>()}' is not 1h, 1d or a number of minutes."); }
        });
        var test = new Option<string?>("--test") { Description = "Wide CSV of actuals: prints interval coverage and sMAPE", HelpName = "FILE|GLOB" };
        var parallel = DetectCommand.ParallelOption();
        var set = DetectCommand.SetOption("ForecastOptions");
        var command = new Command("forecast", "Forecast every series of a wide CSV (id,v1,v2,...) with 80%/95% intervals") { train, horizon, output, frequency, step, test, parallel, set };
        command.SetUsageAction((r, ct) => RunAsync(r.GetValue(train)!, r.GetValue(output)!, r.GetValue(horizon), r.GetValue(frequency), r.GetValue(step),
            r.GetValue(test), r.GetValue(parallel), r.GetValue(set), ct));
        return command;
    }

    private static async Task<int> RunAsync(string trainPath, string output, int horizon, int frequency, string? stepText, string? testPath, int parallel, string? set, CancellationToken cancellationToken)
    {
        var step = ParseStep(stepText, frequency);
        var options = OptionSetter.Apply(new ForecastOptions(), set);
        if (frequency > 1 && options.SeasonalPeriod is null) options = options with { SeasonalPeriod = frequency };
        var trainFiles = InputFiles.FilesOf(trainPath);
        var testFiles = testPath is null ? null : InputFiles.FilesOf(testPath);

        var series = WideCsv.Read(trainFiles);
        var results = new Forecast[series.Count];
        var start = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var wall = Stopwatch.StartNew();
        int done = 0;
        double trainMsTotal = 0;
        var methods = new Dictionary<string, int>();
        using var progress = new Progress(series.Count);
        await Parallel.ForAsync(0, series.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel), CancellationToken = cancellationToken },
            (i, ct) =>
            {
                var s = series[i];
                results[i] = Forecaster.Forecast(s.Values, start, step, horizon, options);
                lock (methods)
                {
                    trainMsTotal += results[i].TrainingMilliseconds;
                    var key = results[i].Method;
                    methods[key] = methods.GetValueOrDefault(key) + 1;
                }
                progress.Report(Interlocked.Increment(ref done));
                return ValueTask.CompletedTask;
            });
        progress.Dispose();

        var stem = output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? output[..^4] : output;
        await WriteAsync(output, series, results, horizon, p => p.Mean);
        await WriteAsync(stem + ".lo80.csv", series, results, horizon, p => p.Lo80);
        await WriteAsync(stem + ".hi80.csv", series, results, horizon, p => p.Hi80);
        await WriteAsync(stem + ".lo95.csv", series, results, horizon, p => p.Lo95);
        await WriteAsync(stem + ".hi95.csv", series, results, horizon, p => p.Hi95);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"forecast: {series.Count} series, horizon {horizon}, wall {wall.Elapsed.TotalSeconds:F1} s, training+prediction {trainMsTotal / Math.Max(1, series.Count):F0} ms/series single-thread"));
        foreach (var kv in methods.OrderByDescending(k => k.Value)) Console.Error.WriteLine($"  method {kv.Key}: {kv.Value}");

        if (testFiles is not null) PrintCoverage(series, results, WideCsv.Read(testFiles), horizon);
        return 0;
    }

    private static TimeSpan ParseStep(string? s, int frequency)
    {
        if (s is null) return frequency == 7 ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
        if (s.EndsWith('h')) return TimeSpan.FromHours(double.Parse(s[..^1], CultureInfo.InvariantCulture));
        if (s.EndsWith('d')) return TimeSpan.FromDays(double.Parse(s[..^1], CultureInfo.InvariantCulture));
        return TimeSpan.FromMinutes(double.Parse(s, CultureInfo.InvariantCulture));
    }

    private static async Task WriteAsync(string path, IReadOnlyList<WideSeries> series, Forecast[] results, int horizon, Func<ForecastPoint, double> pick)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var sb = new StringBuilder();
        sb.Append("id");
        for (int h = 1; h <= horizon; h++) sb.Append(",F").Append(h);
        sb.Append('\n');
        for (int i = 0; i < series.Count; i++)
        {
            sb.Append(CsvText.Cell(series[i].Id));
            foreach (var p in results[i].Points) sb.Append(',').Append(pick(p).ToString("0.####", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        await File.WriteAllTextAsync(path, sb.ToString());
    }

    /// <summary>Empirical coverage of the 80%/95% intervals and a quick sMAPE against a test file.</summary>
    private static void PrintCoverage(IReadOnlyList<WideSeries> train, Forecast[] results, IReadOnlyList<WideSeries> test, int horizon)
    {
        var byId = test.ToDictionary(t => t.Id);
        long n = 0, in80 = 0, in95 = 0;
        double smape = 0, w80 = 0, w95 = 0;
        for (int i = 0; i < train.Count; i++)
        {
            if (!byId.TryGetValue(train[i].Id, out var t)) continue;
            for (int h = 0; h < Math.Min(horizon, t.Values.Length); h++)
            {
                double a = t.Values[h];
                if (double.IsNaN(a)) continue;
                var p = results[i].Points[h];
                n++;
                if (a >= p.Lo80 && a <= p.Hi80) in80++;
                if (a >= p.Lo95 && a <= p.Hi95) in95++;
                double d = Math.Abs(a) + Math.Abs(p.Mean);
                smape += d == 0 ? 0 : 200.0 * Math.Abs(a - p.Mean) / d;
                double sc = Math.Max(1e-9, Math.Abs(a));
                w80 += (p.Hi80 - p.Lo80) / sc; w95 += (p.Hi95 - p.Lo95) / sc;
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"coverage80 {100.0 * in80 / Math.Max(1, n):F1}% coverage95 {100.0 * in95 / Math.Max(1, n):F1}% (n={n}); sMAPE {smape / Math.Max(1, n):F2}; mean relative width80 {w80 / Math.Max(1, n):F3} width95 {w95 / Math.Max(1, n):F3}"));
    }

    /// <summary>Progress line on stderr (only when stderr is a terminal or the run is long).</summary>
    private sealed class Progress(int total) : IDisposable
    {
        private readonly Stopwatch _sw = Stopwatch.StartNew();
        private long _lastTick;
        private bool _shown;

        public void Report(int done)
        {
            long now = _sw.ElapsedMilliseconds;
            if (now < 1000 && done < total) return;
            // a live line on a terminal; a plain line every 10 s when stderr is redirected
            bool redirected = Console.IsErrorRedirected;
            if (now - Interlocked.Read(ref _lastTick) < (redirected ? 10000 : 500) && done < total) return;
            Interlocked.Exchange(ref _lastTick, now);
            _shown = true;
            double rate = done / Math.Max(0.001, _sw.Elapsed.TotalSeconds);
            double eta = (total - done) / Math.Max(1e-9, rate);
            var text = string.Create(CultureInfo.InvariantCulture, $"  {done}/{total} series ({100.0 * done / total:F0}%), {rate:F1}/s, eta {eta:F0} s");
            lock (this)
            {
                if (redirected) Console.Error.WriteLine(text);
                else Console.Error.Write("\r" + text + "   ");
            }
        }

        public void Dispose()
        {
            if (_shown && !Console.IsErrorRedirected) Console.Error.WriteLine();
            _shown = false;
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using AiOps.Intelligence;

// Benchmark of the intelligence layer: per-point scoring cost, memory, training cost, forecast latency.
// usage: dotnet run -c Release --project bench/AiOps.Bench.Intelligence -- [NAB_DATA_DIR] [section]
//        section: all (default) | detect | forecast | detect-contextual (the detector without and with the contextual member, same run)
var nabDir = args.Length > 0 ? args[0] : "../shared/data/nab-dev/data";
var section = args.Length > 1 ? args[1] : "all";
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;

if (section is "all" or "detect") BenchDetector(nabDir, new AnomalyDetectorOptions());
if (section is "detect-contextual")
{
    // alternated twice: the first pass also pays for JIT tiering and ML.NET's start-up
    for (int round = 1; round <= 2; round++)
    {
        Console.WriteLine($"-- round {round}: default options");
        BenchDetector(nabDir, new AnomalyDetectorOptions());
        Console.WriteLine($"-- round {round}: Contextual=PointView");
        BenchDetector(nabDir, new AnomalyDetectorOptions { Contextual = ContextualMode.PointView });
    }
}
if (section is "all" or "forecast") BenchForecaster();
return 0;

static List<(DateTime T, double V)> ReadSeries(string path)
{
    var list = new List<(DateTime, double)>();
    foreach (var line in File.ReadLines(path).Skip(1))
    {
        var p = line.Split(',');
        if (p.Length < 2) continue;
        list.Add((DateTime.Parse(p[0], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                  double.Parse(p[1], CultureInfo.InvariantCulture)));
    }
    return list;
}

static void BenchDetector(string nabDir, AnomalyDetectorOptions options)
{
    var files = Directory.EnumerateFiles(nabDir, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
    if (files.Count == 0) { Console.WriteLine($"no NAB files under {nabDir}"); return; }
    var data = files.Select(ReadSeries).ToList();
    long points = data.Sum(d => d.Count);

    // warm-up (JIT, ML.NET static init) on one file
    { var d = new AnomalyDetector(options); foreach (var (t, v) in data[0]) d.Score(t, v); }

    // 1) AnomalyDetector, single thread, whole corpus
    AnomalyDetector.ResetDiagnostics();
    long alloc0 = GC.GetAllocatedBytesForCurrentThread();
    var sw = Stopwatch.StartNew();
    int maxBytes = 0, maxSer = 0; long sumSer = 0;
    foreach (var series in data)
    {
        var d = new AnomalyDetector(options);
        foreach (var (t, v) in series) d.Score(t, v);
        maxBytes = Math.Max(maxBytes, d.EstimatedBytes);
        var bytes = d.Serialize();
        maxSer = Math.Max(maxSer, bytes.Length); sumSer += bytes.Length;
    }
    sw.Stop();
    long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
    double trainMs = AnomalyDetector.TrainTime.TotalMilliseconds;
    Console.WriteLine($"detector  corpus {files.Count} files, {points} points, single thread: {sw.Elapsed.TotalMicroseconds / points:F2} us/point amortized " +
                      $"(incl. {AnomalyDetector.TrainCount} model trainings = {trainMs:F0} ms, {trainMs / Math.Max(1, AnomalyDetector.TrainCount):F2} ms each; " +
                      $"scoring only {(sw.Elapsed.TotalMilliseconds - trainMs) * 1e3 / points:F2} us/point); allocated {alloc / (double)points:F0} B/point");
    Console.WriteLine($"detector  memory per series: max EstimatedBytes {maxBytes} B; serialized max {maxSer} B, mean {sumSer / files.Count} B");

    // measured retained heap of many detectors (checks EstimatedBytes)
    {
        var longest = data.OrderByDescending(d => d.Count).First();
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long before = GC.GetTotalMemory(true);
        var keep = new List<AnomalyDetector>();
        for (int k = 0; k < 100; k++)
        {
            var d = new AnomalyDetector(options);
            foreach (var (t, v) in longest.Take(3000)) d.Score(t, v);
            keep.Add(d);
        }
        long after = GC.GetTotalMemory(true);
        Console.WriteLine($"detector  retained heap per trained detector (100 instances, 3,000 points each): {(after - before) / keep.Count} B");
        GC.KeepAlive(keep);
    }

    // 2) ML training cost alone: one detector over 2,000 points
    {
        var s = data.OrderByDescending(d => d.Count).First().Take(2000).ToList();
        AnomalyDetector.ResetDiagnostics();
        var d = new AnomalyDetector(options);
        foreach (var (t, v) in s) d.Score(t, v);
        Console.WriteLine($"detector  2,000-point series: {AnomalyDetector.TrainCount} trainings, {AnomalyDetector.TrainTime.TotalMilliseconds:F1} ms in total");
    }

    // 3) baseline: rolling robust z-score (median/MAD of the last 256 points), same corpus
    sw.Restart();
    foreach (var series in data)
    {
        var z = new RobustZBaseline(256);
        foreach (var (_, v) in series) z.Score(v);
    }
    sw.Stop();
    Console.WriteLine($"baseline  robust-z (window 256, sort per point): {sw.Elapsed.TotalMicroseconds / points:F2} us/point");
}

static void BenchForecaster()
{
    // synthetic hourly spend: trend + daily + weekly seasonality + noise, 2,000 points
    var rng = new Random(1);
    var y = new double[2000];
    for (int t = 0; t < y.Length; t++)
        y[t] = 100 + 0.02 * t + 30 * Math.Sin(2 * Math.PI * t / 24) + 10 * Math.Sin(2 * Math.PI * t / 168) + rng.NextDouble() * 8;
    var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    Forecaster.Forecast(y.Take(600).ToArray(), start, TimeSpan.FromHours(1), 24); // warm-up
    var configs = new (string Name, ForecastOptions Opt)[]
    {
        ("LightGbm (default: backtest model + refit)", new ForecastOptions()),
        ("LightGbm without refit", new ForecastOptions { RefitAfterBacktest = false }),
        ("FastTree", new ForecastOptions { Trainer = ForecastTrainer.FastTree }),
        ("LightGbm 255 bins", new ForecastOptions { MaxBinsPerFeature = 255 }),
    };
    foreach (var (name, opt) in configs)
    {
        var times = new List<double>();
        Forecast f = null!;
        long alloc = 0;
        for (int k = 0; k < 5; k++)
        {
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            f = Forecaster.Forecast(y, start, TimeSpan.FromHours(1), 744, opt);
            times.Add(sw.Elapsed.TotalMilliseconds);
            alloc = GC.GetAllocatedBytesForCurrentThread() - a0;
        }
        times.Sort();
        Console.WriteLine($"forecast  {name}: 2,000 hourly points -> 744 steps: median {times[2]:F0} ms, min {times[0]:F0} ms " +
                          $"(training + backtest + recursive prediction), allocated {alloc / 1024} KiB per call, no state retained; method {f.Method}");
    }
    // baseline: seasonal naive on the same series (no training)
    {
        var sw = Stopwatch.StartNew();
        var f = Forecaster.Forecast(y, start, TimeSpan.FromHours(1), 744, new ForecastOptions { SelectByBacktest = false, NumberOfTrees = 1 });
        Console.WriteLine($"forecast  reference: LightGbm with 1 tree (fixed ML.NET overhead) {sw.Elapsed.TotalMilliseconds:F0} ms");
    }
}

sealed class RobustZBaseline(int window)
{
    private readonly double[] _buf = new double[window];
    private readonly double[] _tmp = new double[window];
    private int _n;

    public double Score(double v)
    {
        int m = Math.Min(_n, window);
        double score = 0;
        if (m >= 16)
        {
            Array.Copy(_buf, _tmp, m);
            Array.Sort(_tmp, 0, m);
            double med = _tmp[m / 2];
            for (int i = 0; i < m; i++) _tmp[i] = Math.Abs(_buf[i] - med);
            Array.Sort(_tmp, 0, m);
            double mad = 1.4826 * _tmp[m / 2] + 1e-9;
            score = Math.Abs(v - med) / mad;
        }
        _buf[_n % window] = v;
        _n++;
        return score;
    }
}

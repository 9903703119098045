using System.Diagnostics;
using System.Globalization;
using AiOps.Intelligence;

// The ingest bench's series (IngestBench.Payload): entity e's value at second t is 1 + (7t + e) mod 13, one point a second,
// rounds of 2,048 points after a 1,000-point warm-up, each round continuing the last (detector-ab --continuous).
// --drop Q leaves out a share Q of the points at random: the points a server does not score because they arrived after
// a later point of their series (71-87 % of the events were scored in detector-ab runs with 32 connections).
var options = args.Select((a, i) => (a, i)).Where(x => x.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(x => x.a[2..], x => x.i + 1 < args.Length ? args[x.i + 1] : "");
int entities = options.TryGetValue("entities", out var e) ? int.Parse(e, CultureInfo.InvariantCulture) : 1000;
int rounds = Math.Max(2, options.TryGetValue("rounds", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 4); // rounds -1 and 0 are not counted
double drop = options.TryGetValue("drop", out var d) ? double.Parse(d, CultureInfo.InvariantCulture) : 0;
var rng = new Random(5);
var trainer = new BetweenRoundsTrainer();
var detectors = Enumerable.Range(0, entities).Select(_ => new AnomalyDetector { Trainer = trainer, AlarmScore = 0.8 }).ToArray();
var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
long second = 0, counted = 0;
double countedSeconds = 0, sink = 0;
Console.WriteLine($"detector-shape: {typeof(AnomalyDetector).Assembly.Location}, {entities} series, drop {drop:P0}");
for (var round = -1; round < rounds; round++)
{
    var points = round < 0 ? 1000 : 2048;
    int alarms = 0, scored = 0;
    var sw = Stopwatch.StartNew();
    for (var p = 0; p < points; p++, second++)
    {
        for (var i = 0; i < entities; i++)
        {
            if (drop > 0 && rng.NextDouble() < drop) continue;
            var score = detectors[i].Score(start.AddSeconds(second), 1 + (second * 7 + i) % 13);
            sink += score;
            scored++;
            if (score >= 0.8) alarms++;
        }
    }
    var seconds = sw.Elapsed.TotalSeconds;
    var trainings = trainer.RunQueued();
    if (round >= 1) { countedSeconds += seconds; counted += scored; }
    Console.WriteLine($"round {round}{(round < 1 ? " (not counted)" : "")}: {seconds / scored * 1e6:F3} µs per scored point, {alarms} at 0.8 or above; then {trainings} trainings");
}
var periods = detectors.GroupBy(x => x.SeasonalPeriod).OrderByDescending(g => g.Count()).Take(4).Select(g => $"{g.Key} in {g.Count()}");
Console.WriteLine($"rounds 1-{rounds - 1}: {countedSeconds / counted * 1e6:F3} µs per scored point; seasonal period: {string.Join(", ", periods)} (checksum {sink:F0})");

/// <summary>Queues trainings and runs them between rounds, on this thread: a round's time is the scoring alone.</summary>
sealed class BetweenRoundsTrainer : IDetectorTrainer
{
    private readonly List<Action> _queued = [];

    public Task<T> Run<T>(Func<T> training)
    {
        var done = new TaskCompletionSource<T>();
        _queued.Add(() => done.SetResult(training()));
        return done.Task;
    }

    public int RunQueued()
    {
        var n = _queued.Count;
        foreach (var job in _queued) job();
        _queued.Clear();
        return n;
    }
}

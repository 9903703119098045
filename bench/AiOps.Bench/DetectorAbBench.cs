using System.Diagnostics;
using System.Net.Http.Headers;

namespace AiOps.Bench;

/// <summary>
/// Ingestion with every point scored, two builds of the server in the same run: this bench's own build (A) and the
/// build in <c>--baseline DIR</c> (B, a folder holding another <c>AiOps.Server.dll</c>: an older commit, or the tree
/// <c>bench/old_detector_server.sh</c> builds, this code with the detector issue 13 started from). Optionally a third
/// arm, this build with detection off (<c>--no-detection-arm</c>): what all of the detector's work costs.
/// <para>
/// Every arm is a separate server process with its own data folder, started at once and warmed up alike. Rounds
/// alternate the arms on fresh payloads (the order rotates from round to round), each with the machine otherwise idle:
/// before a round every server has gone quiet (its own background work, such as persistence, finished). A round is
/// timed from the first request until the server's grains have taken every event (the ingest bench's payloads: 1,000 events per
/// request over 1,000 entities, one-second steps). Besides events/s, each round reports the server's CPU seconds per
/// million events from the first request until the server is quiet again (its queued re-trainings done), which the load
/// generator's share of the cores does not blur; and, while the round runs, the CPU outside the background trainer's
/// thread (the work on the ingestion path), the anomalies opened and the share of the events scored (an event that
/// arrives after a later point of its series is stored, not scored).
/// </para>
/// <para>
/// <c>--continuous</c>: each round follows the last second by second and continues every series' cycle. By default each
/// round starts an hour after the last with the cycle afresh (the ingest bench's rounds), a change every entity's
/// detector alarms on at the round's start.
/// </para>
/// </summary>
public static class DetectorAbBench
{
    private sealed record Arm(string Name, ServerProcess Server, HttpClient Http)
    {
        public long Expected;
        public readonly List<double> Rates = [];
        public readonly List<double> CpuPerMillion = [];
        public readonly List<double> OutsideTrainingPerMillion = [];
        public double Seconds, CpuSeconds, TrainingSeconds, Events;
    }

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var baseline = args.Get("baseline");
        if (baseline is null || !File.Exists(Path.Combine(baseline, "AiOps.Server.dll")))
        {
            Console.Error.WriteLine("detector-ab: --baseline DIR must name a folder holding AiOps.Server.dll (for example bench/old_detector_server.sh's output)");
            return 2;
        }
        // 2,048 points per entity a round: one re-training period (RetrainEvery), so every round holds one re-training per
        // entity whatever the phase of its schedule. With 2,000, a round held one or none, the phase drifted with the
        // background trainer's delays, and a same-build A/A run differed by up to 20 % round by round. (Measured since: 13-29 % of
        // the events arrive after a later point of their series and are not scored, so an entity re-trains about every 1.25
        // rounds, and now and then a round holds almost no re-training; docs/intelligence.md.)
        var totalEvents = args.Int("events", 2_048_000);
        var entities = args.Int("entities", 1000);
        var batch = args.Int("batch", 1000);
        var clients = args.Int("clients", 32);
        var rounds = Math.Max(1, args.Int("rounds", 5));
        // Rounds run first and not counted: the first measured round was the slowest of whichever arm led it (A/B runs of
        // 7 rounds: 7.7 s and 7.1 s for this build leading, 8.0 s for the old detector leading, against 3.3-6.7 s for its later rounds).
        var discard = Math.Max(0, args.Int("discard", 1));
        var requests = totalEvents / batch;
        var continuous = args.Get("continuous") is not null;

        var specs = new List<(string Name, string? Directory, Dictionary<string, string> Env)>
        {
            ("A this build", null, new()),
            ($"B {Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseline)))}", Path.GetFullPath(baseline), new()),
        };
        if (args.Get("no-detection-arm") is not null) specs.Add(("C this build, detection off", null, new() { ["AiOps__Grains__Detection"] = "false" }));
        // --baseline-first: the baseline is started first and leads the first round (a check on the arms' positions: in a
        // same-build A/A run the first arm was the slower one by 8 % in events/s).
        if (args.Get("baseline-first") is not null) (specs[0], specs[1]) = (specs[1], specs[0]);

        var root = Path.Combine(Path.GetTempPath(), $"aiops-detector-ab-{Guid.NewGuid():N}");
        var arms = new List<Arm>();
        try
        {
            foreach (var (name, directory, env) in specs)
            {
                var server = ServerProcess.Start(Path.Combine(root, arms.Count.ToString()), env, directory);
                await server.WaitFirstAcceptedAsync("""[{"entity":{"kind":"model","id":"warm"},"metric":"predictions","value":1}]""", TimeSpan.FromMinutes(3));
                var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseCookies = false }) { BaseAddress = server.Http.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Key);
                arms.Add(new Arm(name, server, http) { Expected = 1 });
            }
            Console.WriteLine($"detector-ab: {discard} round(s) not counted, then {rounds} rounds x {requests} requests x {batch} events over {entities} entities, {clients} connections, arms: {string.Join("; ", arms.Select(a => $"{a.Name} (pid {a.Server.Pid})"))}");

            var start = DateTimeOffset.UtcNow.AddDays(-2);
            var warmup = Enumerable.Range(0, args.Int("warmup", 1000)).Select(r => IngestBench.Payload("e", r, batch, entities, entities, start.AddHours(-1), idPrefix: "warm")).ToArray();
            // --continuous: each round follows the last second by second, its values continuing the cycle: no gap and no
            // change in any series, so no detector has anything to alarm on. Otherwise each round starts an hour after the last
            // one started, its cycle afresh (the ingest bench's rounds).
            DateTimeOffset RoundStart(int k) => continuous ? start.AddHours(-1).AddSeconds(warmup.Length + (long)k * requests) : start.AddHours(k);
            long Phase(int k) => continuous ? warmup.Length + (long)k * requests : 0;
            Console.Write($"warming up each arm with {warmup.Length} requests… ");
            foreach (var arm in arms)
            {
                await IngestBench.Send(arm.Http, "/api/v1/telemetry", warmup, clients);
                arm.Expected += warmup.Length * (long)batch;
                await WaitAppliedAsync(arm, TimeSpan.FromMinutes(3));
            }
            Console.WriteLine("done");

            for (var round = -discard; round < rounds; round++)
            {
                // Fresh event ids and later timestamps each round (the same for every arm: each has its own server).
                var payloads = Enumerable.Range(0, requests).Select(r => IngestBench.Payload("e", r, batch, entities, entities, RoundStart(round + discard), idPrefix: $"r{round + discard}-", phase: Phase(round + discard))).ToArray();
                for (var k = 0; k < arms.Count; k++)
                {
                    var arm = arms[((round + k) % arms.Count + arms.Count) % arms.Count];
                    await QuietAsync(arms);
                    var cpu0 = arm.Server.CpuTime();
                    var before = await MetricsAsync(arm, TrainingBusy, AnomaliesOpened, PointsScored); // one scrape
                    var trainerCpu0 = arm.Server.ThreadCpuTime(TrainerThread);
                    var sw = Stopwatch.StartNew();
                    await IngestBench.Send(arm.Http, "/api/v1/telemetry", payloads, clients);
                    var answered = sw.Elapsed.TotalSeconds;
                    arm.Expected += requests * (long)batch;
                    await WaitAppliedAsync(arm, TimeSpan.FromMinutes(5));
                    var seconds = sw.Elapsed.TotalSeconds;
                    var roundCpu = (arm.Server.CpuTime() - cpu0).TotalSeconds;
                    var after = await MetricsAsync(arm, AnomaliesOpened, PointsScored);
                    var anomalies = after[0] - before[1];
                    var scored = after[1] - before[2];
                    var roundTrainerCpu = (arm.Server.ThreadCpuTime(TrainerThread) - trainerCpu0).TotalSeconds;
                    // The round's CPU runs until this server is quiet again: the re-trainings its detectors queued and the
                    // writes of its grains are part of what the round cost (amortized, as the issue measures).
                    await QuietAsync(arms);
                    var cpu = (arm.Server.CpuTime() - cpu0).TotalSeconds;
                    var training = await MetricAsync(arm, TrainingBusy) - before[0];
                    if (round < 0)
                    {
                        Console.WriteLine($"round {round + 1} (not counted), {arm.Name}: {totalEvents / seconds,10:N0} events/s end to end ({seconds:F2} s); server CPU {cpu:F1} s; {anomalies:N0} anomalies opened, {scored / totalEvents:P1} of the events scored (the rest arrived after a later point of their series)");
                        continue;
                    }
                    arm.Seconds += seconds;
                    arm.CpuSeconds += cpu;
                    arm.TrainingSeconds += training;
                    arm.OutsideTrainingPerMillion.Add((cpu - training) / (totalEvents / 1e6));
                    arm.Events += totalEvents;
                    arm.Rates.Add(totalEvents / seconds);
                    arm.CpuPerMillion.Add(cpu / (totalEvents / 1e6));
                    Console.WriteLine($"round {round + 1}, {arm.Name}: {arm.Rates[^1],10:N0} events/s end to end ({seconds:F2} s, all answered after {answered:F2} s); server CPU {cpu:F1} s, {arm.CpuPerMillion[^1]:F2} s per million events, {arm.OutsideTrainingPerMillion[^1]:F2} s outside re-trainings ({training:F1} s of those); until the last event {roundCpu / seconds:F2} cores busy, {(roundCpu - roundTrainerCpu) / (totalEvents / 1e6):F2} s per million events outside the trainer thread ({roundTrainerCpu:F2} s in it); {anomalies:N0} anomalies opened, {scored / totalEvents:P1} of the events scored (the rest arrived after a later point of their series)");
                }
            }

            Console.WriteLine();
            var a = arms.First(x => x.Name.StartsWith("A ", StringComparison.Ordinal));
            foreach (var arm in arms)
            {
                var line = $"{arm.Name,-40} all rounds {arm.Events / arm.Seconds,10:N0} events/s, server CPU {arm.CpuSeconds / (arm.Events / 1e6):F2} s per million events, {(arm.CpuSeconds - arm.TrainingSeconds) / (arm.Events / 1e6):F2} s outside re-trainings (medians {Median(arm.Rates):N0}, {Median(arm.CpuPerMillion):F2}, {Median(arm.OutsideTrainingPerMillion):F2})";
                if (arm != a)
                {
                    // Paired by round: the arms of one round ran back to back, so a slow phase of the machine hits both.
                    var paired = a.Rates.Zip(arm.Rates, (x, y) => x / y).ToList();
                    var pairedCpu = a.CpuPerMillion.Zip(arm.CpuPerMillion, (x, y) => x / y).ToList();
                    line += $"; A / this: all rounds {a.Events / a.Seconds / (arm.Events / arm.Seconds):P1} events/s, {a.CpuSeconds / a.Events / (arm.CpuSeconds / arm.Events):P1} CPU per event; ratio of medians {Median(a.Rates) / Median(arm.Rates):P1}, median of per-round ratios {Median(paired):P1} (range {paired.Min():P1}-{paired.Max():P1}); CPU per event A / this {Median(pairedCpu):P1}, outside re-trainings {(a.CpuSeconds - a.TrainingSeconds) / a.Events / ((arm.CpuSeconds - arm.TrainingSeconds) / arm.Events):P1}";
                }
                Console.WriteLine(line);
            }
            return 0;
        }
        finally
        {
            foreach (var arm in arms) { arm.Http.Dispose(); arm.Server.Dispose(); }
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Waits until no server has detector re-trainings queued (<c>aiops_anomaly_training_queued</c>; the background trainer
    /// takes at most a quarter of a core, so a busy trainer looks idle by CPU alone) and every server has used less than a
    /// quarter of a core over a second (at most 120 s). An idle server uses about 5 % of one here (idle bench, e3292e0).
    /// </summary>
    private static async Task QuietAsync(List<Arm> arms)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            var before = arms.Select(a => a.Server.CpuTime()).ToArray();
            await Task.Delay(1000);
            var busiest = arms.Select((a, i) => (a.Server.CpuTime() - before[i]).TotalSeconds).Max();
            if (busiest >= 0.25) continue;
            var queued = 0.0;
            foreach (var arm in arms) queued += await MetricAsync(arm, "aiops_anomaly_training_queued");
            if (queued == 0) return;
        }
        Console.WriteLine("(a server was still busy after 120 s; measuring anyway)");
    }

    /// <summary>Anomaly episodes the entities opened (one series per entity kind).</summary>
    private const string AnomaliesOpened = "aiops_anomaly_detected_total";

    /// <summary>Points the detectors scored: an event older than its series' newest point is stored, not scored.</summary>
    private const string PointsScored = "aiops_anomaly_points_scored_total";

    /// <summary>The background trainer's thread (<c>aiops-detector-training</c>; Linux keeps 15 characters of a thread's name).</summary>
    private const string TrainerThread = "aiops-detector-";

    /// <summary>The background trainer's busy time, wall time of its jobs (<see cref="AiOps.Intelligence.BackgroundDetectorTrainer.BusyTime"/>), exported by the grains' meter.</summary>
    private const string TrainingBusy = "aiops_anomaly_training_busy_seconds_total";

    /// <summary>A Prometheus metric's value: the sum of its series over their labels (the value itself for a metric with one series; 0 when absent).</summary>
    private static async Task<double> MetricAsync(Arm arm, string name) => (await MetricsAsync(arm, name))[0];

    /// <summary>Several metrics' values (as <see cref="MetricAsync"/>) from one scrape of <c>/metrics</c>.</summary>
    private static async Task<double[]> MetricsAsync(Arm arm, params string[] names)
    {
        var lines = (await arm.Http.GetStringAsync("/metrics")).Split('\n');
        return names.Select(name => lines
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse((l.Contains('}') ? l[(l.LastIndexOf('}') + 1)..] : l[name.Length..]).Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();
    }

    /// <summary>
    /// Until the server's entity grains have taken every event off their streams (Prometheus' counter
    /// <c>aiops_telemetry_events_consumed_total</c>, exact in embedded mode; a grain applies a batch in the turn it takes
    /// it). The exporter caches a scrape for up to 300 ms, the same for every arm.
    /// </summary>
    private static async Task WaitAppliedAsync(Arm arm, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long applied = 0;
        while (DateTime.UtcNow < deadline)
        {
            applied = (long)await MetricAsync(arm, "aiops_telemetry_events_consumed_total");
            if (applied >= arm.Expected) return;
            await Task.Delay(20);
        }
        throw new TimeoutException($"{arm.Name}: {applied:N0} of {arm.Expected:N0} events applied");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

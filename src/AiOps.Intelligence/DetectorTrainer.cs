using System.Collections.Concurrent;
using System.Diagnostics;

namespace AiOps.Intelligence;

/// <summary>
/// Runs anomaly-detector (re-)trainings away from the caller. Detectors that have one keep scoring with
/// their current model while the new one is fitted, and adopt it at their next point.
/// </summary>
public interface IDetectorTrainer
{
    /// <summary>Queues a training; the task completes with its result (or its exception).</summary>
    Task<T> Run<T>(Func<T> training);
}

/// <summary>
/// One dedicated background thread that works through queued trainings in order, using at most
/// <see cref="MaxBusyShare"/> of one core. Series that start together re-train together (a fleet of entities
/// reporting every minute reaches each re-training point in the same second): trained inline, such a wave
/// would occupy every core for seconds and stall ingestion and alerting. Queued here, the wave costs a
/// bounded share of one core and delays only the adoption of the new models.
/// <para>
/// When the rest of the process keeps every core busy (an ingestion burst), the trainer steps down to
/// <see cref="MinBusyShare"/>: re-training only refreshes models that keep scoring meanwhile, so it yields to
/// the work whose delay users see. Thread priorities cannot express this on Linux without privileges, so the
/// trainer looks at the process's CPU time itself (at most every <c>sampleInterval</c>).
/// </para>
/// </summary>
public sealed class BackgroundDetectorTrainer : IDetectorTrainer, IDisposable
{
    private readonly BlockingCollection<Action> _queue = new(new ConcurrentQueue<Action>());
    private readonly Thread _thread;
    private readonly Func<TimeSpan> _processCpu;
    private readonly TimeSpan _sampleInterval;
    private long _completed;
    private long _busyTicks;
    private double _currentShare;
    // last CPU sample (trainer thread only)
    private long _sampleAt;
    private TimeSpan _sampleCpu;
    private long _sampleBusyTicks;

    /// <param name="maxBusyShare">Largest share of one core the trainings may use (0.05-1).</param>
    /// <param name="minBusyShare">Share while the rest of the process keeps the cores busy (at most <paramref name="maxBusyShare"/>).</param>
    /// <param name="busyAbove">Share of all cores the rest of the process must use for the trainer to step down.</param>
    /// <param name="processCpu">The process's CPU time so far (tests inject one); default <see cref="Environment.CpuUsage"/>.</param>
    /// <param name="sampleInterval">How often the CPU time is looked at; default 500 ms.</param>
    public BackgroundDetectorTrainer(double maxBusyShare = 0.25, double minBusyShare = 0.05, double busyAbove = 0.6,
        Func<TimeSpan>? processCpu = null, TimeSpan? sampleInterval = null)
    {
        MaxBusyShare = Math.Clamp(maxBusyShare, 0.05, 1.0);
        MinBusyShare = Math.Clamp(minBusyShare, 0.01, MaxBusyShare);
        BusyAbove = Math.Clamp(busyAbove, 0.1, 1.0);
        _currentShare = MaxBusyShare;
        _processCpu = processCpu ?? (static () => Environment.CpuUsage.TotalTime);
        _sampleInterval = sampleInterval ?? TimeSpan.FromMilliseconds(500);
        _thread = new Thread(Work) { IsBackground = true, Name = "aiops-detector-training", Priority = ThreadPriority.BelowNormal };
        _thread.Start();
    }

    /// <summary>The trainer the grains share (one per process).</summary>
    public static BackgroundDetectorTrainer Shared { get; } = new();

    public double MaxBusyShare { get; }

    public double MinBusyShare { get; }

    public double BusyAbove { get; }

    /// <summary>The share of one core the trainings may use now (<see cref="MaxBusyShare"/> or, under load, <see cref="MinBusyShare"/>).</summary>
    public double CurrentBusyShare => Volatile.Read(ref _currentShare);

    /// <summary>Trainings waiting to run.</summary>
    public int Queued => _queue.Count;

    /// <summary>Trainings run so far.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Time spent training so far.</summary>
    public TimeSpan BusyTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _busyTicks));

    public Task<T> Run<T>(Func<T> training)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            try { tcs.TrySetResult(training()); }
            catch (Exception ex) { tcs.TrySetException(ex); }
        });
        return tcs.Task;
    }

    private void Work()
    {
        foreach (var job in _queue.GetConsumingEnumerable())
        {
            var start = Stopwatch.GetTimestamp();
            job();
            var busy = Stopwatch.GetTimestamp() - start;
            Interlocked.Add(ref _busyTicks, busy);
            Interlocked.Increment(ref _completed);
            var share = UpdateShare();
            if (share < 1.0)
            {
                // Duty cycle: after t of work, rest t·(1/share − 1).
                var rest = Stopwatch.GetElapsedTime(0, busy) * (1.0 / share - 1.0);
                if (rest >= TimeSpan.FromMilliseconds(1)) Thread.Sleep(rest);
            }
        }
    }

    /// <summary>Trainer thread: re-reads the process CPU time when the last sample is old enough and picks the share.</summary>
    private double UpdateShare()
    {
        var now = Stopwatch.GetTimestamp();
        if (_sampleAt == 0 || Stopwatch.GetElapsedTime(_sampleAt, now) >= _sampleInterval)
        {
            var cpu = _processCpu();
            var own = Interlocked.Read(ref _busyTicks);
            if (_sampleAt != 0)
            {
                var wall = Stopwatch.GetElapsedTime(_sampleAt, now);
                var others = (cpu - _sampleCpu) - Stopwatch.GetElapsedTime(0, own - _sampleBusyTicks);
                var load = others / (wall * Environment.ProcessorCount);
                Volatile.Write(ref _currentShare, load >= BusyAbove ? MinBusyShare : MaxBusyShare);
            }
            _sampleAt = now;
            _sampleCpu = cpu;
            _sampleBusyTicks = own;
        }
        return Volatile.Read(ref _currentShare);
    }

    public void Dispose() => _queue.CompleteAdding();
}

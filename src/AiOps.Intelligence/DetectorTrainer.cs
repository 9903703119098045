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
/// </summary>
public sealed class BackgroundDetectorTrainer : IDetectorTrainer, IDisposable
{
    private readonly BlockingCollection<Action> _queue = new(new ConcurrentQueue<Action>());
    private readonly Thread _thread;
    private long _completed;
    private long _busyTicks;

    /// <param name="maxBusyShare">Largest share of one core the trainings may use (0.05-1).</param>
    public BackgroundDetectorTrainer(double maxBusyShare = 0.25)
    {
        MaxBusyShare = Math.Clamp(maxBusyShare, 0.05, 1.0);
        _thread = new Thread(Work) { IsBackground = true, Name = "aiops-detector-training", Priority = ThreadPriority.BelowNormal };
        _thread.Start();
    }

    /// <summary>The trainer the grains share (one per process).</summary>
    public static BackgroundDetectorTrainer Shared { get; } = new();

    public double MaxBusyShare { get; }

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
            if (MaxBusyShare < 1.0)
            {
                // Duty cycle: after t of work, rest t·(1/share − 1).
                var rest = Stopwatch.GetElapsedTime(0, busy) * (1.0 / MaxBusyShare - 1.0);
                if (rest >= TimeSpan.FromMilliseconds(1)) Thread.Sleep(rest);
            }
        }
    }

    public void Dispose() => _queue.CompleteAdding();
}

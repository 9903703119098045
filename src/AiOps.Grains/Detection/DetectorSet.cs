using AiOps.Intelligence;

namespace AiOps.Grains.Detection;

/// <summary>Persisted detector models of one entity, one per metric series (separate from the entity state: larger, written less often).</summary>
public sealed class DetectorState
{
    public Dictionary<string, byte[]> Models { get; set; } = [];
}

/// <summary>
/// One online <see cref="AnomalyDetector"/> per metric series of an entity. Owned by a non-reentrant
/// grain, so single-threaded use is guaranteed. Re-trainings run on the process's shared
/// <see cref="BackgroundDetectorTrainer"/>, never inside the grain's turn. Every detector is told the score at which
/// the owner alarms (<paramref name="alarmScore"/>), so that its refractory period starts at that level. With
/// <paramref name="inlineTraining"/> the detectors re-train inside <see cref="Score"/> instead, as <c>aiops detect</c> does:
/// their scores then do not depend on when a background training finishes.
/// </summary>
public sealed class DetectorSet(IDetectorTrainer? trainer = null, double alarmScore = 0.5, bool inlineTraining = false)
{
    private readonly Dictionary<string, AnomalyDetector> _detectors = new(StringComparer.Ordinal);
    private readonly IDetectorTrainer? _trainer = inlineTraining ? null : trainer ?? BackgroundDetectorTrainer.Shared;

    public bool Dirty { get; private set; }

    public int Count => _detectors.Count;

    public int EstimatedBytes => _detectors.Values.Sum(d => d.EstimatedBytes);

    /// <summary>
    /// The time zone whose clock the entity's series follow (<see cref="AiOps.Abstractions.EntityMetadata.TimeZone"/>), or null
    /// for UTC: given to every detector, those held and those created or loaded later (<see cref="AnomalyDetector.LocalTime"/>).
    /// </summary>
    public TimeZoneInfo? LocalTime
    {
        get => _localTime;
        set
        {
            _localTime = value;
            foreach (var detector in _detectors.Values) detector.LocalTime = value;
        }
    }

    private TimeZoneInfo? _localTime;

    public double Score(string metric, long timestampMs, double value)
    {
        if (!_detectors.TryGetValue(metric, out var detector))
        {
            detector = new AnomalyDetector { Trainer = _trainer, AlarmScore = alarmScore, LocalTime = _localTime };
            _detectors[metric] = detector;
        }
        Dirty = true;
        return detector.Score(DateTime.UnixEpoch.AddMilliseconds(timestampMs), value);
    }

    /// <summary>What the last point scored for <paramref name="metric"/> was found unusual by (<see cref="AnomalyView.None"/> without a detector).</summary>
    public AnomalyView LastView(string metric) => _detectors.TryGetValue(metric, out var d) ? d.LastView : AnomalyView.None;

    /// <summary>
    /// Feeds the detector of <paramref name="metric"/> the points (in time order) newer than the newest it has scored: the
    /// points an entity kept that its stored detector had not seen yet (written at a longer interval than the entity).
    /// Their scores are not used: they were reported when the points arrived. Returns how many points were fed.
    /// </summary>
    public int CatchUp(string metric, IEnumerable<(long TimestampMs, double Value)> points)
    {
        long after = long.MinValue;
        if (_detectors.TryGetValue(metric, out var detector) && detector.LastTimestampUtc is { } last)
            after = (last.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
        var fed = 0;
        foreach (var (timestampMs, value) in points)
        {
            if (timestampMs <= after) continue;
            Score(metric, timestampMs, value);
            fed++;
        }
        return fed;
    }

    public void Load(DetectorState state)
    {
        foreach (var (metric, bytes) in state.Models)
        {
            try
            {
                var detector = AnomalyDetector.Deserialize(bytes);
                detector.Trainer = _trainer;
                detector.AlarmScore = alarmScore;
                detector.LocalTime = _localTime;
                _detectors[metric] = detector;
            }
            catch (Exception)
            {
                // A model written by an incompatible version: start learning again rather than fail the grain.
            }
        }
    }

    public void SaveTo(DetectorState state)
    {
        state.Models = _detectors.ToDictionary(kv => kv.Key, kv => kv.Value.Serialize(), StringComparer.Ordinal);
        Dirty = false;
    }
}

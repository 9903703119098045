namespace AiOps.Intelligence;

// Compiled only into the tree bench/old_detector_server.sh builds (the detector as issue 13 found it, b496827, inside
// today's server). The members today's grains set or read that the old detector did not have; the old detector reads
// none of them, so it scores exactly as it did then.
public sealed partial class AnomalyDetector
{
    /// <summary>Not read: the old detector had no alarm-level-dependent state.</summary>
    public double AlarmScore { get; set; } = 0.5;

    /// <summary>Not read: the old detector scored in UTC.</summary>
    public TimeZoneInfo? LocalTime { get; set; }

    /// <summary>Read by the grains for an alert's reason: the old detector did not say which view found a point.</summary>
    public AnomalyView LastView => AnomalyView.None;

    /// <summary>The newest timestamp seen, which the grains' catch-up after a restart asks for.</summary>
    public DateTime? LastTimestampUtc => _lastTicks == 0 ? null : new DateTime(_lastTicks, DateTimeKind.Utc);
}

namespace AiOps.Intelligence;

/// <summary>
/// The detector's views: which one spoke loudest for a point says what an alarm is about. A view is the strongest of the
/// components that look at the same thing (see docs/intelligence.md, "Anomaly detector").
/// </summary>
public enum AnomalyView
{
    /// <summary>No view found anything (a gap, the first points).</summary>
    None = 0,
    /// <summary>The point itself: far from what the recent values and the same phase a season ago predict, or a window shape the model has not seen (a spike, a dip, a glitch).</summary>
    Point = 1,
    /// <summary>The seasonal profile: the recent values keep departing from the same time one period ago (a daily or weekly pattern changed or is missing).</summary>
    Pattern = 2,
    /// <summary>The level: the recent level is in the tail of the series' past values, or a record for its whole history (a level shift, a trend, an outage at a new low).</summary>
    Level = 3,
}

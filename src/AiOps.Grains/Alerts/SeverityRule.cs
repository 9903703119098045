using AiOps.Abstractions.Alerts;

namespace AiOps.Grains.Alerts;

/// <summary>
/// Severity of a firing signal. Anomalies start from the score; anything carrying money at risk is raised to
/// at least the money band; rule kinds have a fixed base. An active alert's severity only goes up.
/// </summary>
public static class SeverityRule
{
    public static AlertSeverity Of(AlertSignal s, SeverityOptions o)
    {
        var severity = s.Kind switch
        {
            AlertKind.MetricAnomaly or AlertKind.SpendAnomaly => FromScore(s.Score, o),
            AlertKind.BudgetThreshold => s.ThresholdPercent switch
            {
                >= 100 => AlertSeverity.High,
                >= 80 => AlertSeverity.Medium,
                _ => AlertSeverity.Low,
            },
            AlertKind.ForecastBudgetBreach => FromForecast(s, o),
            AlertKind.PipelineFailure => AlertSeverity.High,
            AlertKind.ModelErrorRate => AlertSeverity.High,
            AlertKind.FreshnessBreach => AlertSeverity.Medium,
            AlertKind.ModelLatency => AlertSeverity.Medium,
            AlertKind.MissingTelemetry => AlertSeverity.Medium,
            _ => AlertSeverity.Medium,
        };
        if (s.MoneyAtRisk is { } money && double.IsFinite(money))
        {
            var band = money >= o.MoneyCritical ? AlertSeverity.Critical
                : money >= o.MoneyHigh ? AlertSeverity.High
                : money >= o.MoneyMedium ? AlertSeverity.Medium
                : AlertSeverity.Low;
            if (band > severity) severity = band;
        }
        return severity;
    }

    private static AlertSeverity FromScore(double score, SeverityOptions o) =>
        score >= o.ScoreCritical ? AlertSeverity.Critical
        : score >= o.ScoreHigh ? AlertSeverity.High
        : score >= o.ScoreMedium ? AlertSeverity.Medium
        : AlertSeverity.Low;

    /// <summary>Value = forecast month-end spend, Expected = budget. Without a budget: high.</summary>
    private static AlertSeverity FromForecast(AlertSignal s, SeverityOptions o)
    {
        if (s.Expected is not { } budget || !(budget > 0) || !double.IsFinite(s.Value)) return AlertSeverity.High;
        var overPercent = (s.Value - budget) / budget * 100;
        return overPercent > o.ForecastCriticalOverPercent ? AlertSeverity.Critical
            : overPercent > o.ForecastHighOverPercent ? AlertSeverity.High
            : AlertSeverity.Medium;
    }
}

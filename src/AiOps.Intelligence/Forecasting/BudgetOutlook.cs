using AiOps.Intelligence.Internal;

namespace AiOps.Intelligence;

/// <summary>Month-end outlook of a spend series against a budget.</summary>
/// <param name="MonthToDate">Actual spend so far.</param>
/// <param name="ForecastMonthEnd">Expected spend at the end of the forecast (month end): actual + forecast means.</param>
/// <param name="Lo80">Lower bound of the 80% interval of month-end spend.</param>
/// <param name="Hi80">Upper bound of the 80% interval.</param>
/// <param name="Lo95">Lower bound of the 95% interval.</param>
/// <param name="Hi95">Upper bound of the 95% interval.</param>
/// <param name="Budget">The budget evaluated.</param>
/// <param name="BreachProbability">Probability that month-end spend exceeds the budget (1 when already exceeded).</param>
/// <param name="ExpectedBreachUtc">First forecast step at which the expected cumulative spend exceeds the budget; null if it does not (by month end).</param>
/// <param name="EarliestLikelyBreachUtc">First step at which the breach probability by that time reaches 50%; null if never.</param>
public sealed record BudgetBreach(
    double MonthToDate,
    double ForecastMonthEnd,
    double Lo80,
    double Hi80,
    double Lo95,
    double Hi95,
    double Budget,
    double BreachProbability,
    DateTime? ExpectedBreachUtc,
    DateTime? EarliestLikelyBreachUtc);

/// <summary>Derives month-end spend, breach probability and breach date from a spend forecast.</summary>
public static class BudgetOutlook
{
    /// <summary>
    /// Evaluates a budget. <paramref name="forecast"/> holds per-step spend (e.g. hourly cost) from now to month end;
    /// steps after <paramref name="monthEndUtc"/> (if given) are ignored.
    /// Per-step uncertainty is taken from the 95% interval (sigma = width / 3.92); the uncertainty of the sum assumes
    /// errors correlated with coefficient <paramref name="errorCorrelation"/> between steps (0 = independent,
    /// 1 = fully correlated; forecast errors of spend are usually strongly positively correlated).
    /// </summary>
    public static BudgetBreach Evaluate(double monthToDateSpend, Forecast forecast, double budget, DateTime? monthEndUtc = null, double errorCorrelation = 0.5)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        double rho = Math.Clamp(errorCorrelation, 0, 1);
        double cumMean = monthToDateSpend, sumSigma = 0, sumVar = 0;
        DateTime? expected = null;
        DateTime? likely = null;
        bool already = monthToDateSpend > budget;
        foreach (var p in forecast.Points)
        {
            if (monthEndUtc is { } end && p.TimestampUtc > end) break;
            cumMean += p.Mean;
            double sigma = Math.Max(0, p.Hi95 - p.Lo95) / (2 * 1.959964);
            sumSigma += sigma; sumVar += sigma * sigma;
            if (!already && expected is null && cumMean > budget) expected = p.TimestampUtc;
            if (!already && likely is null)
            {
                double sd = Math.Sqrt((1 - rho) * sumVar + rho * sumSigma * sumSigma);
                double prob = sd <= 0 ? (cumMean > budget ? 1 : 0) : 1 - Robust.NormalCdf((budget - cumMean) / sd);
                if (prob >= 0.5) likely = p.TimestampUtc;
            }
        }
        double sdEnd = Math.Sqrt((1 - rho) * sumVar + rho * sumSigma * sumSigma);
        double z80 = 1.281552, z95 = 1.959964;
        double probEnd = already ? 1 : sdEnd <= 0 ? (cumMean > budget ? 1 : 0) : 1 - Robust.NormalCdf((budget - cumMean) / sdEnd);
        // spend cannot fall below what has already been spent
        double Floor(double v) => Math.Max(monthToDateSpend, v);
        return new BudgetBreach(monthToDateSpend, cumMean,
            Floor(cumMean - z80 * sdEnd), cumMean + z80 * sdEnd, Floor(cumMean - z95 * sdEnd), cumMean + z95 * sdEnd,
            budget, probEnd, expected, likely);
    }
}

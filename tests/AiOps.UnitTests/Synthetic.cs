using AiOps.Intelligence;

namespace AiOps.UnitTests;

/// <summary>Deterministic synthetic series for tests.</summary>
internal static class Synthetic
{
    public static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Hourly series: level + daily sine of amplitude <paramref name="amp"/> + Gaussian noise.</summary>
    public static double[] Seasonal(int n, int seed, double level = 100, double amp = 20, double noise = 2, int period = 24)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++) y[t] = level + amp * Math.Sin(2 * Math.PI * t / period) + noise * Gaussian(rng);
        return y;
    }

    /// <summary>Seasonal hourly series whose noise standard deviation grows linearly from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static double[] DriftingNoise(int n, int seed, double from, double to, double level = 100, double amp = 20, int period = 24)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++)
            y[t] = level + amp * Math.Sin(2 * Math.PI * t / period) + (from + (to - from) * t / (n - 1)) * Gaussian(rng);
        return y;
    }

    /// <summary>Seasonal hourly series whose noise standard deviation jumps from <paramref name="before"/> to <paramref name="after"/> at <paramref name="at"/>.</summary>
    public static double[] VarianceStep(int n, int seed, int at, double before, double after, double level = 100, double amp = 20, int period = 24)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++)
            y[t] = level + amp * Math.Sin(2 * Math.PI * t / period) + (t < at ? before : after) * Gaussian(rng);
        return y;
    }

    /// <summary>Level 10 with Gaussian noise (sd 1); from <paramref name="at"/> the level rises by <paramref name="shift"/>, linearly over <paramref name="ramp"/> points (1 = a step).</summary>
    public static double[] RampedShift(int n, int seed, int at, int ramp, double shift)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++) y[t] = 10 + Gaussian(rng) + (t < at ? 0 : shift * Math.Min(1.0, (t - at + 1.0) / ramp));
        return y;
    }

    /// <summary>Expected hourly spend when there is spend (daily shape between 20 and 60).</summary>
    public static double SpendLevel(int t) => 40 + 20 * Math.Sin(2 * Math.PI * t / 24);

    /// <summary>Hourly spend: zero with probability <paramref name="zeroShare"/>, else the daily level times a lognormal factor.</summary>
    public static double[] IntermittentSpend(int n, int seed, double zeroShare)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++)
            y[t] = rng.NextDouble() < zeroShare ? 0 : SpendLevel(t) * Math.Exp(0.2 * Gaussian(rng));
        return y;
    }

    /// <summary>
    /// Daily series: level 50 + daily sine of amplitude 20 + Gaussian noise (sd 1), except one day, from point
    /// <paramref name="flatFrom"/> for <paramref name="period"/> points, held at the level (the daily pattern missing for
    /// a day). A day is <paramref name="period"/> points: 288 for 5-minute data, 24 for hourly.
    /// </summary>
    public static double[] FlattenedDay(int n, int seed, int flatFrom, int period = 288)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++)
            y[t] = (t >= flatFrom && t < flatFrom + period ? 50 : 50 + 20 * Math.Sin(2 * Math.PI * t / period)) + Gaussian(rng);
        return y;
    }

    /// <summary>Daily spend: level 1,000 on weekdays, 600 on Saturdays and Sundays (from <see cref="Start"/>, a Thursday), 5 % noise.</summary>
    public static double[] DailySpend(int n, int seed)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++)
        {
            var day = Start.AddDays(t).DayOfWeek;
            y[t] = (day is DayOfWeek.Saturday or DayOfWeek.Sunday ? 600 : 1000) * (1 + 0.05 * Gaussian(rng));
        }
        return y;
    }

    /// <summary>
    /// Daily spend on business days only (none is reported on Saturdays and Sundays): 1,000 with 5 % noise, Mondays
    /// 15 % higher. <paramref name="days"/> calendar days from <see cref="Start"/>; returns each reported day's offset
    /// in days and its value.
    /// </summary>
    public static (int Day, double Value)[] BusinessDaySpend(int days, int seed)
    {
        var rng = new Random(seed);
        var points = new List<(int, double)>();
        for (int t = 0; t < days; t++)
        {
            var day = Start.AddDays(t).DayOfWeek;
            if (day is DayOfWeek.Saturday or DayOfWeek.Sunday) continue;
            points.Add((t, (day == DayOfWeek.Monday ? 1150 : 1000) * (1 + 0.05 * Gaussian(rng))));
        }
        return [.. points];
    }

    /// <summary>
    /// Daytime activity on the clock of <paramref name="zone"/>: level 10 at night, a ramp to 50 from 07:00 to 09:00 local
    /// time, 50 until 18:00, down to 10 by 20:00; Gaussian noise sd 1. The readings are stamped in UTC, every
    /// <paramref name="step"/> from <paramref name="startUtc"/>: across a daylight-saving change the profile moves by an
    /// hour in UTC, as an office's traffic does.
    /// </summary>
    public static (DateTime Utc, double Value)[] LocalDaytime(int n, int seed, DateTime startUtc, TimeSpan step, TimeZoneInfo zone)
    {
        static double Level(double hour) => hour switch
        {
            < 7 or >= 20 => 10,
            < 9 => 10 + 20 * (hour - 7),
            < 18 => 50,
            _ => 50 - 20 * (hour - 18),
        };
        var rng = new Random(seed);
        var points = new (DateTime, double)[n];
        for (int i = 0; i < n; i++)
        {
            var utc = startUtc + step * i;
            var local = TimeZoneInfo.ConvertTimeFromUtc(utc, zone);
            points[i] = (utc, Level(local.TimeOfDay.TotalHours) + Gaussian(rng));
        }
        return points;
    }

    public static double[] Score(AnomalyDetector d, double[] y, TimeSpan? step = null)
    {
        var s = new double[y.Length];
        var dt = step ?? TimeSpan.FromHours(1);
        for (int t = 0; t < y.Length; t++) s[t] = d.Score(Start + dt * t, y[t]);
        return s;
    }
}

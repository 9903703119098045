namespace AiOps.Abstractions;

/// <summary>Explicit limits on what the API accepts. Documented in the README and OpenAPI document.</summary>
public static class Limits
{
    public const long MaxRequestBodyBytes = 16 * 1024 * 1024;
    public const long MaxDecompressedBodyBytes = 64 * 1024 * 1024;
    public const int MaxEventsPerRequest = 10_000;
    public const int MaxIdLength = 128;
    public const int MaxMetricNameLength = 64;
    public const int MaxAttributesPerEvent = 16;
    public const int MaxAttributeKeyLength = 64;
    public const int MaxAttributeValueLength = 256;
    public const int MaxMetricsPerEntity = 32;
    public const int MaxNameLength = 200;
    public const int MaxRejectionsReported = 100;

    /// <summary>
    /// Largest magnitude of an event's value: 10^15, below 2^53, where doubles stop counting in whole units.
    /// With every value inside it, no sum the grains keep (monthly totals, series buckets, the value view's sums
    /// over all entities) can overflow to infinity, which JSON cannot carry and grain state could not save.
    /// </summary>
    public const double MaxAbsValue = 1e15;

    /// <summary>Whether a value is accepted: finite and within <see cref="MaxAbsValue"/>.</summary>
    public static bool IsValidValue(double value) => Math.Abs(value) <= MaxAbsValue; // false for NaN and infinities
    /// <summary>Timestamps further ahead than this are rejected (clock skew allowance).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);
    public static readonly DateTime MinTimestamp = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// Ids: 1-128 characters of letters, digits and <c>. _ - : @</c>, starting with a letter or digit.
    /// No slashes (ids are path segments), no whitespace or control characters.
    /// </summary>
    public static bool IsValidId(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > MaxIdLength) return false;
        if (!char.IsAsciiLetterOrDigit(id[0])) return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '@')) return false;
        }
        return true;
    }

    /// <summary>Metric names: lower-case letters, digits, '.' and '_', starting with a letter, at most 64.</summary>
    public static bool IsValidMetricName(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > MaxMetricNameLength) return false;
        if (!char.IsAsciiLetterLower(name[0])) return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_')) return false;
        }
        return true;
    }
}


namespace AiOps.Abstractions.Alerts;

/// <summary>Field a silence matcher tests.</summary>
public enum MatcherField
{
    EntityKind = 0,
    EntityId = 1,
    Metric = 2,
    Kind = 3,
}

/// <summary>One silence condition: the field's value matches <see cref="Value"/> (exact, or a glob with '*').</summary>
[GenerateSerializer, Immutable, Alias("aiops.SilenceMatcher")]
public sealed record SilenceMatcher(
    [property: Id(0)] MatcherField Field,
    [property: Id(1)] string Value);

[GenerateSerializer, Immutable, Alias("aiops.Silence")]
public sealed record Silence
{
    [Id(0)] public required string Id { get; init; }
    /// <summary>All matchers must match (AND).</summary>
    [Id(1)] public required IReadOnlyList<SilenceMatcher> Matchers { get; init; }
    [Id(2)] public required string CreatedBy { get; init; }
    [Id(3)] public required string Reason { get; init; }
    [Id(4)] public required DateTime CreatedAt { get; init; }
    [Id(5)] public required DateTime StartsAt { get; init; }
    [Id(6)] public required DateTime ExpiresAt { get; init; }
    /// <summary>Set when an operator ended the silence early (it then counts as expired at this instant).</summary>
    [Id(7)] public DateTime? EndedAt { get; init; }
    [Id(8)] public string? EndedBy { get; init; }

    public DateTime EffectiveEnd => EndedAt is { } e && e < ExpiresAt ? e : ExpiresAt;

    public bool IsActive(DateTime now) => StartsAt <= now && now < EffectiveEnd;

    public string StatusAt(DateTime now) => now < StartsAt && EndedAt is null ? "pending" : IsActive(now) ? "active" : "expired";

    public bool Matches(AlertHeader a)
    {
        foreach (var m in Matchers)
        {
            var text = m.Field switch
            {
                MatcherField.EntityKind => a.EntityKind.ToWire(),
                MatcherField.EntityId => a.EntityId,
                MatcherField.Metric => a.Metric,
                _ => a.Kind.ToString(),
            };
            var ignoreCase = m.Field is MatcherField.EntityKind or MatcherField.Kind;
            if (!Glob.IsMatch(m.Value, text, ignoreCase)) return false;
        }
        return true;
    }
}

/// <summary>A webhook subscription. The secret is never returned by list/get (only once, on creation).</summary>
[GenerateSerializer, Immutable, Alias("aiops.WebhookSubscription")]
public sealed record WebhookSubscription
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Url { get; init; }
    [Id(2)] public required string Secret { get; init; }
    [Id(3)] public AlertKind[]? Kinds { get; init; }
    [Id(4)] public AlertSeverity MinSeverity { get; init; }
    [Id(5)] public EntityKind? EntityKind { get; init; }
    /// <summary>Exact id or glob with '*'.</summary>
    [Id(6)] public string? EntityId { get; init; }
    [Id(7)] public string? Description { get; init; }
    [Id(8)] public required string CreatedBy { get; init; }
    [Id(9)] public required DateTime CreatedAt { get; init; }

    public bool Matches(AlertHeader a) =>
        (Kinds is null || Kinds.Length == 0 || Kinds.Contains(a.Kind))
        && a.Severity >= MinSeverity
        && (EntityKind is null || EntityKind == a.EntityKind)
        && (EntityId is null || Glob.IsMatch(EntityId, a.EntityId, ignoreCase: false));
}

/// <summary>What the alert grain needs to notify an event: the silence in force (if any) and the matching subscriptions.</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertRoute")]
public sealed record AlertRoute(
    [property: Id(0)] Silence? Silence,
    [property: Id(1)] IReadOnlyList<string> SubscriptionIds);

/// <summary>Glob with '*' only (any run of characters, possibly empty).</summary>
public static class Glob
{
    public static bool IsMatch(string pattern, string text, bool ignoreCase)
    {
        var cmp = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!pattern.Contains('*')) return string.Equals(pattern, text, cmp);
        var parts = pattern.Split('*');
        var pos = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (i == 0)
            {
                if (!text.StartsWith(part, cmp)) return false;
                pos = part.Length;
            }
            else if (i == parts.Length - 1)
            {
                return text.Length - pos >= part.Length && text.EndsWith(part, cmp);
            }
            else if (part.Length > 0)
            {
                var at = text.IndexOf(part, pos, cmp);
                if (at < 0) return false;
                pos = at + part.Length;
            }
        }
        return true;
    }
}

/// <summary>Sortable unique ids (ULID layout: 48-bit Unix ms + 80 random bits, Crockford base32, 26 characters).</summary>
public static class SortableId
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(DateTimeOffset? at = null)
    {
        var ms = (ulong)(at ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 6; i++) bytes[i] = (byte)(ms >> (40 - 8 * i));
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes[6..]);
        Span<char> chars = stackalloc char[26];
        // 128 bits → 26 base32 digits (the first digit carries the top 3 bits).
        var hi = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
        var lo = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        var value = new UInt128(hi, lo);
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
        return new string(chars);
    }
}

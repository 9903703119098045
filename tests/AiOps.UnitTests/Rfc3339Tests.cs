using System.Text;
using AiOps.Server.Ingestion;

namespace AiOps.UnitTests;

public sealed class Rfc3339Tests
{
    [Theory]
    [InlineData("2026-11-30T12:00:00Z", "2026-11-30T12:00:00Z")]
    [InlineData("2026-11-30t12:00:00z", "2026-11-30T12:00:00Z")]
    [InlineData("2026-11-30 12:00:00Z", "2026-11-30T12:00:00Z")]
    [InlineData("2026-11-30T12:00:00.5Z", "2026-11-30T12:00:00.500Z")]
    [InlineData("2026-11-30T12:00:00.123456789Z", "2026-11-30T12:00:00.123Z")]
    [InlineData("2026-11-30T14:30:00+02:30", "2026-11-30T12:00:00Z")]
    [InlineData("2026-11-30T07:00:00-05:00", "2026-11-30T12:00:00Z")]
    [InlineData("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z")]
    public void ValidDateTimesParseToTheirInstant(string text, string expected)
    {
        Assert.True(Rfc3339.TryParse(Encoding.ASCII.GetBytes(text), out var ms), text);
        Assert.Equal(DateTimeOffset.Parse(expected).ToUnixTimeMilliseconds(), ms);
    }

    [Theory]
    [InlineData("2026-11-30T12:00:00")]          // no offset: ambiguous
    [InlineData("2026-11-30")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("2026-02-30T00:00:00Z")]
    [InlineData("2025-02-29T00:00:00Z")]
    [InlineData("2026-11-30T24:00:00Z")]
    [InlineData("2026-11-30T12:60:00Z")]
    [InlineData("2026-11-30T12:00:00+25:00")]
    [InlineData("2026-11-30T12:00:00+02")]
    [InlineData("2026-11-30T12:00:00.Z")]
    [InlineData("2026-11-30T12:00:00Zjunk")]
    [InlineData("２026-11-30T12:00:00Z")]
    public void MalformedOrImpossibleDateTimesAreRefused(string text) =>
        Assert.False(Rfc3339.TryParse(Encoding.UTF8.GetBytes(text), out _), text);
}

namespace AiOps.Server.Ingestion;

/// <summary>
/// Strict RFC 3339 date-time parsing (<c>yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm)</c>) straight from UTF-8,
/// to Unix milliseconds. An offset is required: a time without one is ambiguous.
/// </summary>
public static class Rfc3339
{
    public static bool TryParse(ReadOnlySpan<byte> s, out long unixMs)
    {
        unixMs = 0;
        if (s.Length < 20) return false;
        if (!Digits(s, 0, 4, out var year) || s[4] != '-' || !Digits(s, 5, 2, out var month) || s[7] != '-'
            || !Digits(s, 8, 2, out var day) || s[10] is not ((byte)'T' or (byte)'t' or (byte)' ')
            || !Digits(s, 11, 2, out var hour) || s[13] != ':' || !Digits(s, 14, 2, out var minute) || s[16] != ':'
            || !Digits(s, 17, 2, out var second))
        {
            return false;
        }
        var i = 19;
        long fractionTicks = 0;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            var start = i;
            long scale = TimeSpan.TicksPerSecond;
            while (i < s.Length && s[i] >= '0' && s[i] <= '9')
            {
                if (scale > 1)
                {
                    scale /= 10;
                    fractionTicks += (s[i] - '0') * scale;
                }
                i++;
            }
            if (i == start) return false;
        }
        if (i >= s.Length) return false;
        int offsetMinutes;
        if (s[i] is (byte)'Z' or (byte)'z')
        {
            offsetMinutes = 0;
            i++;
        }
        else if (s[i] is (byte)'+' or (byte)'-')
        {
            var sign = s[i] == '-' ? -1 : 1;
            if (s.Length - i != 6 || !Digits(s, i + 1, 2, out var oh) || s[i + 3] != ':' || !Digits(s, i + 4, 2, out var om) || oh > 23 || om > 59)
                return false;
            offsetMinutes = sign * (oh * 60 + om);
            i += 6;
        }
        else
        {
            return false;
        }
        if (i != s.Length) return false;
        if (month is < 1 or > 12 || day < 1 || year < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 60)
            return false;
        if (second == 60) second = 59; // leap second: clamp
        var ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + fractionTicks
                    - offsetMinutes * TimeSpan.TicksPerMinute;
        unixMs = (ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        for (var k = start; k < start + count; k++)
        {
            var d = s[k] - '0';
            if ((uint)d > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }
}

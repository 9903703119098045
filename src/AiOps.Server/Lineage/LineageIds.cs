using AiOps.Abstractions;

namespace AiOps.Server.Lineage;

/// <summary>
/// Entity ids for OpenLineage jobs and datasets. Entity ids are path segments (letters, digits and <c>. _ - : @</c>, at
/// most 128), while OpenLineage names hold slashes, spaces and URIs. <c>namespace:name</c> is used as is when it is a
/// valid id and the namespace has no colon; otherwise the id is that text with every other character made <c>_</c>,
/// cut to fit, and <c>@</c> plus 16 hex digits of a hash of the exact namespace and name, so distinct names never share
/// an id. The exact namespace and name stay on the entity (dataset summary) and the graph node.
/// </summary>
public static class LineageIds
{
    private const int HashSuffixLength = 17; // '@' + 16 hex digits

    public static string For(string ns, string name)
    {
        var plain = ns + ":" + name;
        if (!ns.Contains(':') && Limits.IsValidId(plain)) return plain;
        var hash = TelemetryPoint.HashId(ns + "\n" + name);
        var keep = Math.Min(plain.Length, Limits.MaxIdLength - HashSuffixLength);
        var chars = new char[keep + HashSuffixLength];
        for (var i = 0; i < keep; i++)
        {
            var c = plain[i];
            chars[i] = char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' ? c : '_';
        }
        if (!char.IsAsciiLetterOrDigit(chars[0])) chars[0] = 'x';
        chars[keep] = '@';
        hash.TryFormat(chars.AsSpan(keep + 1), out _, "x16");
        return new string(chars);
    }
}

using System.Text;

namespace AiOps.Server.Ingestion;

/// <summary>
/// Reuses the strings of recently seen ids: producers send the same entity ids over and over, and a string per event
/// was a large share of what parsing allocated (and of what stays alive while requests wait for their flush).
/// A direct-mapped cache of <see cref="Slots"/> entries: an id hashes to one slot; a hit compares the bytes, a miss
/// makes the string and takes the slot. Entries are immutable and swapped whole, so concurrent readers see an old
/// or a new entry, never a torn one. Memory is bounded by the slot count whatever the number of distinct ids.
/// </summary>
public sealed class IdCache
{
    public const int Slots = 16_384;

    private sealed record Entry(byte[] Utf8, string Text);

    private readonly Entry?[] _slots = new Entry?[Slots];

    public static IdCache Shared { get; } = new();

    /// <summary>The string for an ASCII/UTF-8 id (unescaped JSON string bytes).</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        var slot = (int)(Hash(utf8) & (Slots - 1));
        var entry = Volatile.Read(ref _slots[slot]);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8)) return entry.Text;
        var text = Encoding.UTF8.GetString(utf8);
        Volatile.Write(ref _slots[slot], new Entry(utf8.ToArray(), text));
        return text;
    }

    private static uint Hash(ReadOnlySpan<byte> bytes)
    {
        // FNV-1a; ids are short
        var h = 2166136261u;
        foreach (var b in bytes) h = (h ^ b) * 16777619u;
        return h ^ (h >> 15);
    }
}

namespace AiOps.Grains.Series;

/// <summary>
/// The last N ids seen (64-bit FNV-1a hashes), for idempotent application: a producer's retry of an event
/// id, or a stream's redelivery of a batch, is dropped while its id is still within the window.
/// </summary>
/// <remarks>
/// Just a ring of hashes: a vectorised scan of 512 64-bit values costs well under a microsecond, and a
/// hash set beside it would triple the memory of every entity.
/// </remarks>
internal sealed class RecentIds(int capacity)
{
    private readonly ulong[] _ring = new ulong[capacity];
    private int _head;
    private int _count;

    public int Capacity => capacity;
    public int ApproximateBytes => capacity * 8;

    /// <summary>Adds the id; false when it was already present.</summary>
    public bool Add(ulong hash)
    {
        if (Contains(hash)) return false;
        _ring[_head] = hash;
        _head = (_head + 1) % _ring.Length;
        if (_count < _ring.Length) _count++;
        return true;
    }

    public bool Contains(ulong hash) => _ring.AsSpan(0, _count).Contains(hash);

    public static ulong Hash(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        return BitConverter.ToUInt64(bytes) ^ (BitConverter.ToUInt64(bytes[8..]) * 31);
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_count);
        var start = (_head - _count + _ring.Length) % _ring.Length;
        for (var k = 0; k < _count; k++) w.Write(_ring[(start + k) % _ring.Length]);
    }

    public void Read(BinaryReader r)
    {
        var n = r.ReadInt32();
        for (var k = 0; k < n; k++) Add(r.ReadUInt64());
    }
}

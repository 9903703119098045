namespace AiOps.Grains.Series;

/// <summary>
/// The last N ids seen (64-bit FNV-1a hashes), for idempotent application: a producer's retry of an event
/// id, or a stream's redelivery of a batch, is dropped while its id is still within the window.
/// </summary>
/// <remarks>
/// A ring of hashes, with two generations of a small Bloom filter in front of it: nearly every id is new,
/// and two bit tests say so without scanning the ring (a vectorised scan of 512 values is cheap, but it ran
/// for every event). The current generation covers the ids added since the last swap, the previous one the
/// generation before it; a swap every <c>capacity</c> additions keeps the ring's ids within the two, so the
/// filter never misses a recent id. A hash set would triple the memory of every entity; the two filters add
/// a quarter (one byte per slot) and are rebuilt from the ring, never stored.
/// </remarks>
internal sealed class RecentIds
{
    private readonly ulong[] _ring;
    private ulong[] _current;
    private ulong[] _previous;
    private readonly int _bitMask;
    private int _head;
    private int _count;
    private int _sinceSwap;

    public RecentIds(int capacity)
    {
        _ring = new ulong[capacity];
        // Eight filter bits per slot (a power of two, at least 64): two hashes give about 5 % false positives
        // per generation at full load, and a false positive only costs the scan.
        var bits = (int)Math.Max(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, capacity) * 8));
        _bitMask = bits - 1;
        _current = new ulong[bits / 64];
        _previous = new ulong[bits / 64];
    }

    public int Capacity => _ring.Length;
    public int ApproximateBytes => _ring.Length * 8 + _current.Length * 16;

    /// <summary>Adds the id; false when it was already present.</summary>
    public bool Add(ulong hash)
    {
        if (Contains(hash)) return false;
        _ring[_head] = hash;
        _head = (_head + 1) % _ring.Length;
        if (_count < _ring.Length) _count++;
        Set(_current, hash);
        if (++_sinceSwap >= _ring.Length)
        {
            (_previous, _current) = (_current, _previous);
            Array.Clear(_current);
            _sinceSwap = 0;
        }
        return true;
    }

    public bool Contains(ulong hash) =>
        (MayContain(_current, hash) || MayContain(_previous, hash)) && _ring.AsSpan(0, _count).Contains(hash);

    private void Set(ulong[] filter, ulong hash)
    {
        var a = (int)hash & _bitMask;
        var b = (int)(hash >> 32) & _bitMask;
        filter[a >> 6] |= 1UL << a;
        filter[b >> 6] |= 1UL << b;
    }

    private bool MayContain(ulong[] filter, ulong hash)
    {
        var a = (int)hash & _bitMask;
        var b = (int)(hash >> 32) & _bitMask;
        return (filter[a >> 6] & (1UL << a)) != 0 && (filter[b >> 6] & (1UL << b)) != 0;
    }

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

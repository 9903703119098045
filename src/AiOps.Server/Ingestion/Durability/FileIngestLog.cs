using System.Buffers.Binary;
using System.IO.Hashing;

namespace AiOps.Server.Ingestion.Durability;

/// <summary>
/// The embedded ingest log as append-only segment files (<c>ingest-log/&lt;first position&gt;.seg</c>), the classic
/// write-ahead-log shape: a record is a 24-byte header (magic, length, position, CRC-32 of the payload) and its
/// payload, written with one write and one fsync. A segment is closed at 64 MiB and deleted whole once every record
/// in it is trimmed. At open, a torn tail (a record cut short by a crash, or failing its CRC) is cut off: it was
/// never acknowledged, because the answer waits for the fsync.
/// </summary>
public sealed class FileIngestLog : IIngestLogStore
{
    private const uint Magic = 0x4C474F41; // "AOGL"
    private const int HeaderSize = 24;
    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly List<Segment> _segments = [];
    // The writer thread appends, rolls and trims; re-deliveries read concurrently (ReadAfter): the list is guarded.
    private readonly object _segmentsGate = new();
    private FileStream? _active;
    private byte[] _header = new byte[HeaderSize];

    private sealed class Segment(string path, long first)
    {
        public string Path { get; } = path;
        public long First { get; } = first;
        public long Last { get; set; }
        public long BytesField;
        public long Bytes { get => Volatile.Read(ref BytesField); set => Volatile.Write(ref BytesField, value); }
    }

    public FileIngestLog(string directory, long segmentBytes = 64L << 20)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
        Directory.CreateDirectory(directory);
        foreach (var path in Directory.GetFiles(directory, "*.seg").OrderBy(p => p, StringComparer.Ordinal))
        {
            if (!long.TryParse(System.IO.Path.GetFileNameWithoutExtension(path), out var first)) continue;
            var segment = new Segment(path, first);
            var (last, validBytes) = Scan(path);
            segment.Last = last;
            segment.Bytes = validBytes;
            if (new FileInfo(path).Length != validBytes)
            {
                using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
                f.SetLength(validBytes); // the torn tail of the last write before a crash
                f.Flush(flushToDisk: true);
            }
            _segments.Add(segment);
        }
    }

    public long LastPosition()
    {
        var last = 0L;
        foreach (var s in _segments) last = Math.Max(last, Math.Max(s.Last, s.First - 1));
        return last;
    }

    public void Append(long position, byte[] buffer, int length)
    {
        if (_active is null || _segments[^1].Bytes >= _segmentBytes) Roll(position);
        var header = _header;
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), length);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), position);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), Crc32.HashToUInt32(buffer.AsSpan(0, length)));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 0);
        _active!.Write(header);
        _active.Write(buffer, 0, length);
        _active.Flush(flushToDisk: true);
        var segment = _segments[^1];
        segment.Last = position;
        segment.Bytes += HeaderSize + length;
    }

    private void Roll(long first)
    {
        if (_active is not null)
        {
            _active.Flush(flushToDisk: true);
            _active.Dispose();
        }
        var path = System.IO.Path.Combine(_directory, $"{first:D20}.seg");
        _active = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        lock (_segmentsGate) _segments.Add(new Segment(path, first) { Last = first - 1, Bytes = _active.Length });
        SyncDirectory();
    }

    public IEnumerable<(long Position, byte[] Payload)> ReadAfter(long after)
    {
        after = Math.Max(after, TrimmedThrough());
        Segment[] segments;
        lock (_segmentsGate) segments = _segments.ToArray();
        foreach (var segment in segments)
        {
            if (segment.Last <= after) continue;
            // Records complete at this moment (Bytes grows only after a record's fsync); later ones are not read.
            var bytes = Volatile.Read(ref segment.BytesField);
            FileStream f;
            try
            {
                f = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            }
            catch (FileNotFoundException)
            {
                continue; // trimmed whole meanwhile (every record in it is covered by saved state)
            }
            using var _ = f;
            var header = new byte[HeaderSize];
            long offset = 0;
            while (offset + HeaderSize <= bytes)
            {
                f.ReadExactly(header);
                var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                var position = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
                var payload = new byte[length];
                f.ReadExactly(payload);
                offset += HeaderSize + length;
                if (position > after) yield return (position, payload);
            }
        }
    }

    public void Trim(long upTo)
    {
        // What is trimmed but still in the segment being written is skipped by later reads (a graceful stop then
        // replays nothing). Written by rename; losing it costs only a longer replay that the entities skip.
        if (upTo > TrimmedThrough())
        {
            var marker = System.IO.Path.Combine(_directory, "trimmed");
            File.WriteAllText(marker + ".tmp", upTo.ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.Move(marker + ".tmp", marker, overwrite: true);
            _trimmed = upTo;
        }
        // Whole segments only, and never the one being written.
        while (_segments.Count > 1 && _segments[0].Last <= upTo)
        {
            File.Delete(_segments[0].Path);
            lock (_segmentsGate) _segments.RemoveAt(0);
        }
    }

    private long _trimmed = -1;

    private long TrimmedThrough()
    {
        if (_trimmed >= 0) return _trimmed;
        var marker = System.IO.Path.Combine(_directory, "trimmed");
        _trimmed = File.Exists(marker) && long.TryParse(File.ReadAllText(marker), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var t) ? t : 0;
        return _trimmed;
    }

    public long SizeBytes()
    {
        long size = 0;
        foreach (var s in _segments) size += s.Bytes;
        return size;
    }

    /// <summary>The last valid position in a segment and the length of its valid prefix.</summary>
    private static (long Last, long ValidBytes) Scan(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var header = new byte[HeaderSize];
        long offset = 0, last = 0;
        var payload = Array.Empty<byte>();
        while (true)
        {
            if (f.Length - offset < HeaderSize) break;
            f.ReadExactly(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic) break;
            var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
            if (length < 0 || f.Length - offset - HeaderSize < length) break;
            if (payload.Length < length) payload = new byte[length];
            f.ReadExactly(payload, 0, length);
            if (Crc32.HashToUInt32(payload.AsSpan(0, length)) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(16))) break;
            last = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
            offset += HeaderSize + length;
        }
        return (last, offset);
    }

    /// <summary>A new segment's directory entry must be durable too, or a crash could lose the whole file.</summary>
    private void SyncDirectory()
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var dir = File.OpenHandle(_directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(dir);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            // Not every file system lets a directory be opened for syncing; the segment's own fsync still applies.
        }
    }

    public void Dispose() => _active?.Dispose();
}

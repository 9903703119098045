namespace AiOps.Server.Ingestion.Durability;

/// <summary>
/// Where the ingest log's records live. Appended to and trimmed from one thread at a time; <see cref="ReadAfter"/> may
/// run on another thread meanwhile (re-deliveries to entities that miss points).
/// </summary>
public interface IIngestLogStore : IDisposable
{
    /// <summary>The highest position ever written (0 for a new log).</summary>
    long LastPosition();

    /// <summary>Appends one record and makes it durable before returning.</summary>
    void Append(long position, byte[] buffer, int length);

    /// <summary>Records after <paramref name="after"/> still held, in order.</summary>
    IEnumerable<(long Position, byte[] Payload)> ReadAfter(long after);

    /// <summary>Drops records at or below <paramref name="upTo"/> (a store may keep some of them a while longer).</summary>
    void Trim(long upTo);

    /// <summary>Bytes on disk.</summary>
    long SizeBytes();
}

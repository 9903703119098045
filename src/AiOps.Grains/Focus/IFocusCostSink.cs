using AiOps.Abstractions;

namespace AiOps.Grains.Focus;

/// <summary>One cost point a FOCUS import sends to an entity (a difference against the previous import).</summary>
public readonly record struct FocusCostPoint(EntityKind Kind, string EntityId, double Value, long TimestampMs, ulong EventIdHash, string Service, string Currency);

/// <summary>
/// Where the import ledger sends its cost points: the host's durable ingestion path (the ingest log, then the
/// entity grains), so an import inherits the same "kept once answered" promise as telemetry.
/// </summary>
public interface IFocusCostSink
{
    /// <summary>Sends the points; false when ingestion is busy and nothing was taken (the caller retries later).</summary>
    Task<bool> SendAsync(IReadOnlyList<FocusCostPoint> points, CancellationToken cancellationToken);
}

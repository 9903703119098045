using Npgsql;
using NpgsqlTypes;

namespace AiOps.Server.Ingestion.Durability;

/// <summary>
/// One partition of the cluster's ingest log in PostgreSQL (<c>aiops_ingest_log</c>): a row per group commit, written
/// with <c>synchronous_commit</c> on, so an answered request survives the loss of any silo. Thread-safe: appends come
/// from the log's writer thread, reads from replays and repairs, each on its own pooled connection.
/// </summary>
public sealed class PostgresIngestLog(NpgsqlDataSource data, int partition) : IIngestLogStore
{
    public int Partition { get; } = partition;

    public long LastPosition()
    {
        using var cmd = data.CreateCommand("SELECT COALESCE(MAX(position), 0) FROM aiops_ingest_log WHERE partition_id = $1");
        cmd.Parameters.AddWithValue(Partition);
        return (long)cmd.ExecuteScalar()!;
    }

    public void Append(long position, byte[] buffer, int length)
    {
        using var cmd = data.CreateCommand("INSERT INTO aiops_ingest_log (partition_id, position, payload) VALUES ($1, $2, $3)");
        cmd.Parameters.AddWithValue(Partition);
        cmd.Parameters.AddWithValue(position);
        cmd.Parameters.Add(new NpgsqlParameter<ArraySegment<byte>> { TypedValue = new ArraySegment<byte>(buffer, 0, length), NpgsqlDbType = NpgsqlDbType.Bytea });
        cmd.ExecuteNonQuery();
    }

    public IEnumerable<(long Position, byte[] Payload)> ReadAfter(long after)
    {
        using var cmd = data.CreateCommand("SELECT position, payload FROM aiops_ingest_log WHERE partition_id = $1 AND position > $2 ORDER BY position");
        cmd.Parameters.AddWithValue(Partition);
        cmd.Parameters.AddWithValue(after);
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) yield return (reader.GetInt64(0), (byte[])reader.GetValue(1));
    }

    public void Trim(long upTo)
    {
        using var cmd = data.CreateCommand("DELETE FROM aiops_ingest_log WHERE partition_id = $1 AND position <= $2");
        cmd.Parameters.AddWithValue(Partition);
        cmd.Parameters.AddWithValue(upTo);
        cmd.ExecuteNonQuery();
    }

    public long SizeBytes()
    {
        using var cmd = data.CreateCommand("SELECT COALESCE(SUM(octet_length(payload)), 0) FROM aiops_ingest_log WHERE partition_id = $1");
        cmd.Parameters.AddWithValue(Partition);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public void Dispose()
    {
    }
}

/// <summary>Claims, heartbeats and hands over the partitions of the cluster's ingest log.</summary>
public sealed class PostgresLogPartitions(NpgsqlDataSource data, string owner)
{
    /// <summary>A partition whose owner has not heartbeated for this long is taken over by a survivor.</summary>
    public static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(8);

    public string Owner { get; } = owner;

    /// <summary>Claims an empty abandoned partition, or a new one.</summary>
    public async Task<int> ClaimAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using (var reuse = data.CreateCommand("""
                UPDATE aiops_ingest_partitions SET owner = $1, heartbeat_at = now()
                WHERE id = (SELECT q.id FROM aiops_ingest_partitions q
                            WHERE q.heartbeat_at < now() - make_interval(secs => $2)
                              AND NOT EXISTS (SELECT 1 FROM aiops_ingest_log l WHERE l.partition_id = q.id)
                            ORDER BY q.id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id
                """))
            {
                reuse.Parameters.AddWithValue(Owner);
                reuse.Parameters.AddWithValue(DeadAfter.TotalSeconds * 2);
                if (await reuse.ExecuteScalarAsync(cancellationToken) is int id) return id;
            }
            try
            {
                await using var create = data.CreateCommand(
                    "INSERT INTO aiops_ingest_partitions (id, owner, heartbeat_at) SELECT COALESCE(MAX(id), 0) + 1, $1, now() FROM aiops_ingest_partitions RETURNING id");
                create.Parameters.AddWithValue(Owner);
                return (int)(await create.ExecuteScalarAsync(cancellationToken))!;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && attempt < 20)
            {
                // Another silo took the same new id at the same instant: look again.
            }
        }
    }

    public async Task HeartbeatAsync(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        if (partitions.Count == 0) return;
        await using var cmd = data.CreateCommand("UPDATE aiops_ingest_partitions SET heartbeat_at = now(), owner = $1 WHERE id = ANY($2)");
        cmd.Parameters.AddWithValue(Owner);
        cmd.Parameters.AddWithValue(partitions.ToArray());
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Takes over one partition whose owner stopped heartbeating and that still holds records, if any.</summary>
    public async Task<int?> TakeOverAbandonedAsync(CancellationToken cancellationToken)
    {
        await using var cmd = data.CreateCommand("""
            UPDATE aiops_ingest_partitions SET owner = $1, heartbeat_at = now()
            WHERE id = (SELECT q.id FROM aiops_ingest_partitions q
                        WHERE q.heartbeat_at < now() - make_interval(secs => $2)
                          AND EXISTS (SELECT 1 FROM aiops_ingest_log l WHERE l.partition_id = q.id)
                        ORDER BY q.id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id
            """);
        cmd.Parameters.AddWithValue(Owner);
        cmd.Parameters.AddWithValue(DeadAfter.TotalSeconds);
        return await cmd.ExecuteScalarAsync(cancellationToken) is int id ? id : null;
    }
}

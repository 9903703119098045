using Microsoft.Data.Sqlite;

namespace AiOps.Server.Ingestion.Durability;

/// <summary>
/// The embedded ingest log: one SQLite file of its own (<c>ingest-log.db</c>, WAL, <c>synchronous=FULL</c>) holding
/// one row per group commit, keyed by its log position. Used from one thread at a time (the log's writer thread);
/// kept apart from grain state so that its sequential appends never queue behind state writes.
/// </summary>
public sealed class SqliteIngestLog : IIngestLogStore
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _append;
    private readonly SqliteParameter _appendPosition;
    private readonly SqliteParameter _appendPayload;

    public SqliteIngestLog(string path)
    {
        Path = path;
        _connection = new SqliteConnection($"Data Source={path};Pooling=False");
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        // FULL: a commit is on disk before it returns (the answer to the producer promises that).
        Execute("PRAGMA synchronous=FULL;");
        Execute("CREATE TABLE IF NOT EXISTS ingest_log (position INTEGER PRIMARY KEY, payload BLOB NOT NULL);");
        _append = _connection.CreateCommand();
        _append.CommandText = "INSERT INTO ingest_log (position, payload) VALUES ($p, $b);";
        _appendPosition = _append.Parameters.Add("$p", SqliteType.Integer);
        _appendPayload = _append.Parameters.Add("$b", SqliteType.Blob);
        _append.Prepare();
    }

    public string Path { get; }

    /// <summary>The highest position written (0 when the log has never held a record).</summary>
    public long LastPosition()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(position), 0) FROM ingest_log;";
        var last = (long)cmd.ExecuteScalar()!;
        // A trimmed-empty log must not hand out positions again: the floor is kept in the meta table.
        return Math.Max(last, Floor());
    }

    /// <summary>Appends one record durably: the first <paramref name="length"/> bytes of <paramref name="buffer"/>.</summary>
    public void Append(long position, byte[] buffer, int length)
    {
        _appendPosition.Value = position;
        _appendPayload.Value = buffer;
        _appendPayload.Size = length; // binds only the used part of the (reused) buffer
        _append.ExecuteNonQuery();
    }

    /// <summary>The records after <paramref name="after"/>, in order.</summary>
    public IEnumerable<(long Position, byte[] Payload)> ReadAfter(long after)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT position, payload FROM ingest_log WHERE position > $a ORDER BY position;";
        cmd.Parameters.AddWithValue("$a", after);
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) yield return (reader.GetInt64(0), (byte[])reader.GetValue(1));
    }

    /// <summary>Removes every record at or below <paramref name="upTo"/>.</summary>
    public void Trim(long upTo)
    {
        using var tx = _connection.BeginTransaction();
        using (var cmd = _connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "CREATE TABLE IF NOT EXISTS ingest_log_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);" +
                              "INSERT INTO ingest_log_meta (key, value) VALUES ('floor', $u) ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value);" +
                              "DELETE FROM ingest_log WHERE position <= $u;";
            cmd.Parameters.AddWithValue("$u", upTo);
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }

    /// <summary>Bytes on disk (database and write-ahead log).</summary>
    public long SizeBytes()
    {
        long size = 0;
        foreach (var f in new[] { Path, Path + "-wal" })
        {
            var info = new FileInfo(f);
            if (info.Exists) size += info.Length;
        }
        return size;
    }

    /// <summary>Records held (for metrics and tests).</summary>
    public long Count()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM ingest_log;";
        return (long)cmd.ExecuteScalar()!;
    }

    private long Floor()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "CREATE TABLE IF NOT EXISTS ingest_log_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);" +
                          "SELECT COALESCE((SELECT value FROM ingest_log_meta WHERE key = 'floor'), 0);";
        return (long)cmd.ExecuteScalar()!;
    }

    private void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _append.Dispose();
        _connection.Dispose();
    }
}

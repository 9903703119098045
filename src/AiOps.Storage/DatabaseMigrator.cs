using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AiOps.Storage;

/// <summary>
/// Applies the embedded, numbered SQL migrations (Migrations/Sqlite, Migrations/Postgres) that create the
/// tables and <c>OrleansQuery</c> rows the Orleans ADO.NET providers need. Applied versions are recorded in
/// <c>aiops_schema_migrations</c>; each migration runs in its own transaction; running again is a no-op.
/// Safe to call from several processes at once: PostgreSQL serialises runners with an advisory lock,
/// SQLite with <c>BEGIN IMMEDIATE</c> plus a busy timeout.
/// </summary>
public static class DatabaseMigrator
{
    /// <summary>Name of the table that records applied migrations.</summary>
    public const string HistoryTable = "aiops_schema_migrations";

    /// <summary>Key of the session-level advisory lock held while migrating PostgreSQL.</summary>
    public const long PostgresAdvisoryLockKey = 0x41694F70735F4442; // "AiOps_DB"

    private const int CommandTimeoutSeconds = 120;
    private const int SqliteBusyTimeoutMilliseconds = 60_000;

    /// <summary>The embedded migrations for <paramref name="provider"/>, in version order.</summary>
    public static IReadOnlyList<Migration> GetMigrations(DatabaseProvider provider) => Migration.Load(provider);

    /// <summary>Migrates either engine.</summary>
    public static Task<MigrationResult> MigrateAsync(DatabaseProvider provider, string connectionString, CancellationToken ct = default) =>
        provider switch
        {
            DatabaseProvider.Sqlite => MigrateSqliteAsync(connectionString, ct),
            DatabaseProvider.Postgres => MigratePostgresAsync(connectionString, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, null),
        };

    /// <summary>
    /// Migrates a SQLite database (grain persistence). Creates the database file's parent directory when
    /// missing and switches the database to WAL journal mode (persistent for file databases).
    /// </summary>
    public static async Task<MigrationResult> MigrateSqliteAsync(string connectionString, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new SqliteConnectionStringBuilder(connectionString);
        EnsureSqliteDirectory(builder);

        await using var connection = new SqliteConnection(builder.ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(connection, $"PRAGMA busy_timeout = {SqliteBusyTimeoutMilliseconds};", ct).ConfigureAwait(false);
        if (!IsSqliteInMemory(builder))
        {
            var mode = Convert.ToString(await ScalarAsync(connection, "PRAGMA journal_mode = WAL;", ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"SQLite refused WAL journal mode (got '{mode}') for '{builder.DataSource}'.");
            }
        }

        await ExecuteAsync(connection, $"""
            CREATE TABLE IF NOT EXISTS {HistoryTable}
            (
                version    INTEGER NOT NULL PRIMARY KEY,
                name       TEXT    NOT NULL,
                checksum   TEXT    NOT NULL,
                applied_at TEXT    NOT NULL
            );
            """, ct).ConfigureAwait(false);

        var applied = new List<int>();
        foreach (var migration in Migration.Load(DatabaseProvider.Sqlite))
        {
            var known = await ReadChecksumAsync(connection, migration.Version, ct).ConfigureAwait(false);
            if (known is not null)
            {
                VerifyChecksum(migration, known);
                continue;
            }

            // Take the write lock first, then re-check: another process may have applied it meanwhile.
            await ExecuteAsync(connection, "BEGIN IMMEDIATE;", ct).ConfigureAwait(false);
            try
            {
                known = await ReadChecksumAsync(connection, migration.Version, ct).ConfigureAwait(false);
                if (known is null)
                {
                    await ExecuteAsync(connection, migration.Sql, ct).ConfigureAwait(false);
                    await RecordAsync(connection, migration, ct).ConfigureAwait(false);
                    applied.Add(migration.Version);
                }

                await ExecuteAsync(connection, "COMMIT;", CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                await TryRollbackAsync(connection).ConfigureAwait(false);
                throw;
            }

            if (known is not null)
            {
                VerifyChecksum(migration, known);
            }
        }

        return await SummarizeAsync(connection, DatabaseProvider.Sqlite, applied, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Migrates a PostgreSQL database (clustering, persistence, reminders, streams). The database must exist.
    /// </summary>
    public static async Task<MigrationResult> MigratePostgresAsync(string connectionString, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);

        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({PostgresAdvisoryLockKey});", ct).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS {HistoryTable}
                (
                    version    integer     NOT NULL PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """, ct).ConfigureAwait(false);

            var applied = new List<int>();
            foreach (var migration in Migration.Load(DatabaseProvider.Postgres))
            {
                var known = await ReadChecksumAsync(connection, migration.Version, ct).ConfigureAwait(false);
                if (known is not null)
                {
                    VerifyChecksum(migration, known);
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                await ExecuteAsync(connection, migration.Sql, ct, transaction).ConfigureAwait(false);
                await RecordAsync(connection, migration, ct, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                applied.Add(migration.Version);
            }

            return await SummarizeAsync(connection, DatabaseProvider.Postgres, applied, ct).ConfigureAwait(false);
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({PostgresAdvisoryLockKey});", CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads the query keys present in <c>OrleansQuery</c> (diagnostics).</summary>
    public static async Task<IReadOnlyList<string>> GetOrleansQueryKeysAsync(DatabaseProvider provider, string connectionString, CancellationToken ct = default)
    {
        await using DbConnection connection = provider == DatabaseProvider.Sqlite
            ? new SqliteConnection(connectionString)
            : new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        return await ReadQueryKeysAsync(connection, ct).ConfigureAwait(false);
    }

    private static async Task<MigrationResult> SummarizeAsync(DbConnection connection, DatabaseProvider provider, List<int> applied, CancellationToken ct)
    {
        var current = Convert.ToInt32(
            await ScalarAsync(connection, $"SELECT coalesce(max(version), 0) FROM {HistoryTable};", ct).ConfigureAwait(false),
            CultureInfo.InvariantCulture);
        var keys = await ReadQueryKeysAsync(connection, ct).ConfigureAwait(false);
        return new MigrationResult(provider, applied, current, keys);
    }

    private static async Task<IReadOnlyList<string>> ReadQueryKeysAsync(DbConnection connection, CancellationToken ct)
    {
        var keys = new List<string>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey;";
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static async Task<string?> ReadChecksumAsync(DbConnection connection, int version, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandTimeout = CommandTimeoutSeconds;
        command.CommandText = $"SELECT checksum FROM {HistoryTable} WHERE version = @version;";
        AddParameter(command, "version", version);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
    }

    private static async Task RecordAsync(DbConnection connection, Migration migration, CancellationToken ct, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandTimeout = CommandTimeoutSeconds;
        command.CommandText = $"INSERT INTO {HistoryTable} (version, name, checksum, applied_at) VALUES (@version, @name, @checksum, @appliedAt);";
        AddParameter(command, "version", migration.Version);
        AddParameter(command, "name", migration.Name);
        AddParameter(command, "checksum", migration.Checksum);
        AddParameter(command, "appliedAt", DateTime.UtcNow);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static void VerifyChecksum(Migration migration, string recorded)
    {
        if (!string.Equals(migration.Checksum, recorded, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Migration {migration.Name} ({migration.Provider}) was changed after it was applied " +
                $"(recorded checksum {recorded}, embedded {migration.Checksum}). Add a new numbered migration instead of editing an applied one.");
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken ct, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandTimeout = CommandTimeoutSeconds;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandTimeout = CommandTimeoutSeconds;
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static async Task TryRollbackAsync(SqliteConnection connection)
    {
        try
        {
            await ExecuteAsync(connection, "ROLLBACK;", CancellationToken.None).ConfigureAwait(false);
        }
        catch (SqliteException)
        {
            // No transaction left to roll back (SQLite may already have rolled back on the error).
        }
    }

    private static bool IsSqliteInMemory(SqliteConnectionStringBuilder builder) =>
        builder.Mode == SqliteOpenMode.Memory
        || string.IsNullOrEmpty(builder.DataSource)
        || string.Equals(builder.DataSource, ":memory:", StringComparison.OrdinalIgnoreCase);

    private static void EnsureSqliteDirectory(SqliteConnectionStringBuilder builder)
    {
        if (IsSqliteInMemory(builder) || builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }
}

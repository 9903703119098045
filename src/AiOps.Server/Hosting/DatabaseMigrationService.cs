using AiOps.Storage;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Hosting;

/// <summary>
/// Applies the project's schema migrations before the silo starts (it is registered ahead of Orleans, and
/// hosted services start in order): the ADO.NET providers read their queries from the database at start-up.
/// </summary>
public sealed class DatabaseMigrationService(IOptions<AiOpsOptions> options, ILogger<DatabaseMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.EffectiveStorage == StorageBackend.Sqlite)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(o.SqlitePath)!);
            var result = await DatabaseMigrator.MigrateSqliteAsync(o.SqliteConnectionString, cancellationToken);
            logger.LogInformation("SQLite database {Path}: {Result}", o.SqlitePath, result);
        }
        else
        {
            // Unpooled: the migration's connection closes when it is done instead of idling in a pool outside the silo's bound.
            var unpooled = new Npgsql.NpgsqlConnectionStringBuilder(o.PostgresConnectionString) { Pooling = false, ApplicationName = "aiops-migrate" }.ConnectionString;
            var result = await DatabaseMigrator.MigratePostgresAsync(unpooled, cancellationToken);
            logger.LogInformation("PostgreSQL schema: {Result}", result);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

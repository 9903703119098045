using AiOps.Storage;

namespace AiOps.Cli.Commands;

/// <summary><c>aiops db migrate</c>: applies the schema the server also applies at start-up (idempotent).</summary>
public sealed class DbMigrateCommand : ICommand
{
    public string Name => "db migrate";
    public string Summary => "Create or upgrade the database schema (SQLite file or PostgreSQL)";
    public string Usage => "[--sqlite PATH (default ./data/aiops.db) | --postgres CONNECTION_STRING (or AIOPS_POSTGRES)]";

    public async Task<int> RunAsync(CommandArgs args, CancellationToken cancellationToken)
    {
        var postgres = args.Get("postgres") ?? (args.Has("sqlite") ? null : Environment.GetEnvironmentVariable("AIOPS_POSTGRES"));
        MigrationResult result;
        if (postgres is not null)
        {
            result = await DatabaseMigrator.MigratePostgresAsync(postgres, cancellationToken);
            Console.WriteLine("PostgreSQL schema:");
        }
        else
        {
            var path = Path.GetFullPath(args.Get("sqlite") ?? Path.Combine("data", "aiops.db"));
            result = await DatabaseMigrator.MigrateSqliteAsync($"Data Source={path};Default Timeout=30", cancellationToken);
            Console.WriteLine($"SQLite database {path}:");
        }
        Console.WriteLine(result.AppliedNow.Count == 0
            ? $"  up to date at version {result.CurrentVersion}"
            : $"  applied {string.Join(", ", result.AppliedNow)}; now at version {result.CurrentVersion}");
        Console.WriteLine($"  {result.OrleansQueryKeys.Count} Orleans queries registered");
        return 0;
    }
}

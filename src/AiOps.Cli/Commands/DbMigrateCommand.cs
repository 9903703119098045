using System.CommandLine;
using AiOps.Storage;

namespace AiOps.Cli.Commands;

/// <summary><c>aiops db migrate</c>: applies the schema the server also applies at start-up (idempotent).</summary>
public static class DbMigrateCommand
{
    public static Command Create()
    {
        var sqlite = new Option<string?>("--sqlite") { Description = "SQLite database file (default ./data/aiops.db)", HelpName = "PATH" };
        var postgres = new Option<string?>("--postgres") { Description = "PostgreSQL connection string (default: AIOPS_POSTGRES)", HelpName = "CONNECTION_STRING" };
        var command = new Command("migrate", "Create or upgrade the database schema (SQLite file or PostgreSQL)") { sqlite, postgres };
        command.SetUsageAction((r, ct) => RunAsync(r.GetValue(sqlite), r.GetValue(postgres), r.GetResult(sqlite) is not null, ct));
        return command;
    }

    private static async Task<int> RunAsync(string? sqlitePath, string? postgresOption, bool sqliteGiven, CancellationToken cancellationToken)
    {
        var postgres = postgresOption ?? (sqliteGiven ? null : Environment.GetEnvironmentVariable("AIOPS_POSTGRES"));
        MigrationResult result;
        if (postgres is not null)
        {
            result = await DatabaseMigrator.MigratePostgresAsync(postgres, cancellationToken);
            Console.WriteLine("PostgreSQL schema:");
        }
        else
        {
            var path = Path.GetFullPath(sqlitePath ?? Path.Combine("data", "aiops.db"));
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

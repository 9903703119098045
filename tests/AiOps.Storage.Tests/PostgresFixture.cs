using AiOps.Testing;

namespace AiOps.Storage.Tests;

/// <summary>One throwaway PostgreSQL server shared by the tests of the "postgres" collection.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;
    private int _databases;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("Server not started.");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A new empty database with a unique name.</summary>
    public Task<string> NewDatabaseAsync(string prefix) =>
        Server.CreateDatabaseAsync($"{prefix}_{Interlocked.Increment(ref _databases)}");

    /// <summary>A new database with the project's migrations applied.</summary>
    public async Task<string> NewMigratedDatabaseAsync(string prefix)
    {
        var cs = await NewDatabaseAsync(prefix);
        await DatabaseMigrator.MigratePostgresAsync(cs, CancellationToken.None);
        return cs;
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

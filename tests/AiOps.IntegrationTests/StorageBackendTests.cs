using System.Net;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Testing;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>Grain storage is chosen apart from the topology: one embedded process can keep its state in PostgreSQL.</summary>
public sealed class StorageBackendTests
{
    private static Dictionary<string, string> Environment(string data, string? postgres, string mode = "Embedded", string storage = "Postgres")
    {
        var env = new Dictionary<string, string>
        {
            ["AiOps__Mode"] = mode,
            ["AiOps__Storage"] = storage,
            ["AiOps__DataDirectory"] = data,
            ["AiOps__SiloPort"] = FreePorts.Next().ToString(),
            ["AiOps__GatewayPort"] = FreePorts.Next().ToString(),
        };
        if (postgres is not null) env["AiOps__PostgresConnectionString"] = postgres;
        return env;
    }

    [Fact]
    public async Task AnEmbeddedProcessKeepsItsStateInPostgresAndAnotherDataFolderFindsIt()
    {
        await using var pg = await PostgresServer.StartAsync();
        var cs = await pg.CreateDatabaseAsync("aiops_embedded");
        var first = TempDirectory.Create("aiops-pg-embedded-1");
        string key;
        await using (var server = await ServerProcess.StartAsync(Environment(first, cs), TimeSpan.FromSeconds(120)))
        {
            key = (await File.ReadAllTextAsync(Path.Combine(first, "bootstrap-admin.key"))).Trim();
            server.Client.DefaultRequestHeaders.Authorization = new("Bearer", key);
            Assert.Equal(HttpStatusCode.OK, (await server.Client.PutJson("/api/v1/pipelines/pg-etl", new { team = "data" })).StatusCode);
            await server.Client.PostTelemetry(
                Event("pipeline", "pg-etl", "run.success", 1, DateTimeOffset.UtcNow.AddMinutes(-3)),
                Event("pipeline", "pg-etl", "rows.out", 40, DateTimeOffset.UtcNow.AddMinutes(-3)),
                Event("pipeline", "pg-etl", "rows.out", 2, DateTimeOffset.UtcNow.AddMinutes(-2)));
            await Eventually.Until(() => server.Client.GetJsonOrNull("/api/v1/pipelines/pg-etl"), j => j?["eventsApplied"]?.GetValue<long>() == 3);
            await server.StopAsync();
        }
        Assert.False(File.Exists(Path.Combine(first, "aiops.db")), "no SQLite file: the state went to PostgreSQL");

        // A fresh data folder (the ingest log is empty there): everything comes back from PostgreSQL, keys included.
        var second = TempDirectory.Create("aiops-pg-embedded-2");
        await using var again = await ServerProcess.StartAsync(Environment(second, cs), TimeSpan.FromSeconds(120));
        again.Client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var pipeline = await again.Client.GetJsonOrNull("/api/v1/pipelines/pg-etl");
        Assert.NotNull(pipeline);
        Assert.Equal(3, pipeline!["eventsApplied"]!.GetValue<long>());
        Assert.Equal("data", (string)pipeline["metadata"]!["team"]!);
        Assert.Equal(42.0, (double)pipeline["pipeline"]!["rowsOutTotal"]!);
    }

    [Fact]
    public async Task AClusterOnSqliteIsRefusedAtStartWithTheReason()
    {
        var data = TempDirectory.Create("aiops-cluster-sqlite");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServerProcess.StartAsync(Environment(data, "Host=127.0.0.1;Port=1;Username=postgres", mode: "Cluster", storage: "Sqlite"), TimeSpan.FromSeconds(60)));
        Assert.Contains("cannot serve a cluster", ex.Message);
    }
}

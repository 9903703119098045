using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Streams;

namespace AiOps.Storage.Tests;

[Collection("postgres")]
public sealed class PostgresTests(PostgresFixture fixture)
{
    private static readonly string[] ExpectedKeys =
    [
        "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey", "ClearStorageKey", "ConfirmStreamMessagesKey",
        "DeleteMembershipTableEntriesKey", "DeleteReminderRowKey", "DeleteReminderRowsKey", "DeleteStorageKey",
        "EvictStreamDeadLettersKey", "EvictStreamMessagesKey", "FailStreamMessageKey", "GatewaysQueryKey",
        "GetStreamMessagesKey", "InsertMembershipKey", "InsertMembershipVersionKey", "MembershipReadAllKey",
        "MembershipReadRowKey", "QueueStreamMessageKey", "ReadFromStorageKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "ReadReminderRowKey", "ReadReminderRowsKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey", "UpsertReminderRowKey",
        "WriteToStorageKey",
    ];

    [Fact]
    public async Task MigrateTwiceAndConcurrentlyIsIdempotent()
    {
        var cs = await fixture.NewDatabaseAsync("migrate");

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => DatabaseMigrator.MigratePostgresAsync(cs, CancellationToken.None))));
        var again = await DatabaseMigrator.MigratePostgresAsync(cs, CancellationToken.None);

        var all = DatabaseMigrator.GetMigrations(DatabaseProvider.Postgres).Select(m => m.Version).ToArray();
        Assert.Equal(all, concurrent.SelectMany(r => r.AppliedNow).Order().ToArray());
        Assert.Empty(again.AppliedNow);
        Assert.Equal(all.Max(), again.CurrentVersion);
        Assert.Equal(ExpectedKeys.Order(StringComparer.Ordinal), again.OrleansQueryKeys.Order(StringComparer.Ordinal));
        Assert.Equal(all.Length, await ScalarAsync<long>(cs, $"SELECT count(*) FROM {DatabaseMigrator.HistoryTable}"));
    }

    [Fact]
    public async Task TwoSilosFormOneClusterClientConnectsAndDeadSiloIsCleanedUp()
    {
        var cs = await fixture.NewMigratedDatabaseAsync("cluster");
        var a = await SiloHost.StartPostgresSiloAsync(cs, "cluster-a", "silo-a");
        IHost? b = null;
        try
        {
            b = await SiloHost.StartPostgresSiloAsync(cs, "cluster-a", "silo-b");

            await SiloHost.EventuallyAsync(
                () => ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = 'cluster-a' AND Status = 3"),
                n => n == 2, TimeSpan.FromSeconds(30), "two Active rows");
            foreach (var host in new[] { a, b })
            {
                var management = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
                await SiloHost.EventuallyAsync(async () => (await management.GetHosts(onlyActive: true)).Count, n => n == 2,
                    TimeSpan.FromSeconds(30), "both silos to see two active hosts");
            }

            Assert.Equal(new[] { "silo-a", "silo-b" }, await ReadColumnAsync(cs, "SELECT SiloName FROM OrleansMembershipTable ORDER BY SiloName"));

            // An external client finds the gateways through GatewaysQueryKey and calls a grain.
            var clientBuilder = Host.CreateApplicationBuilder();
            clientBuilder.Logging.ClearProviders();
            clientBuilder.UseOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(o => { o.ClusterId = "cluster-a"; o.ServiceId = SiloHost.ServiceId; });
                client.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = cs; });
            });
            using (var clientHost = clientBuilder.Build())
            {
                await clientHost.StartAsync();
                var grain = clientHost.Services.GetRequiredService<IClusterClient>().GetGrain<ICounterGrain>("via-client");
                await grain.Set(5, "client");
                Assert.Equal(5, (await grain.Get()).Value);
                await clientHost.StopAsync();
            }

            // Graceful stop marks silo-b Dead (6); the defunct cleanup then removes its row.
            await SiloHost.StopAsync(b);
            b = null;
            await SiloHost.EventuallyAsync(
                () => ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansMembershipTable WHERE SiloName = 'silo-b' AND Status = 6"),
                n => n == 1, TimeSpan.FromSeconds(30), "silo-b marked Dead");

            var table = a.Services.GetRequiredService<IMembershipTable>();
            await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(1));
            Assert.Equal(new[] { "silo-a" }, await ReadColumnAsync(cs, "SELECT SiloName FROM OrleansMembershipTable"));
        }
        finally
        {
            if (b is not null)
            {
                await SiloHost.StopAsync(b);
            }

            await SiloHost.StopAsync(a);
        }
    }

    [Fact]
    public async Task GrainStateOnPostgresSurvivesRestartAndMeetsEtagContract()
    {
        var cs = await fixture.NewMigratedDatabaseAsync("persist");
        var host = await SiloHost.StartPostgresSiloAsync(cs, "persist", "silo-p1");
        try
        {
            await host.Services.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>("model-9").Set(9, "pg");
            await StorageContract.AssertEtagConflictsAndDeleteAsync(host.Services);
        }
        finally
        {
            await SiloHost.StopAsync(host);
        }

        Assert.Equal("""{"Value":9,"Label":"pg"}""",
            await ScalarAsync<string>(cs, "SELECT convert_from(PayloadBinary, 'UTF8') FROM OrleansStorage WHERE GrainIdExtensionString = 'model-9'"));

        host = await SiloHost.StartPostgresSiloAsync(cs, "persist", "silo-p2");
        try
        {
            var grain = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>("model-9");
            Assert.Equal(9, (await grain.Get()).Value);
            await grain.Clear();
            Assert.False(await grain.Exists());
        }
        finally
        {
            await SiloHost.StopAsync(host);
        }
    }

    [Fact]
    public async Task ReminderIsStoredFiresAndIsRemoved()
    {
        var cs = await fixture.NewMigratedDatabaseAsync("remind");
        var host = await SiloHost.StartPostgresSiloAsync(cs, "remind", "silo-r");
        try
        {
            var key = "rem-" + Guid.NewGuid().ToString("N");
            var grain = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IReminderProbeGrain>(key);
            await grain.Start(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansRemindersTable WHERE ReminderName = 'probe'"));

            await SiloHost.EventuallyAsync(() => Task.FromResult(ReminderProbeGrain.Ticks.GetValueOrDefault(key)), n => n >= 1,
                TimeSpan.FromSeconds(30), "the reminder to fire");

            await grain.Stop();
            Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansRemindersTable"));
        }
        finally
        {
            await SiloHost.StopAsync(host);
        }
    }

    [Fact]
    public async Task AdoNetStreamDeliversBatchesToImplicitSubscriberAndConfirms()
    {
        var cs = await fixture.NewMigratedDatabaseAsync("streams");
        var host = await SiloHost.StartPostgresSiloAsync(cs, "streams", "silo-s");
        try
        {
            var key = "pipe-" + Guid.NewGuid().ToString("N");
            var provider = host.Services.GetRequiredService<IClusterClient>().GetStreamProvider(StreamNames.Provider);
            var stream = provider.GetStream<int>(StreamId.Create(StreamNames.Namespace, key));
            await stream.OnNextBatchAsync(Enumerable.Range(1, 100).ToList());
            await stream.OnNextBatchAsync(Enumerable.Range(101, 100).ToList());

            var sink = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IStreamSinkGrain>(key);
            var received = await SiloHost.EventuallyAsync(() => sink.Received(), r => r.Count >= 200,
                TimeSpan.FromSeconds(30), "200 stream items");
            Assert.Equal(Enumerable.Range(1, 200), received.Distinct().Order());

            // Delivered messages are confirmed (deleted); nothing is dead-lettered.
            await SiloHost.EventuallyAsync(() => ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansStreamMessage"), n => n == 0,
                TimeSpan.FromSeconds(30), "stream messages to be confirmed");
            Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansStreamDeadLetter"));
        }
        finally
        {
            await SiloHost.StopAsync(host);
        }
    }

    [Fact]
    public async Task StreamFailureAndEvictionQueriesDeadLetterAndPurge()
    {
        var cs = await fixture.NewMigratedDatabaseAsync("streamsql");
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        var queries = new Dictionary<string, string>();
        await using (var cmd = new NpgsqlCommand("SELECT QueryKey, QueryText FROM OrleansQuery", connection))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                queries[reader.GetString(0)] = reader.GetString(1);
            }
        }

        NpgsqlCommand Command(string key, params (string Name, object Value)[] args)
        {
            var command = new NpgsqlCommand(queries[key], connection);
            command.Parameters.AddWithValue("ServiceId", "svc");
            command.Parameters.AddWithValue("ProviderId", "prov");
            command.Parameters.AddWithValue("QueueId", "q0");
            foreach (var (name, value) in args)
            {
                command.Parameters.AddWithValue(name, value);
            }

            return command;
        }

        long id;
        await using (var enqueue = Command("QueueStreamMessageKey", ("Payload", new byte[] { 1, 2 }), ("ExpiryTimeout", 600)))
        {
            await using var reader = await enqueue.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            id = (long)reader["MessageId"];
        }

        async Task<int> LeaseAsync(int maxAttempts)
        {
            await using var get = Command("GetStreamMessagesKey", ("MaxCount", 10), ("MaxAttempts", maxAttempts), ("VisibilityTimeout", 60),
                ("RemovalTimeout", 0), ("EvictionInterval", 0), ("EvictionBatchSize", 100));
            var n = 0;
            await using var reader = await get.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                n++;
            }

            return n;
        }

        Assert.Equal(1, await LeaseAsync(2));
        Assert.Equal(0, await LeaseAsync(2)); // leased: invisible for 60 s

        // A stale receipt confirms nothing; a release makes it visible again.
        await using (var stale = Command("ConfirmStreamMessagesKey", ("Items", $"{id}:7")))
        {
            Assert.Null(await stale.ExecuteScalarAsync());
        }

        await using (var release = Command("ConfirmStreamMessagesKey", ("Items", $"{id}:-1")))
        {
            Assert.Equal("svc", await release.ExecuteScalarAsync());
        }

        Assert.Equal(1, await LeaseAsync(2)); // Dequeued = 2 = MaxAttempts now

        // Failing a message that used all attempts moves it to dead letters.
        await using (var fail = Command("FailStreamMessageKey", ("MessageId", id), ("MaxAttempts", 2), ("RemovalTimeout", 0)))
        {
            await fail.ExecuteNonQueryAsync();
        }

        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansStreamMessage"));
        Assert.Equal(1, await ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansStreamDeadLetter"));

        // The next poll runs eviction (interval 0) and purges the dead letter whose RemoveOn has passed.
        await Task.Delay(50);
        Assert.Equal(0, await LeaseAsync(2));
        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansStreamDeadLetter"));

        // The standalone eviction keys run too (provider requires them to exist).
        await using (var evict = Command("EvictStreamMessagesKey", ("MaxCount", 10), ("MaxAttempts", 2), ("RemovalTimeout", 0)))
        {
            await evict.ExecuteNonQueryAsync();
        }

        await using (var purge = Command("EvictStreamDeadLettersKey", ("MaxCount", 10)))
        {
            await purge.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task TimestampsStayUtcWhenDatabaseTimezoneIsNotUtc()
    {
        var cs = await fixture.NewDatabaseAsync("tz");
        var database = new NpgsqlConnectionStringBuilder(cs).Database;
        await using (var admin = new NpgsqlConnection(fixture.Server.ConnectionString))
        {
            await admin.OpenAsync();
            await using var alter = new NpgsqlCommand($"ALTER DATABASE \"{database}\" SET timezone = 'Pacific/Chatham'", admin);
            await alter.ExecuteNonQueryAsync();
        }

        Assert.Equal("Pacific/Chatham", await ScalarAsync<string>(cs, "SHOW timezone"));
        await DatabaseMigrator.MigratePostgresAsync(cs, CancellationToken.None);
        var host = await SiloHost.StartPostgresSiloAsync(cs, "tz", "silo-tz");
        try
        {
            var key = "tz-" + Guid.NewGuid().ToString("N");
            await host.Services.GetRequiredService<IGrainFactory>().GetGrain<IReminderProbeGrain>(key).Start(TimeSpan.FromMinutes(5));

            // Orleans binds DateTime parameters as DbType.DateTime; they must land as the right instant.
            var aliveSkew = await ScalarAsync<double>(cs, "SELECT abs(extract(epoch FROM now() - IAmAliveTime))::float8 FROM OrleansMembershipTable");
            var startSkew = await ScalarAsync<double>(cs, "SELECT abs(extract(epoch FROM now() - StartTime))::float8 FROM OrleansMembershipTable");
            var reminderSkew = await ScalarAsync<double>(cs, "SELECT abs(extract(epoch FROM StartTime - now()) - 300)::float8 FROM OrleansRemindersTable");
            Assert.True(aliveSkew < 120, $"IAmAliveTime off by {aliveSkew} s");
            Assert.True(startSkew < 120, $"StartTime off by {startSkew} s");
            Assert.True(reminderSkew < 120, $"reminder StartTime off by {reminderSkew} s");

            var membership = host.Services.GetRequiredService<IMembershipTable>();
            var snapshot = await membership.ReadAllAsync();
            var self = Assert.Single(snapshot.Members).Item1;
            Assert.True(Math.Abs((DateTime.UtcNow - self.StartTime).TotalSeconds) < 120, $"read-back StartTime {self.StartTime:O}");
            await host.Services.GetRequiredService<IGrainFactory>().GetGrain<IReminderProbeGrain>(key).Stop();
        }
        finally
        {
            await SiloHost.StopAsync(host);
        }
    }

    private static async Task<T> ScalarAsync<T>(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<string[]> ReadColumnAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<string>();
        while (await reader.ReadAsync())
        {
            list.Add(reader.GetString(0));
        }

        return [.. list];
    }
}

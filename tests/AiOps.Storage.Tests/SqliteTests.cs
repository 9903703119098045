using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Storage;

namespace AiOps.Storage.Tests;

public sealed class SqliteTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "aiops-sqlite-" + Guid.NewGuid().ToString("N")[..12]);

    // Parent directories deliberately do not exist yet: the migrator must create them.
    private string NewConnectionString(string name) =>
        new SqliteConnectionStringBuilder { DataSource = Path.Combine(_root, "nested", name + ".db"), DefaultTimeout = 30 }.ToString();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task MigrateTwiceCreatesDirectoryUsesWalAndSecondRunIsNoop()
    {
        var cs = NewConnectionString("twice");

        var first = await DatabaseMigrator.MigrateSqliteAsync(cs, CancellationToken.None);
        var second = await DatabaseMigrator.MigrateSqliteAsync(cs, CancellationToken.None);

        var all = DatabaseMigrator.GetMigrations(DatabaseProvider.Sqlite).Select(m => m.Version).ToArray();
        Assert.Equal(all, first.AppliedNow);
        Assert.Empty(second.AppliedNow);
        Assert.Equal(all.Max(), second.CurrentVersion);
        Assert.Equal(new[] { "ClearStorageKey", "DeleteStorageKey", "ReadFromStorageKey", "WriteToStorageKey" }, second.OrleansQueryKeys);

        await using var connection = new SqliteConnection(cs);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = $"SELECT count(*) FROM {DatabaseMigrator.HistoryTable};";
        Assert.Equal((long)all.Length, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task ConcurrentMigratorsOnOneFileApplyEachMigrationOnce()
    {
        var cs = NewConnectionString("concurrent");

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => DatabaseMigrator.MigrateSqliteAsync(cs, CancellationToken.None))));

        var all = DatabaseMigrator.GetMigrations(DatabaseProvider.Sqlite).Select(m => m.Version).ToArray();
        Assert.Equal(all, results.SelectMany(r => r.AppliedNow).Order().ToArray());
        Assert.All(results, r => Assert.Equal(4, r.OrleansQueryKeys.Count));
    }

    [Fact]
    public async Task GrainStateOnSqliteSurvivesSiloRestartAndClears()
    {
        var cs = NewConnectionString("grains");
        await DatabaseMigrator.MigrateSqliteAsync(cs, CancellationToken.None);

        var host = await SiloHost.StartSqliteSiloAsync(cs);
        try
        {
            var grain = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>("pipeline-1");
            await grain.Set(41, "first");
            await grain.Set(42, "second");
        }
        finally
        {
            await SiloHost.StopAsync(host);
        }

        // The payload is plain System.Text.Json (no $type), one row per grain, version bumped per write.
        await using (var connection = new SqliteConnection(cs))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT CAST(PayloadBinary AS TEXT), Version, GrainIdExtensionString FROM OrleansStorage";
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("""{"Value":42,"Label":"second"}""", reader.GetString(0));
            Assert.Equal(2, reader.GetInt32(1));
            Assert.Equal("pipeline-1", reader.GetString(2));
            Assert.False(await reader.ReadAsync());
        }

        host = await SiloHost.StartSqliteSiloAsync(cs);
        try
        {
            var grain = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>("pipeline-1");
            var state = await grain.Get();
            Assert.Equal(42, state.Value);
            Assert.Equal("second", state.Label);

            await grain.Clear();
            Assert.False(await grain.Exists());
            await grain.Deactivate();
            await Task.Delay(200);
            Assert.Equal(0, (await grain.Get()).Value);
            Assert.False(await grain.Exists());

            // Written again after a clear: the etag chain continues on the kept row.
            await grain.Set(7, "again");
            Assert.Equal(7, (await grain.Get()).Value);

            await StorageContract.AssertEtagConflictsAndDeleteAsync(host.Services);
        }
        finally
        {
            await SiloHost.StopAsync(host);
        }
    }
}

/// <summary>Checks the provider contract directly through IGrainStorage (same code path grains use).</summary>
internal static class StorageContract
{
    public static async Task AssertEtagConflictsAndDeleteAsync(IServiceProvider services)
    {
        var storage = services.GetRequiredKeyedService<IGrainStorage>("Default");
        var grainId = GrainId.Create("contract", "g-" + Guid.NewGuid().ToString("N"));
        const string type = "contract";

        var first = new GrainState<CounterState>(new CounterState { Value = 1 });
        await storage.WriteStateAsync(type, grainId, first);
        Assert.Equal("1", first.ETag);

        // A second writer that never read (etag null) must conflict: the row exists.
        var blind = new GrainState<CounterState>(new CounterState { Value = 99 });
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(type, grainId, blind));

        await storage.WriteStateAsync(type, grainId, first);
        Assert.Equal("2", first.ETag);

        // A stale etag must conflict.
        var stale = new GrainState<CounterState>(new CounterState { Value = 5 }) { ETag = "1" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(type, grainId, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(type, grainId, stale));

        // An etag for a row that does not exist must conflict too (no silent resurrection).
        var ghost = new GrainState<CounterState>(new CounterState()) { ETag = "3" };
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(type, GrainId.Create("contract", "ghost-" + Guid.NewGuid().ToString("N")), ghost));

        var read = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(type, grainId, read);
        Assert.Equal(1, read.State!.Value);
        Assert.Equal("2", read.ETag);
        Assert.True(read.RecordExists);

        // DeleteStateOnClear = true uses DeleteStorageKey: the row goes away and the etag resets.
        var deleting = services.GetRequiredKeyedService<IGrainStorage>("Deleting");
        var doomedId = GrainId.Create("contract", "doomed-" + Guid.NewGuid().ToString("N"));
        var doomed = new GrainState<CounterState>(new CounterState { Value = 3 });
        await deleting.WriteStateAsync(type, doomedId, doomed);
        await deleting.ClearStateAsync(type, doomedId, doomed);
        Assert.Null(doomed.ETag);
        var afterDelete = new GrainState<CounterState>(new CounterState());
        await deleting.ReadStateAsync(type, doomedId, afterDelete);
        Assert.False(afterDelete.RecordExists);
        Assert.Null(afterDelete.ETag);
        afterDelete.State ??= new CounterState();
        await deleting.WriteStateAsync(type, doomedId, afterDelete);
        Assert.Equal("1", afterDelete.ETag);
    }
}

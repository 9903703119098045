using AiOps.Abstractions;
using AiOps.Abstractions.Focus;
using AiOps.Grains.Focus;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace AiOps.IntegrationTests.Focus;

/// <summary>
/// The import ledger on an in-process cluster with a scripted sink: when sending fails (ingestion busy, or a crash before
/// the commit), the pending generation is sent again under the same event ids before the next import's differences, so a
/// receiver that drops ids it has seen ends with the latest file's totals, never with a difference counted twice.
/// </summary>
public sealed class FocusLedgerTests : IAsyncLifetime
{
    /// <summary>Records what it is sent; refuses while <see cref="Busy"/> (after keeping what it took, like a crash after the log).</summary>
    public sealed class ScriptedSink : IFocusCostSink
    {
        public List<FocusCostPoint> Sent { get; } = [];
        public bool Busy { get; set; }
        public bool KeepWhenBusy { get; set; }

        public Task<bool> SendAsync(IReadOnlyList<FocusCostPoint> points, CancellationToken cancellationToken)
        {
            lock (Sent)
            {
                if (Busy && !KeepWhenBusy) return Task.FromResult(false);
                Sent.AddRange(points);
                return Task.FromResult(!Busy);
            }
        }

        /// <summary>What an entity holds after dropping ids it has seen.</summary>
        public double AppliedTotal() { lock (Sent) return Sent.DistinctBy(p => (p.Kind, p.EntityId, p.EventIdHash)).Sum(p => p.Value); }
    }

    private readonly ScriptedSink Sink = new(); // one cluster per test case (IAsyncLifetime on the test class)
    private InProcessTestCluster _host = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Entities);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<IFocusCostSink>(Sink);
        });
        _host = builder.Build();
        await _host.DeployAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static FocusPeriodImport Import(params (string Id, double Amount)[] lines) => new(
        new FocusPeriodSummary { BillingAccountId = "acct", BilledCost = lines.Sum(l => l.Amount) },
        lines.Select(l => new FocusCostLine(EntityKind.CostCenter, l.Id, "EC2", 1_725_148_800_000L, l.Amount)).ToArray());

    [Theory]
    [InlineData(false)] // busy: nothing of the attempt was taken
    [InlineData(true)]  // the attempt's points were taken, but the commit never happened (a crash after the log)
    public async Task AnInterruptedImportIsSentAgainUnderItsIdsAndNeverCountsTwice(bool taken)
    {
        var ledger = _host.Client.GetGrain<IFocusPeriodGrain>($"2024-09-01|acct-{taken}");
        Sink.Busy = false;
        var first = await ledger.ImportAsync(Import(("a", 10), ("b", 5)));
        Assert.True(first.Applied);

        Sink.Busy = true;
        Sink.KeepWhenBusy = taken;
        var interrupted = await ledger.ImportAsync(Import(("a", 20), ("b", 5)));
        Assert.False(interrupted.Applied);
        Assert.Equal(15, (await ledger.GetSummaryAsync())!.BilledCost); // the committed summary is still the first import's

        Sink.Busy = false;
        var next = await ledger.ImportAsync(Import(("a", 20), ("c", 1)));
        Assert.True(next.Applied);
        Assert.Equal(1, next.PointsResent); // the pending generation's one difference (a: +10), under its ids
        Assert.Equal(21, (await ledger.GetSummaryAsync())!.BilledCost);
        // A receiver that drops ids it has seen holds the latest file's total: 20 + 1, not 20 + 10 + 1.
        Assert.Equal(21, Sink.AppliedTotal());
    }
}

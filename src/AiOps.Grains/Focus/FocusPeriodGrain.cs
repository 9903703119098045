using AiOps.Abstractions;
using AiOps.Abstractions.Focus;
using Orleans.Runtime;

namespace AiOps.Grains.Focus;

/// <summary>
/// The import ledger of one billing account's billing period. Providers restate bills, so an import replaces the
/// period: the ledger keeps what the last import contributed per (entity, service, day) and sends the entities only
/// the differences (negative where the new file has less), making their totals equal the latest file.
/// <para>
/// Order, so that a crash never counts twice: (1) write the new lines as <em>pending</em> with a new generation,
/// (2) send the differences through the durable ingest path with event ids derived from (period, generation, line),
/// (3) commit (pending becomes the base). A crash or a busy ingest path between (1) and (3) leaves the pending
/// generation; the next import first sends it again under the same ids (entities drop ids they have seen), commits
/// it, and only then computes its own differences. Grain calls are serialised, so imports of a period never interleave.
/// </para>
/// </summary>
[GrainType("focusperiod")]
public sealed class FocusPeriodGrain(
    [PersistentState("focusperiod", StorageNames.Entities)] IPersistentState<FocusPeriodState> state,
    IFocusCostSink sink,
    TimeProvider time) : Grain, IFocusPeriodGrain
{
    private FocusPeriodSummary? _committed;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _committed = state.State.Summary;
        return Task.CompletedTask;
    }

    public Task<FocusPeriodSummary?> GetSummaryAsync() => Task.FromResult(_committed);

    public async Task<FocusPeriodOutcome> ImportAsync(FocusPeriodImport import)
    {
        var key = this.GetPrimaryKeyString();
        await GrainFactory.GetGrain<IFocusCatalogGrain>(IFocusCatalogGrain.DefaultKey).RegisterAsync(key);

        var resent = 0;
        if (state.State.PendingGeneration != 0)
        {
            var recovered = await SendPendingAsync(key);
            if (recovered < 0)
                return new FocusPeriodOutcome(false, state.State.Generation, false, 0, 0, "Ingestion is busy; an earlier import of this period is still pending. Retry later.");
            resent = recovered;
        }

        var generation = state.State.Generation + 1;
        var summary = import.Summary with { Generation = generation, ImportedAt = time.GetUtcNow().UtcDateTime };
        List<FocusCostLine> lines = [.. import.Lines];
        if (Differences(key, generation, state.State.Lines, lines, summary.Currency).Count == 0)
        {
            // Nothing to send (the same file again): commit at once, one write instead of pending + commit.
            state.State.Lines = lines;
            state.State.Summary = summary;
            state.State.Generation = generation;
            await state.WriteStateAsync();
            _committed = summary;
            return new FocusPeriodOutcome(true, generation, generation > 1, 0, resent);
        }
        state.State.PendingGeneration = generation;
        state.State.PendingLines = lines;
        state.State.PendingSummary = summary;
        await state.WriteStateAsync();

        var sent = await SendPendingAsync(key);
        if (sent < 0)
            return new FocusPeriodOutcome(false, state.State.Generation, false, 0, resent,
                "Ingestion is busy; nothing of this period was applied. Retry the import later (it replaces the period).");
        return new FocusPeriodOutcome(true, generation, generation > 1, sent, resent);
    }

    /// <summary>Sends the pending generation's differences against the committed lines, then commits. -1: ingestion busy.</summary>
    private async Task<int> SendPendingAsync(string key)
    {
        var s = state.State;
        var points = Differences(key, s.PendingGeneration, s.Lines, s.PendingLines ?? [], s.PendingSummary?.Currency ?? "USD");
        if (points.Count > 0 && !await sink.SendAsync(points, CancellationToken.None)) return -1;

        s.Lines = s.PendingLines ?? [];
        s.Summary = s.PendingSummary;
        s.Generation = s.PendingGeneration;
        s.PendingGeneration = 0;
        s.PendingLines = null;
        s.PendingSummary = null;
        await state.WriteStateAsync();
        _committed = s.Summary;
        return points.Count;
    }

    /// <summary>new − old per line; lines only in the old import get their negation. Ids: (period, generation, line).</summary>
    internal static List<FocusCostPoint> Differences(string periodKey, int generation, List<FocusCostLine> previous, List<FocusCostLine> next, string currency)
    {
        var delta = new Dictionary<(EntityKind, string, string, long), double>(next.Count);
        foreach (var l in next)
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(delta, (l.Kind, l.EntityId, l.Service, l.DayMs), out _) += l.Amount;
        foreach (var l in previous)
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(delta, (l.Kind, l.EntityId, l.Service, l.DayMs), out _) -= l.Amount;

        var points = new List<FocusCostPoint>();
        foreach (var ((kind, id, service, day), amount) in delta)
        {
            if (amount == 0) continue;
            var eventId = TelemetryPoint.HashId($"focus|{periodKey}|{generation}|{kind.ToWire()}|{id}|{service}|{day}");
            points.Add(new FocusCostPoint(kind, id, amount, day, eventId, service, currency));
        }
        return points;
    }
}

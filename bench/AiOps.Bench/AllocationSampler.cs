using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace AiOps.Bench;

/// <summary>
/// Diagnostics (<c>--alloc-types</c>): the runtime's allocation sampling (an AllocationTick event about every
/// 100 KB allocated) aggregated by type, to see which types the real path allocates beyond the parse-only one.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick at verbose level
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    public void Reset() => _bytes.Clear();

    public void Print(string title, long events, int top = 25)
    {
        Console.WriteLine($"{title}: sampled allocations by type (bytes per event)");
        foreach (var (type, bytes) in _bytes.OrderByDescending(kv => kv.Value).Take(top))
            Console.WriteLine($"  {bytes / (double)events,8:F1}  {type}");
    }
}

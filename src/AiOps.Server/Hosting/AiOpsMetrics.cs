using System.Diagnostics.Metrics;

namespace AiOps.Server.Hosting;

/// <summary>The application's own OpenTelemetry instruments (meter <c>AiOps</c>).</summary>
public sealed class AiOpsMetrics
{
    public const string MeterName = "AiOps";
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _published;
    private readonly Counter<long> _streamMessages;

    public AiOpsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("aiops.telemetry.events.accepted", "{event}", "Telemetry events accepted by the API.");
        _rejected = meter.CreateCounter<long>("aiops.telemetry.events.rejected", "{event}", "Telemetry events rejected, by the field at fault.");
        _published = meter.CreateCounter<long>("aiops.telemetry.events.published", "{event}", "Telemetry events handed to the entity streams.");
        _streamMessages = meter.CreateCounter<long>("aiops.telemetry.stream.batches", "{batch}", "Per-entity batches published to the streams.");
        Meter = meter;
    }

    public Meter Meter { get; }

    public void Accepted(int count) => _accepted.Add(count);

    public void Rejected(string field, int count) => _rejected.Add(count, new KeyValuePair<string, object?>("reason", field));

    public void Published(int events, int batches)
    {
        _published.Add(events);
        _streamMessages.Add(batches);
    }
}

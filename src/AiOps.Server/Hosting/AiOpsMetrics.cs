using System.Diagnostics.Metrics;
using AiOps.Grains.Entities;

namespace AiOps.Server.Hosting;

/// <summary>
/// The application's own OpenTelemetry instruments (meter <c>AiOps</c>). Other parts of the application
/// (grains, alerting) create instruments on a meter of the same name; the OpenTelemetry registration
/// listens to the name, so all of them are exported together.
/// </summary>
public sealed class AiOpsMetrics
{
    public const string MeterName = "AiOps";
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _published;
    private readonly Counter<long> _streamMessages;
    private readonly IngestionProgress _progress;

    public AiOpsMetrics(IMeterFactory meterFactory, IngestionProgress progress)
    {
        _progress = progress;
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("aiops.telemetry.events.accepted", "{event}", "Telemetry events accepted by the API.");
        _rejected = meter.CreateCounter<long>("aiops.telemetry.events.rejected", "{event}", "Telemetry events rejected, by the field at fault.");
        _published = meter.CreateCounter<long>("aiops.telemetry.events.published", "{event}", "Telemetry events handed to the entity streams.");
        _streamMessages = meter.CreateCounter<long>("aiops.telemetry.stream.batches", "{batch}", "Per-entity batches published to the streams.");
        // Per process. Embedded mode: the exact backlog. Cluster mode: grains apply events other silos published,
        // so the cluster-wide backlog is sum(events.published) - sum(events.consumed), not a sum of this gauge.
        meter.CreateObservableCounter("aiops.telemetry.events.consumed", () => _progress.Consumed, "{event}",
            "Telemetry events taken off the streams by this silo's entity grains.");
        meter.CreateObservableGauge("aiops.telemetry.stream.backlog", () => _progress.Backlog, "{event}",
            "Events published by this silo and not yet taken off the streams by its grains (exact in embedded mode; in a cluster use published - consumed summed over silos).");
        meter.CreateObservableGauge("aiops.telemetry.stream.lag", ObserveLag, "ms",
            "Mean delay from publishing a batch to an entity grain taking it, over the batches consumed since the previous collection.");
        Meter = meter;
    }

    public Meter Meter { get; }

    private Histogram<double>? _logWriteMs;
    private Counter<long>? _logBytes;

    /// <summary>Instruments of the ingest log (embedded mode): size, positions, write latency.</summary>
    public void ObserveIngestLog(Ingestion.Durability.IngestLog log)
    {
        _logWriteMs = Meter.CreateHistogram<double>("aiops.ingest_log.write.duration", "ms", "Time to append and fsync one group-commit record of the ingest log.");
        _logBytes = Meter.CreateCounter<long>("aiops.ingest_log.written", "By", "Bytes appended to the ingest log.");
        Meter.CreateObservableGauge("aiops.ingest_log.size", () => log.SizeBytes, "By", "Ingest log size on disk at its last trim (database and write-ahead log).");
        Meter.CreateObservableGauge("aiops.ingest_log.untrimmed_records", () => log.Position - log.TrimmedThrough, "{record}",
            "Ingest-log records not yet covered by saved grain state (kept for replay after a crash).");
    }

    /// <summary>Embedded streams: batches the pulling agents skipped after failed delivery (see <see cref="Streaming.LoggingStreamFailureHandler"/>).</summary>
    public void ObserveSkippedStreamBatches(Streaming.LoggingStreamFailureHandler handler) =>
        Meter.CreateObservableCounter("aiops.telemetry.stream.batches_skipped", () => handler.DeliveryFailures, "{batch}",
            "Per-entity batches the embedded stream gave up delivering after retries (their events are delivered again from the ingest log).");

    /// <summary>Entities sent their logged points again after they were found missing some (a given-up stream batch, a lost activation).</summary>
    public void ObserveRedeliveries(Ingestion.Durability.LogDelivery delivery) =>
        Meter.CreateObservableCounter("aiops.ingest_log.redelivered_entities", () => delivery.Repaired, "{entity}",
            "Entities sent their logged points again from the ingest log because they held less than was sent to them.");

    public void IngestLogWritten(int bytes, double milliseconds)
    {
        _logBytes?.Add(bytes);
        _logWriteMs?.Record(milliseconds);
    }

    public void Accepted(int count) => _accepted.Add(count);

    public void Rejected(string field, int count) => _rejected.Add(count, new KeyValuePair<string, object?>("reason", field));

    public void Published(int events, int batches)
    {
        _published.Add(events);
        _streamMessages.Add(batches);
    }

    /// <summary>
    /// The mean lag since the previous collection. With no batch consumed in between: 0 when nothing is
    /// waiting (an idle pipeline has no delay), no measurement when events are waiting (the lag is unknown;
    /// the backlog gauge shows the stall).
    /// </summary>
    private IEnumerable<Measurement<double>> ObserveLag()
    {
        var mean = _progress.TakeMeanLagMs();
        if (mean is { } ms) yield return new Measurement<double>(ms);
        else if (_progress.Backlog == 0) yield return new Measurement<double>(0);
    }
}

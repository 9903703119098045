using AiOps.Abstractions;
using AiOps.Grains.Focus;
using AiOps.Server.Hosting;
using AiOps.Server.Ingestion;
using AiOps.Server.Ingestion.Durability;

namespace AiOps.Server.Focus;

/// <summary>
/// Sends an import's cost points down the same path as <c>POST /api/v1/telemetry</c>: the ingest log (durable before
/// this returns) when it is on, else the publisher, in requests of at most <see cref="Limits.MaxEventsPerRequest"/> points.
/// </summary>
internal sealed class FocusCostSink(TelemetryPublisher publisher, IngestLog log, AiOpsMetrics metrics) : IFocusCostSink
{
    private static readonly KeyValuePair<string, string> Source = new("source", "focus");

    public async Task<bool> SendAsync(IReadOnlyList<FocusCostPoint> points, CancellationToken cancellationToken)
    {
        var attributes = new Dictionary<(string, string), KeyValuePair<string, string>[]>();
        for (var start = 0; start < points.Count; start += Limits.MaxEventsPerRequest)
        {
            var end = Math.Min(points.Count, start + Limits.MaxEventsPerRequest);
            var batch = ParsedBatch.Rent();
            for (var i = start; i < end; i++)
            {
                var p = points[i];
                if (!attributes.TryGetValue((p.Service, p.Currency), out var attrs))
                {
                    attrs = [new(MetricVocabulary.Attributes.Service, p.Service), new(MetricVocabulary.Attributes.Currency, p.Currency), Source];
                    attributes[(p.Service, p.Currency)] = attrs;
                }
                batch.Add(new EntityKey(p.Kind, p.EntityId), new TelemetryPoint(MetricVocabulary.Cost, p.Value, p.TimestampMs, p.EventIdHash, attrs));
            }
            batch.Total = batch.Accepted;
            var count = batch.Accepted;
            try
            {
                if (log.Enabled) await log.AcceptAsync(batch);
                else await publisher.PublishAsync(batch);
            }
            catch (IngestionBusyException)
            {
                return false;
            }
            metrics.Accepted(count);
        }
        return true;
    }
}

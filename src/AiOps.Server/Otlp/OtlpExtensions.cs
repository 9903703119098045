using System.Diagnostics.Metrics;
using AiOps.Server.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Otlp;

public static class OtlpExtensions
{
    /// <summary>The OTLP metrics receiver's services; settings from <c>AiOps:Otlp</c>.</summary>
    public static IServiceCollection AddOtlpReceiver(this IServiceCollection services)
    {
        services.AddOptions<OtlpOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            var section = configuration.GetSection(OtlpOptions.Section);
            // A list given in configuration replaces the default list (the binder would append to it).
            if (section.GetSection(nameof(OtlpOptions.EntityRules)).Exists()) options.EntityRules = [];
            if (section.GetSection(nameof(OtlpOptions.MetricRules)).Exists()) options.MetricRules = [];
            if (section.GetSection(nameof(OtlpOptions.Quantiles)).Exists()) options.Quantiles = [];
            if (section.GetSection(nameof(OtlpOptions.ForwardAttributes)).Exists()) options.ForwardAttributes = [];
            section.Bind(options);
        });
        services.AddSingleton<OtlpSeriesRegistry>();
        services.AddSingleton(sp => new OtlpTranslator(sp.GetRequiredService<IOptions<OtlpOptions>>().Value, sp.GetRequiredService<OtlpSeriesRegistry>()));
        services.AddSingleton<OtlpMetrics>();
        return services;
    }
}

/// <summary>Instruments of the OTLP receiver, on the application's meter (exported with the rest at /metrics).</summary>
public sealed class OtlpMetrics
{
    private readonly Counter<long> _points;
    private readonly Counter<long> _cardinality;
    private readonly Counter<long> _requests;

    public OtlpMetrics(AiOpsMetrics metrics, OtlpSeriesRegistry registry)
    {
        var meter = metrics.Meter;
        _points = meter.CreateCounter<long>("aiops.otlp.data_points", "{data_point}",
            "OTLP data points received, by outcome: accepted (became events), reference (first point of a cumulative series, or no recorded value), rejected (by reason).");
        _cardinality = meter.CreateCounter<long>("aiops.otlp.cardinality.dropped", "{data_point}",
            "OTLP data points dropped because their entity and metric already had AiOps:Otlp:MaxSeriesPerMetric series (or the process MaxSeries).");
        _requests = meter.CreateCounter<long>("aiops.otlp.requests.rejected", "{request}", "OTLP requests refused whole, by reason.");
        meter.CreateObservableGauge("aiops.otlp.series", () => registry.Count, "{series}", "OTLP series this process tracks (cardinality and cumulative state).");
    }

    internal void Translated(OtlpTranslation translation)
    {
        var accepted = translation.DataPoints - translation.Rejected - translation.ReferenceOnly;
        if (accepted > 0) _points.Add(accepted, new KeyValuePair<string, object?>("outcome", "accepted"));
        if (translation.ReferenceOnly > 0) _points.Add(translation.ReferenceOnly, new KeyValuePair<string, object?>("outcome", "reference"));
        foreach (var (reason, (count, _)) in translation.Reasons)
            _points.Add(count, new KeyValuePair<string, object?>("outcome", "rejected"), new KeyValuePair<string, object?>("reason", reason));
        if (translation.CardinalityDrops > 0) _cardinality.Add(translation.CardinalityDrops);
    }

    internal void RequestRejected(string reason) => _requests.Add(1, new KeyValuePair<string, object?>("reason", reason));
}

namespace AiOps.Abstractions;

/// <summary>Stream provider and namespace names, defined once. One stream per entity: key = entity id.</summary>
public static class StreamNames
{
    public const string Provider = "telemetry";
    public const string PipelineNamespace = "telemetry.pipeline";
    public const string ModelNamespace = "telemetry.model";
    public const string CostCenterNamespace = "telemetry.costcenter";
    public const string DatasetNamespace = "telemetry.dataset";

    public static string NamespaceFor(EntityKind kind) => kind.Info().StreamNamespace;
}

/// <summary>Grain storage names.</summary>
public static class StorageNames
{
    public const string Entities = "entities";
    public const string PubSub = "PubSubStore";
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiOps.Abstractions;

/// <summary>The kinds of entity that receive telemetry. Values are stored and sent on the wire: never renumber them.</summary>
[JsonConverter(typeof(EntityKindJsonConverter))]
public enum EntityKind
{
    Pipeline = 0,
    Model = 1,
    CostCenter = 2,
    Dataset = 3,
}

/// <summary>
/// Everything the platform needs to know about one kind of entity, in one place: the wire name used in telemetry
/// and routes, the route segment, the Orleans grain type (which is also its storage grain type), the stream
/// namespace, and how to reach its grain. Parser, routes, value view, publisher and shutdown drain read this
/// table instead of enumerating kinds themselves. See docs/adding-an-entity-kind.md.
/// </summary>
public sealed class EntityKindInfo
{
    internal EntityKindInfo(EntityKind kind, string wire, string plural, string title, string singular,
        string streamNamespace, Func<IGrainFactory, string, IEntityGrain> resolve, params string[] aliases)
    {
        Kind = kind;
        Wire = wire;
        Plural = plural;
        Title = title;
        Singular = singular;
        GrainType = wire;
        StreamNamespace = streamNamespace;
        Resolve = resolve;
        AliasArray = aliases;
        WireUtf8 = System.Text.Encoding.UTF8.GetBytes(wire);
    }

    public EntityKind Kind { get; }
    /// <summary>Wire name: <c>entity.kind</c> in telemetry, and the grain type.</summary>
    public string Wire { get; }
    internal byte[] WireUtf8 { get; }
    /// <summary>Route segment under <c>/api/v1/</c> (e.g. <c>pipelines</c>).</summary>
    public string Plural { get; }
    /// <summary>Pascal-case name used in OpenAPI operation ids (e.g. <c>CostCenter</c>) and as the OpenAPI tag's base.</summary>
    public string Title { get; }
    /// <summary>Lower-case name used in prose (e.g. <c>cost center</c>).</summary>
    public string Singular { get; }
    /// <summary>Orleans grain type (<c>[GrainType]</c> of its grain class), which names its stored state too.</summary>
    public string GrainType { get; }
    public string StreamNamespace { get; }
    public Func<IGrainFactory, string, IEntityGrain> Resolve { get; }
    /// <summary>Other spellings accepted on input (case-insensitive).</summary>
    public IReadOnlyList<string> Aliases => AliasArray;
    internal string[] AliasArray { get; }
}

public static class EntityKinds
{
    /// <summary>Wire names, as used in telemetry (<c>entity.kind</c>) and routes.</summary>
    public const string Pipeline = "pipeline";
    public const string Model = "model";
    public const string CostCenter = "costcenter";
    public const string Dataset = "dataset";

    // The table itself, as an array: the lookups below run per event (the parser matches every entity.kind) and
    // per entity batch, and a foreach over the IReadOnlyList allocated an enumerator each time (32 bytes per parsed
    // event, measured) and went through interface calls.
    private static readonly EntityKindInfo[] s_kinds =
    [
        new(EntityKind.Pipeline, Pipeline, "pipelines", "Pipeline", "pipeline", StreamNames.PipelineNamespace, (f, id) => f.GetGrain<IPipelineGrain>(id)),
        new(EntityKind.Model, Model, "models", "Model", "model", StreamNames.ModelNamespace, (f, id) => f.GetGrain<IModelGrain>(id)),
        new(EntityKind.CostCenter, CostCenter, "costcenters", "CostCenter", "cost center", StreamNames.CostCenterNamespace, (f, id) => f.GetGrain<ICostCenterGrain>(id), "cost_center"),
        new(EntityKind.Dataset, Dataset, "datasets", "Dataset", "dataset", StreamNames.DatasetNamespace, (f, id) => f.GetGrain<IDatasetGrain>(id)),
    ];

    /// <summary>Every kind, indexed by its enum value.</summary>
    public static readonly IReadOnlyList<EntityKindInfo> All = Array.AsReadOnly(s_kinds);

    /// <summary>Number of kinds (arrays indexed by kind are this long).</summary>
    public static int Count => s_kinds.Length;

    /// <summary>"pipeline, model, costcenter or dataset", for messages.</summary>
    public static readonly string WireNamesText =
        string.Join(", ", All.Take(All.Count - 1).Select(k => k.Wire)) + " or " + All[^1].Wire;

    public static EntityKindInfo Info(this EntityKind kind) =>
        (uint)kind < (uint)s_kinds.Length ? s_kinds[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind));

    public static string ToWire(this EntityKind kind) => kind.Info().Wire;

    public static bool TryParse(ReadOnlySpan<char> text, out EntityKind kind)
    {
        foreach (var info in s_kinds)
        {
            if (text.Equals(info.Wire, StringComparison.OrdinalIgnoreCase)) { kind = info.Kind; return true; }
            foreach (var alias in info.AliasArray)
            {
                if (text.Equals(alias, StringComparison.OrdinalIgnoreCase)) { kind = info.Kind; return true; }
            }
        }
        kind = default;
        return false;
    }

    /// <summary>Exact (lower-case) wire name given as UTF-8: the parser's allocation-free path.</summary>
    public static bool TryMatchWire(ReadOnlySpan<byte> utf8, out EntityKind kind)
    {
        foreach (var info in s_kinds)
        {
            if (utf8.SequenceEqual(info.WireUtf8)) { kind = info.Kind; return true; }
        }
        kind = default;
        return false;
    }

    /// <summary>The kind whose grain type this is (grain statistics name grains by type).</summary>
    public static bool TryFromGrainType(string grainType, out EntityKind kind)
    {
        foreach (var info in s_kinds)
        {
            if (info.GrainType == grainType) { kind = info.Kind; return true; }
        }
        kind = default;
        return false;
    }
}

/// <summary>Writes and reads <see cref="EntityKind"/> as its wire name (pipeline, model, costcenter, dataset).</summary>
public sealed class EntityKindJsonConverter : JsonConverter<EntityKind>
{
    public override EntityKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return (EntityKind)reader.GetInt32();
        var text = reader.GetString();
        return text is not null && EntityKinds.TryParse(text, out var kind)
            ? kind
            : throw new JsonException($"Unknown entity kind '{text}'.");
    }

    public override void Write(Utf8JsonWriter writer, EntityKind value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToWire());
}

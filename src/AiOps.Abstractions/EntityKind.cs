using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiOps.Abstractions;

/// <summary>The three kinds of entity that receive telemetry.</summary>
[JsonConverter(typeof(EntityKindJsonConverter))]
public enum EntityKind
{
    Pipeline = 0,
    Model = 1,
    CostCenter = 2,
}

public static class EntityKinds
{
    /// <summary>Wire names, as used in telemetry (<c>entity.kind</c>) and routes.</summary>
    public const string Pipeline = "pipeline";
    public const string Model = "model";
    public const string CostCenter = "costcenter";

    public static string ToWire(this EntityKind kind) => kind switch
    {
        EntityKind.Pipeline => Pipeline,
        EntityKind.Model => Model,
        EntityKind.CostCenter => CostCenter,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static bool TryParse(ReadOnlySpan<char> text, out EntityKind kind)
    {
        if (text.Equals(Pipeline, StringComparison.OrdinalIgnoreCase)) { kind = EntityKind.Pipeline; return true; }
        if (text.Equals(Model, StringComparison.OrdinalIgnoreCase)) { kind = EntityKind.Model; return true; }
        if (text.Equals(CostCenter, StringComparison.OrdinalIgnoreCase) || text.Equals("cost_center", StringComparison.OrdinalIgnoreCase))
        {
            kind = EntityKind.CostCenter; return true;
        }
        kind = default;
        return false;
    }
}

/// <summary>Writes and reads <see cref="EntityKind"/> as its wire name (pipeline, model, costcenter).</summary>
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

using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;

namespace AiOps.Server.Hosting;

/// <summary>
/// Grain state as compact System.Text.Json: no type names (renaming a class does not orphan stored state),
/// no indentation, defaults left out.
/// </summary>
public sealed class PlainJsonGrainStorageSerializer : IGrainStorageSerializer
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Last line of defence: a non-finite number in state is written as a string rather than making the state
        // unsavable (values are bounded at ingestion, so sums cannot reach infinity; see Limits.MaxAbsValue).
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T Deserialize<T>(BinaryData input) => input.ToObjectFromJson<T>(Options)!;
}

namespace AiOps.Abstractions;

/// <summary>The three kinds of entity that receive telemetry.</summary>
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

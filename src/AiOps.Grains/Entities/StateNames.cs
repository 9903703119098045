namespace AiOps.Grains.Entities;

/// <summary>
/// Storage names of entity state. Each kind has its own, so one id under two kinds is two stored rows (the ADO.NET
/// providers key a row by state name and grain key, not by grain type). Releases before 2026-12 stored every kind
/// under <see cref="LegacyEntity"/>; a grain adopts such a row on its first activation (see EntityGrain).
/// </summary>
public static class StateNames
{
    public const string Pipeline = "pipeline";
    public const string PipelineDetectors = "pipeline.detectors";
    public const string Model = "model";
    public const string ModelDetectors = "model.detectors";
    public const string CostCenter = "costcenter";
    public const string CostCenterDetectors = "costcenter.detectors";
    public const string Dataset = "dataset";
    public const string DatasetDetectors = "dataset.detectors";

    public const string LegacyEntity = "entity";
    public const string LegacyDetectors = "detectors";
}

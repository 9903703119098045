using AiOps.Abstractions;

namespace AiOps.Grains.Lineage;

/// <summary>Persisted lineage graph (System.Text.Json). Keys are node ids: <c>job:ns:name</c>, <c>dataset:ns:name</c>.</summary>
public sealed class LineageGraphState
{
    public Dictionary<string, JobNodeState> Jobs { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, DatasetNodeState> Datasets { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Model id → the pipeline id that trains it.</summary>
    public Dictionary<string, string> Models { get; set; } = new(StringComparer.Ordinal);
}

public sealed class JobNodeState
{
    public string Namespace { get; set; } = "";
    public string Name { get; set; } = "";
    public string PipelineId { get; set; } = "";
    public string? ParentJob { get; set; }
    public string? JobType { get; set; }
    public string? Description { get; set; }
    /// <summary>Dataset node ids, in the order first seen.</summary>
    public List<string> Inputs { get; set; } = [];
    public List<string> Outputs { get; set; } = [];
}

public sealed class DatasetNodeState
{
    public string Namespace { get; set; } = "";
    public string Name { get; set; } = "";
    public string DatasetId { get; set; } = "";
    public List<DatasetField>? Fields { get; set; }
}

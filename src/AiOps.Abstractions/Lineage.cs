namespace AiOps.Abstractions;

/// <summary>A dataset as a node of the lineage graph: OpenLineage namespace and name, and its entity id.</summary>
[GenerateSerializer, Immutable, Alias("aiops.LineageDataset")]
public sealed record LineageDataset(
    [property: Id(0)] string Namespace,
    [property: Id(1)] string Name,
    [property: Id(2)] string DatasetId,
    [property: Id(3)] IReadOnlyList<DatasetField>? Fields = null);

/// <summary>
/// What one event says about a job: its pipeline id, parent job, type, and the datasets it read and wrote.
/// The graph keeps the union of every edge it was told (an edge is never removed by a later event).
/// </summary>
[GenerateSerializer, Immutable, Alias("aiops.LineageJob")]
public sealed record LineageJob
{
    [Id(0)] public required string Namespace { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required string PipelineId { get; init; }
    [Id(3)] public string? ParentNamespace { get; init; }
    [Id(4)] public string? ParentName { get; init; }
    [Id(5)] public string? JobType { get; init; }
    [Id(6)] public string? Description { get; init; }
    [Id(7)] public IReadOnlyList<LineageDataset> Inputs { get; init; } = [];
    [Id(8)] public IReadOnlyList<LineageDataset> Outputs { get; init; } = [];
}

/// <summary>An edge of the graph, by node id (<c>dataset:ns:name</c>, <c>job:ns:name</c>, <c>model:id</c>).</summary>
[GenerateSerializer, Immutable, Alias("aiops.LineageEdge")]
public sealed record LineageEdge([property: Id(0)] string Origin, [property: Id(1)] string Destination);

/// <summary>A node's data (the fields that apply to its type are set).</summary>
[GenerateSerializer, Immutable, Alias("aiops.LineageNodeData")]
public sealed record LineageNodeData
{
    /// <summary>DATASET/JOB: OpenLineage namespace and name. MODEL: null namespace, the model id as name.</summary>
    [Id(0)] public string? Namespace { get; init; }
    [Id(1)] public string? Name { get; init; }
    /// <summary>The AiOps entity behind the node: <c>pipeline</c>, <c>dataset</c> or <c>model</c> and its id (routes: /api/v1/pipelines/{id}, …).</summary>
    [Id(2)] public string? EntityKind { get; init; }
    [Id(3)] public string? EntityId { get; init; }
    /// <summary>JOB: the datasets it read and wrote, as <c>{namespace, name}</c>.</summary>
    [Id(4)] public IReadOnlyList<DatasetName>? Inputs { get; init; }
    [Id(5)] public IReadOnlyList<DatasetName>? Outputs { get; init; }
    /// <summary>JOB: the parent job of its runs (OpenLineage <c>parent</c> run facet), as a node id.</summary>
    [Id(6)] public string? ParentJob { get; init; }
    [Id(7)] public string? JobType { get; init; }
    [Id(8)] public string? Description { get; init; }
    /// <summary>DATASET: schema fields.</summary>
    [Id(9)] public IReadOnlyList<DatasetField>? Fields { get; init; }
    /// <summary>MODEL: the pipeline that trains it (metadata <c>trainingPipelineId</c>).</summary>
    [Id(10)] public string? TrainingPipelineId { get; init; }
}

[GenerateSerializer, Immutable, Alias("aiops.DatasetName")]
public sealed record DatasetName([property: Id(0)] string Namespace, [property: Id(1)] string Name);

/// <summary>One node in Marquez's lineage shape.</summary>
[GenerateSerializer, Immutable, Alias("aiops.LineageNode")]
public sealed record LineageNode(
    [property: Id(0)] string Id,
    [property: Id(1)] string Type,
    [property: Id(2)] LineageNodeData Data,
    [property: Id(3)] IReadOnlyList<LineageEdge> InEdges,
    [property: Id(4)] IReadOnlyList<LineageEdge> OutEdges);

/// <summary><c>{"graph": [...]}</c>, as Marquez answers <c>GET /api/v1/lineage</c>.</summary>
[GenerateSerializer, Immutable, Alias("aiops.LineageGraph")]
public sealed record LineageGraph([property: Id(0)] IReadOnlyList<LineageNode> Graph);

/// <summary>
/// The lineage graph: jobs (pipelines), datasets and models, with inputs → job → outputs edges and
/// training job → model links. Persisted; written only when a node or an edge changes. Key: <see cref="DefaultKey"/>.
/// </summary>
[Alias("aiops.ILineageGraphGrain")]
public interface ILineageGraphGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    /// <summary>Merges jobs and datasets (union of edges; node data replaced where given); returns how many things changed.</summary>
    [Alias("Merge")]
    Task<int> MergeAsync(LineageJob[] jobs, LineageDataset[] datasets);

    /// <summary>Sets (or, with null, removes) the pipeline that trains a model.</summary>
    [Alias("LinkModel")]
    Task LinkModelAsync(string modelId, string? trainingPipelineId);

    /// <summary>The nodes within <paramref name="depth"/> edges of <paramref name="nodeId"/> (either direction); null when it is unknown.</summary>
    [Alias("Get")]
    Task<LineageGraph?> GetAsync(string nodeId, int depth);
}

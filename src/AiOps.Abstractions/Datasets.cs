namespace AiOps.Abstractions;

/// <summary>One column of a dataset's schema (OpenLineage <c>schema</c> facet).</summary>
[GenerateSerializer, Immutable, Alias("aiops.DatasetField")]
public sealed record DatasetField(
    [property: Id(0)] string Name,
    [property: Id(1)] string? Type,
    [property: Id(2)] string? Description = null);

/// <summary>An owner of a dataset (OpenLineage <c>ownership</c> facet).</summary>
[GenerateSerializer, Immutable, Alias("aiops.DatasetOwner")]
public sealed record DatasetOwner(
    [property: Id(0)] string Name,
    [property: Id(1)] string? Type);

/// <summary>What a dataset's facets say about it. Null lists: the facet was not sent (what is known stays).</summary>
[GenerateSerializer, Immutable, Alias("aiops.DatasetFacts")]
public sealed record DatasetFacts
{
    [Id(0)] public required string Namespace { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public IReadOnlyList<DatasetField>? Fields { get; init; }
    [Id(3)] public IReadOnlyList<DatasetOwner>? Owners { get; init; }
    [Id(4)] public string? Description { get; init; }
    [Id(5)] public string? SourceName { get; init; }
}

[GenerateSerializer, Immutable, Alias("aiops.DatasetStats")]
public sealed record DatasetStats
{
    [Id(0)] public string? Namespace { get; init; }
    [Id(1)] public string? Name { get; init; }
    [Id(2)] public IReadOnlyList<DatasetField> Fields { get; init; } = [];
    [Id(3)] public IReadOnlyList<DatasetOwner> Owners { get; init; } = [];
    [Id(4)] public string? Description { get; init; }
    [Id(5)] public string? SourceName { get; init; }
    /// <summary>Time of the latest completed run that wrote it.</summary>
    [Id(6)] public DateTime? LastWriteAt { get; init; }
    [Id(7)] public double WritesTotal { get; init; }
    [Id(8)] public double RowsWrittenTotal { get; init; }
    [Id(9)] public double DataQualityFailuresTotal { get; init; }
    [Id(10)] public double? FreshnessSlaSeconds { get; init; }
    [Id(11)] public double? SecondsSinceLastWrite { get; init; }
    /// <summary>Last write within the SLA (declared, or twice the median gap between recent writes); null when neither is known.</summary>
    [Id(12)] public bool? Fresh { get; init; }
}

using AiOps.Abstractions;

namespace AiOps.Server.Lineage;

internal enum OpenLineageEventKind { Run, Dataset, Job }

/// <summary>The parts of an OpenLineage event the platform uses, read and checked by <see cref="OpenLineageParser"/>.</summary>
internal sealed class OpenLineageEvent
{
    public OpenLineageEventKind Kind { get; init; }
    /// <summary>RunEvent: START, RUNNING, COMPLETE, ABORT, FAIL, OTHER (null: not given, treated as OTHER).</summary>
    public string? EventType { get; init; }
    public long EventTimeMs { get; init; }
    public string? RunId { get; init; }
    public string? JobNamespace { get; init; }
    public string? JobName { get; init; }
    public string? JobType { get; init; }
    public string? JobDescription { get; init; }
    public string? ParentJobNamespace { get; init; }
    public string? ParentJobName { get; init; }
    public string? ParentRunId { get; init; }
    public string? ErrorMessage { get; init; }
    public List<OpenLineageDataset> Inputs { get; } = [];
    public List<OpenLineageDataset> Outputs { get; } = [];
    /// <summary>DatasetEvent: its dataset.</summary>
    public OpenLineageDataset? Dataset { get; init; }
}

internal sealed class OpenLineageDataset
{
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public List<DatasetField>? Fields { get; set; }
    public List<DatasetOwner>? Owners { get; set; }
    public string? Description { get; set; }
    public string? SourceName { get; set; }
    /// <summary>rowCount of <c>inputStatistics</c> (inputs) or <c>outputStatistics</c> (outputs).</summary>
    public long? RowCount { get; set; }
    /// <summary>Assertions of <c>dataQualityAssertions</c> facets on it, and how many failed.</summary>
    public int Assertions { get; set; }
    public int FailedAssertions { get; set; }
    /// <summary>Hash of the facets that describe it (schema, ownership, documentation, dataSource); 0 when none was sent.</summary>
    public ulong FactsHash { get; set; }

    public bool HasFacts => Fields is not null || Owners is not null || Description is not null || SourceName is not null;
}

using AiOps.Abstractions;
using Orleans.Runtime;

namespace AiOps.Grains.Lineage;

/// <summary>
/// The lineage graph of jobs, datasets and models. Front ends send only what they have not sent before (they cache
/// the edges they know), so calls here are rare once the graph is known; state is written only when something changed.
/// Node ids follow Marquez: <c>job:namespace:name</c>, <c>dataset:namespace:name</c>; models are <c>model:id</c>.
/// </summary>
[GrainType("lineage")]
public sealed class LineageGraphGrain(
    [PersistentState("lineage", StorageNames.Entities)] IPersistentState<LineageGraphState> state)
    : Grain, ILineageGraphGrain
{
    /// <summary>Most nodes one answer holds.</summary>
    public const int MaxNodesPerAnswer = 5000;

    public static string JobNodeId(string ns, string name) => $"job:{ns}:{name}";
    public static string DatasetNodeId(string ns, string name) => $"dataset:{ns}:{name}";
    public static string ModelNodeId(string id) => $"model:{id}";

    // Indexes rebuilt from state on activation.
    private readonly Dictionary<string, List<string>> _readers = new(StringComparer.Ordinal); // dataset → jobs reading it
    private readonly Dictionary<string, List<string>> _writers = new(StringComparer.Ordinal); // dataset → jobs writing it
    private readonly Dictionary<string, string> _jobOfPipeline = new(StringComparer.Ordinal); // pipeline id → job node
    private readonly Dictionary<string, List<string>> _modelsOfPipeline = new(StringComparer.Ordinal);

    private LineageGraphState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var (key, job) in S.Jobs)
        {
            _jobOfPipeline[job.PipelineId] = key;
            foreach (var d in job.Inputs) AddTo(_readers, d, key);
            foreach (var d in job.Outputs) AddTo(_writers, d, key);
        }
        foreach (var (model, pipeline) in S.Models) AddTo(_modelsOfPipeline, pipeline, model);
        return Task.CompletedTask;
    }

    private static bool AddTo(Dictionary<string, List<string>> index, string key, string value)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        if (list.Contains(value)) return false;
        list.Add(value);
        return true;
    }

    public async Task<int> MergeAsync(LineageJob[] jobs, LineageDataset[] datasets)
    {
        var changes = 0;
        foreach (var d in datasets) changes += MergeDataset(d);
        foreach (var j in jobs)
        {
            var key = JobNodeId(j.Namespace, j.Name);
            if (!S.Jobs.TryGetValue(key, out var node))
            {
                S.Jobs[key] = node = new JobNodeState { Namespace = j.Namespace, Name = j.Name, PipelineId = j.PipelineId };
                _jobOfPipeline[j.PipelineId] = key;
                changes++;
            }
            var parent = j.ParentNamespace is not null && j.ParentName is not null ? JobNodeId(j.ParentNamespace, j.ParentName) : null;
            if (parent is not null && parent != key && parent != node.ParentJob) { node.ParentJob = parent; changes++; }
            if (j.JobType is not null && j.JobType != node.JobType) { node.JobType = j.JobType; changes++; }
            if (j.Description is not null && j.Description != node.Description) { node.Description = j.Description; changes++; }
            foreach (var d in j.Inputs)
            {
                changes += MergeDataset(d);
                var dk = DatasetNodeId(d.Namespace, d.Name);
                if (AddTo(_readers, dk, key)) { node.Inputs.Add(dk); changes++; }
            }
            foreach (var d in j.Outputs)
            {
                changes += MergeDataset(d);
                var dk = DatasetNodeId(d.Namespace, d.Name);
                if (AddTo(_writers, dk, key)) { node.Outputs.Add(dk); changes++; }
            }
        }
        if (changes > 0) await state.WriteStateAsync();
        return changes;
    }

    private int MergeDataset(LineageDataset d)
    {
        var key = DatasetNodeId(d.Namespace, d.Name);
        var changes = 0;
        if (!S.Datasets.TryGetValue(key, out var node))
        {
            S.Datasets[key] = node = new DatasetNodeState { Namespace = d.Namespace, Name = d.Name, DatasetId = d.DatasetId };
            changes++;
        }
        if (d.Fields is not null && (node.Fields is null || !node.Fields.SequenceEqual(d.Fields)))
        {
            node.Fields = d.Fields.ToList();
            changes++;
        }
        return changes;
    }

    public async Task LinkModelAsync(string modelId, string? trainingPipelineId)
    {
        if (S.Models.Remove(modelId, out var old) && _modelsOfPipeline.TryGetValue(old, out var list)) list.Remove(modelId);
        if (trainingPipelineId is not null)
        {
            S.Models[modelId] = trainingPipelineId;
            AddTo(_modelsOfPipeline, trainingPipelineId, modelId);
        }
        await state.WriteStateAsync();
    }

    public Task<LineageGraph?> GetAsync(string nodeId, int depth)
    {
        if (!Exists(nodeId)) return Task.FromResult<LineageGraph?>(null);
        // Breadth first over edges in both directions, as Marquez does.
        var seen = new HashSet<string>(StringComparer.Ordinal) { nodeId };
        var order = new List<string> { nodeId };
        var frontier = new List<string> { nodeId };
        for (var hop = 0; hop < depth && frontier.Count > 0 && order.Count < MaxNodesPerAnswer; hop++)
        {
            var next = new List<string>();
            foreach (var n in frontier)
            {
                var (ins, outs) = Edges(n);
                foreach (var e in ins.Concat(outs))
                {
                    var other = e.Origin == n ? e.Destination : e.Origin;
                    if (order.Count >= MaxNodesPerAnswer) break;
                    if (seen.Add(other)) { order.Add(other); next.Add(other); }
                }
            }
            frontier = next;
        }
        var nodes = order.Select(Node).ToList();
        return Task.FromResult<LineageGraph?>(new LineageGraph(nodes));
    }

    private bool Exists(string nodeId) =>
        S.Jobs.ContainsKey(nodeId) || S.Datasets.ContainsKey(nodeId)
        || (nodeId.StartsWith("model:", StringComparison.Ordinal) && S.Models.ContainsKey(nodeId["model:".Length..]));

    private (List<LineageEdge> In, List<LineageEdge> Out) Edges(string id)
    {
        var ins = new List<LineageEdge>();
        var outs = new List<LineageEdge>();
        if (S.Jobs.TryGetValue(id, out var job))
        {
            foreach (var d in job.Inputs) ins.Add(new LineageEdge(d, id));
            foreach (var d in job.Outputs) outs.Add(new LineageEdge(id, d));
            if (_modelsOfPipeline.TryGetValue(job.PipelineId, out var models))
                foreach (var m in models) outs.Add(new LineageEdge(id, ModelNodeId(m)));
        }
        else if (S.Datasets.ContainsKey(id))
        {
            if (_writers.TryGetValue(id, out var writers)) foreach (var j in writers) ins.Add(new LineageEdge(j, id));
            if (_readers.TryGetValue(id, out var readers)) foreach (var j in readers) outs.Add(new LineageEdge(id, j));
        }
        else if (id.StartsWith("model:", StringComparison.Ordinal)
                 && S.Models.TryGetValue(id["model:".Length..], out var pipeline)
                 && _jobOfPipeline.TryGetValue(pipeline, out var trainer))
        {
            ins.Add(new LineageEdge(trainer, id));
        }
        return (ins, outs);
    }

    private LineageNode Node(string id)
    {
        var (ins, outs) = Edges(id);
        if (S.Jobs.TryGetValue(id, out var job))
        {
            return new LineageNode(id, "JOB", new LineageNodeData
            {
                Namespace = job.Namespace,
                Name = job.Name,
                EntityKind = EntityKinds.Pipeline,
                EntityId = job.PipelineId,
                Inputs = job.Inputs.Select(NameOf).ToList(),
                Outputs = job.Outputs.Select(NameOf).ToList(),
                ParentJob = job.ParentJob,
                JobType = job.JobType,
                Description = job.Description,
            }, ins, outs);
        }
        if (S.Datasets.TryGetValue(id, out var ds))
        {
            return new LineageNode(id, "DATASET", new LineageNodeData
            {
                Namespace = ds.Namespace,
                Name = ds.Name,
                EntityKind = EntityKinds.Dataset,
                EntityId = ds.DatasetId,
                Fields = ds.Fields ?? [],
            }, ins, outs);
        }
        var modelId = id["model:".Length..];
        return new LineageNode(id, "MODEL", new LineageNodeData
        {
            Name = modelId,
            EntityKind = EntityKinds.Model,
            EntityId = modelId,
            TrainingPipelineId = S.Models.GetValueOrDefault(modelId),
        }, ins, outs);
    }

    private DatasetName NameOf(string datasetNode) =>
        S.Datasets.TryGetValue(datasetNode, out var d) ? new DatasetName(d.Namespace, d.Name) : new DatasetName("", datasetNode);
}

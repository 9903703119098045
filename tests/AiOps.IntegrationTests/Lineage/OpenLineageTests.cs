using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Lineage.OpenLineageExamples;

namespace AiOps.IntegrationTests.Lineage;

public sealed class OpenLineageTests(OpenLineageTests.App app) : IClassFixture<OpenLineageTests.App>
{
    public sealed class App : IAsyncLifetime
    {
        public AiOpsAppFactory Factory { get; } = new();
        public HttpClient Client { get; private set; } = null!;
        public Task InitializeAsync() { Client = Factory.CreateClient(); return Task.CompletedTask; }
        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    private readonly HttpClient _client = app.Client;

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private Task<HttpResponseMessage> Post(JsonNode body, HttpClient? client = null) => (client ?? _client).PostAsync("/api/v1/lineage", Json(body));

    private Task<JsonNode?> Graph(string node, int depth = 1) =>
        _client.GetJsonOrNull($"/api/v1/lineage?node={Uri.EscapeDataString(node)}&depth={depth}");

    private static JsonObject? NodeOf(JsonNode graph, string id) =>
        graph["graph"]!.AsArray().Select(n => n!.AsObject()).FirstOrDefault(n => (string?)n["id"] == id);

    private static HashSet<string> Origins(JsonObject node) => node["inEdges"]!.AsArray().Select(e => (string)e!["origin"]!).ToHashSet();
    private static HashSet<string> Destinations(JsonObject node) => node["outEdges"]!.AsArray().Select(e => (string)e!["destination"]!).ToHashSet();

    private async Task<string> PipelineIdOf(string jobNode) => (string)NodeOf((await Graph(jobNode))!, jobNode)!["data"]!["entityId"]!;

    /// <summary>Posts every body; the valid ones must be accepted, the others refused naming their first missing field.</summary>
    private async Task Replay(IEnumerable<(string File, JsonNode Body)> bodies)
    {
        foreach (var (file, body) in bodies)
        {
            var r = await Post(body);
            var text = await r.Content.ReadAsStringAsync();
            var events = Events(body).ToList();
            var missing = events.Select((e, i) => (i, field: FirstMissingCoreField(e))).Where(x => x.field is not null).ToList();
            if (missing.Count == 0)
            {
                Assert.True(r.StatusCode == HttpStatusCode.Accepted, $"{file}: {(int)r.StatusCode} {text}");
                Assert.Equal(events.Count, (int)JsonNode.Parse(text)!["accepted"]!);
            }
            else
            {
                Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{file}: expected 400, got {(int)r.StatusCode} {text}");
                var errors = JsonNode.Parse(text)!["errors"]!.AsObject();
                foreach (var (i, field) in missing)
                {
                    var pointer = body is JsonArray ? $"/{i}{field}" : field!;
                    Assert.True(errors.ContainsKey(pointer), $"{file}: the problem should name {pointer}: {text}");
                }
            }
        }
    }

    /// <summary>The graph holds each job's inputs → job → outputs as the accepted events state them; each pipeline counts each COMPLETE once.</summary>
    private async Task AssertGraphAndCounts(List<JsonObject> accepted)
    {
        foreach (var job in accepted.Where(e => e["job"] is not null).GroupBy(JobNode))
        {
            var graph = await Graph(job.Key);
            Assert.NotNull(graph);
            var node = NodeOf(graph!, job.Key)!;
            Assert.Equal("JOB", (string?)node["type"]);
            Assert.Equal(job.SelectMany(Inputs).Select(DatasetNode).ToHashSet(), Origins(node));
            Assert.Equal(job.SelectMany(Outputs).Select(DatasetNode).ToHashSet(), Destinations(node));
            foreach (var d in job.SelectMany(e => Inputs(e).Concat(Outputs(e))))
                Assert.Equal("DATASET", (string?)NodeOf(graph!, DatasetNode(d))!["type"]);

            var completes = job.Where(e => (string?)e["eventType"] == "COMPLETE").Select(e => (string)e["run"]!["runId"]! + e["eventTime"]).Distinct().Count();
            var starts = job.Where(e => (string?)e["eventType"] == "START").Select(e => (string)e["run"]!["runId"]! + e["eventTime"]).Distinct().Count();
            if (completes + starts == 0) continue;
            var id = Uri.EscapeDataString((string)node["data"]!["entityId"]!);
            await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{id}"),
                s => s?["pipeline"]?["successesTotal"]?.GetValue<long>() == completes && s["pipeline"]!["startedTotal"]!.GetValue<double>() == starts,
                because: $"{job.Key}: {completes} COMPLETE and {starts} START");
        }
    }

    private async Task AssertSecondReplayCountedNothing(List<JsonObject> accepted)
    {
        foreach (var job in accepted.Where(e => e["run"] is not null && e["eventType"] is not null).GroupBy(JobNode))
        {
            var id = Uri.EscapeDataString(await PipelineIdOf(job.Key));
            var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{id}"),
                s => s!["duplicatesDropped"]!.GetValue<long>() >= s["eventsApplied"]!.GetValue<long>(),
                because: $"{job.Key}: every point of the second replay is a duplicate");
            var completes = job.Count(e => (string?)e["eventType"] == "COMPLETE");
            Assert.Equal(completes, s!["pipeline"]!["successesTotal"]!.GetValue<long>());
            Assert.Equal(s["eventsApplied"]!.GetValue<long>(), s["duplicatesDropped"]!.GetValue<long>());
        }
    }

    [Fact]
    public async Task ExampleFilesReplayedInOrderTwiceBuildTheirGraphAndCountOnce()
    {
        var files = Load();
        var accepted = files.SelectMany(f => Events(f.Body)).Where(e => FirstMissingCoreField(e) is null).ToList();
        Assert.NotEmpty(accepted);

        await Replay(files);
        await AssertGraphAndCounts(accepted);
        await Replay(files);
        await AssertSecondReplayCountedNothing(accepted);
        await AssertGraphAndCounts(accepted);
    }

    [Fact]
    public async Task ExampleTemplatesFilledInGiveGraphDurationsAndDatasetFacts()
    {
        var (bodies, durations) = FillTemplates(DateTimeOffset.UtcNow.AddHours(-2));
        Assert.NotEmpty(durations);
        var accepted = bodies.SelectMany(b => Events(b.Body)).ToList();

        await Replay(bodies);
        await AssertGraphAndCounts(accepted);

        // START → COMPLETE of the same run gives the duration.
        foreach (var job in durations.GroupBy(d => d.Job))
        {
            var id = Uri.EscapeDataString(await PipelineIdOf(job.Key));
            var expected = job.Select(d => d.Seconds).Order().ToList();
            var series = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{id}/metrics/run.duration_seconds?resolution=raw"),
                s => s?["points"]?.AsArray().Count == expected.Count, because: $"{job.Key} has {expected.Count} run durations");
            Assert.Equal(expected, series!["points"]!.AsArray().Select(p => (double)p!["value"]!).Order().ToList());
        }

        // Datasets are entities with the schema and owners their facets state, and the last write of their COMPLETE.
        var completes = accepted.Where(e => (string?)e["eventType"] == "COMPLETE").ToList();
        foreach (var e in completes)
        {
            foreach (var output in Outputs(e))
            {
                var node = DatasetNode(output);
                var lastWrite = completes.Where(c => Outputs(c).Any(o => DatasetNode(o) == node)).Max(c => DateTimeOffset.Parse((string)c["eventTime"]!));
                var id = Uri.EscapeDataString((string)NodeOf((await Graph(node))!, node)!["data"]!["entityId"]!);
                var summary = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/datasets/{id}"),
                    s => s?["dataset"]?["lastWriteAt"] is JsonNode w && DateTimeOffset.Parse((string)w!) == lastWrite, because: $"{node} was last written at {lastWrite:O}");
                var ds = summary!["dataset"]!;
                var fields = output["facets"]?["schema"]?["fields"]?.AsArray().Select(f => (string)f!["name"]!).ToList();
                if (fields is not null) Assert.Equal(fields, ds["fields"]!.AsArray().Select(f => (string)f!["name"]!).ToList());
                var owners = output["facets"]?["ownership"]?["owners"]?.AsArray().Select(o => (string)o!["name"]!).ToList();
                if (owners is not null) Assert.Equal(owners, ds["owners"]!.AsArray().Select(o => (string)o!["name"]!).ToList());
                Assert.Equal((string)output["namespace"]!, (string?)ds["namespace"]);
                Assert.Equal((string)output["name"]!, (string?)ds["name"]);
            }
        }

        // The parent facet is kept on the job node.
        foreach (var e in accepted.Where(e => e["run"]?["facets"]?["parent"]?["job"] is not null))
        {
            var parent = e["run"]!["facets"]!["parent"]!["job"]!;
            var job = JobNode(e);
            Assert.Equal($"job:{parent["namespace"]}:{parent["name"]}", (string?)NodeOf((await Graph(job))!, job)!["data"]!["parentJob"]);
        }

        await Replay(bodies);
        await AssertSecondReplayCountedNothing(accepted);
    }

    private static JsonObject RunEvent(string type, string ns, string job, Guid run, DateTimeOffset at, JsonArray? inputs = null, JsonArray? outputs = null, JsonObject? runFacets = null) => new()
    {
        ["eventType"] = type,
        ["eventTime"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        ["run"] = new JsonObject { ["runId"] = run.ToString(), ["facets"] = runFacets ?? new JsonObject() },
        ["job"] = new JsonObject { ["namespace"] = ns, ["name"] = job },
        ["inputs"] = inputs ?? new JsonArray(),
        ["outputs"] = outputs ?? new JsonArray(),
        ["producer"] = "https://example.test/producer",
        ["schemaURL"] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    };

    private static string NewNamespace() => $"ns-{Guid.NewGuid():N}"[..16];

    [Fact]
    public async Task FailKeepsTheErrorMessageOnThePipeline()
    {
        var ns = NewNamespace();
        var run = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var facets = new JsonObject
        {
            ["errorMessage"] = new JsonObject { ["message"] = "division by zero in step 3", ["programmingLanguage"] = "python" },
        };
        Assert.Equal(HttpStatusCode.Accepted, (await Post(new JsonArray(
            RunEvent("START", ns, "nightly", run, now.AddMinutes(-3)),
            RunEvent("FAIL", ns, "nightly", run, now.AddMinutes(-1), runFacets: facets)))).StatusCode);

        var id = Uri.EscapeDataString(await PipelineIdOf($"job:{ns}:nightly"));
        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{id}"), s => s?["pipeline"]?["failuresTotal"]?.GetValue<long>() == 1);
        Assert.Equal("division by zero in step 3", (string?)s!["pipeline"]!["lastError"]);
        Assert.Equal(run.ToString(), (string?)s["pipeline"]!["lastErrorRunId"]);
        Assert.Equal(120, s["pipeline"]!["lastDurationSeconds"]!.GetValue<double>(), 3);
    }

    [Fact]
    public async Task AbortIsCountedApartFromFailures()
    {
        var ns = NewNamespace();
        var run = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await Post(new JsonArray(RunEvent("START", ns, "j", run, now.AddMinutes(-2)), RunEvent("ABORT", ns, "j", run, now.AddMinutes(-1))));
        var id = Uri.EscapeDataString(await PipelineIdOf($"job:{ns}:j"));
        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{id}"), s => s?["pipeline"]?["abortedTotal"]?.GetValue<double>() == 1);
        Assert.Equal(0, s!["pipeline"]!["failuresTotal"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("eventTime", null, "/eventTime")]
    [InlineData("eventTime", "yesterday", "/eventTime")]
    [InlineData("eventType", "FINISHED", "/eventType")]
    [InlineData("schemaURL", "not a uri", "/schemaURL")]
    [InlineData("producer", null, "/producer")]
    public async Task AnInvalidFieldIsNamedAndNothingIsApplied(string field, string? value, string pointer)
    {
        var ns = NewNamespace();
        var good = RunEvent("COMPLETE", ns, "good", Guid.NewGuid(), DateTimeOffset.UtcNow.AddMinutes(-1),
            outputs: new JsonArray(new JsonObject { ["namespace"] = ns, ["name"] = "out" }));
        var bad = RunEvent("COMPLETE", ns, "bad", Guid.NewGuid(), DateTimeOffset.UtcNow.AddMinutes(-1));
        if (value is null) bad.Remove(field); else bad[field] = value;

        var r = await Post(new JsonArray(good, bad));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.StartsWith("application/problem+json", r.Content.Headers.ContentType!.ToString());
        var problem = await r.ReadJson();
        Assert.True(problem["errors"]!.AsObject().ContainsKey("/1" + pointer), problem.ToJsonString());

        // Nothing of the request was applied, not even its valid first event.
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/v1/lineage?node={Uri.EscapeDataString($"job:{ns}:good")}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/v1/pipelines/{ns}:good")).StatusCode);

        // Single event: the pointer has no index.
        var single = await Post(bad);
        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        Assert.True((await single.ReadJson())["errors"]!.AsObject().ContainsKey(pointer));
    }

    [Fact]
    public async Task ABodyThatIsNotJsonOrHasNoRunIdIsRefused()
    {
        var notJson = await _client.PostAsync("/api/v1/lineage", new StringContent("{\"eventType\": START", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.True((await notJson.ReadJson())["errors"]!.AsObject().ContainsKey(""));

        var noRunId = RunEvent("START", NewNamespace(), "j", Guid.NewGuid(), DateTimeOffset.UtcNow);
        noRunId["run"]!.AsObject().Remove("runId");
        var r = await Post(noRunId);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.True((await r.ReadJson())["errors"]!.AsObject().ContainsKey("/run/runId"));

        var surrogate = RunEvent("START", NewNamespace(), "j", Guid.NewGuid(), DateTimeOffset.UtcNow).ToJsonString().Replace("\"name\":\"j\"", "\"name\":\"j\\ud800\"");
        Assert.Contains("\\ud800", surrogate);
        var lone = await _client.PostAsync("/api/v1/lineage", new StringContent(surrogate, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, lone.StatusCode);

        var wrongType = await _client.PostAsync("/api/v1/lineage", new StringContent("x", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
    }

    [Fact]
    public async Task IngestKeysPostReaderKeysReadTheGraph()
    {
        var ns = NewNamespace();
        var ingest = await app.Factory.CreateClientWithRoleAsync("ingest");
        var reader = await app.Factory.CreateClientWithRoleAsync("reader");
        var e = RunEvent("COMPLETE", ns, "j", Guid.NewGuid(), DateTimeOffset.UtcNow.AddMinutes(-1),
            inputs: new JsonArray(new JsonObject { ["namespace"] = ns, ["name"] = "in" }));

        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(e, app.Factory.CreateAnonymousClient())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Post(e, reader)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Post(e, ingest)).StatusCode);

        var graph = await reader.GetAsync($"/api/v1/lineage?node={Uri.EscapeDataString($"dataset:{ns}:in")}&depth=1");
        Assert.Equal(HttpStatusCode.OK, graph.StatusCode);
        var node = NodeOf(await graph.ReadJson(), $"dataset:{ns}:in")!;
        Assert.Equal([$"job:{ns}:j"], Destinations(node));
        // An input nobody writes is a dataset entity too, readable with a reader key.
        var dataset = await reader.GetAsync($"/api/v1/datasets/{Uri.EscapeDataString((string)node["data"]!["entityId"]!)}");
        Assert.Equal(HttpStatusCode.OK, dataset.StatusCode);
        Assert.Equal("in", (string?)(await dataset.ReadJson())["dataset"]!["name"]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Factory.CreateAnonymousClient().GetAsync($"/api/v1/lineage?node=dataset:{ns}:in")).StatusCode);
    }

    [Fact]
    public async Task AModelJoinsTheGraphThroughItsTrainingPipeline()
    {
        var ns = NewNamespace();
        var now = DateTimeOffset.UtcNow;
        await Post(RunEvent("COMPLETE", ns, "train", Guid.NewGuid(), now.AddMinutes(-1),
            inputs: new JsonArray(new JsonObject { ["namespace"] = ns, ["name"] = "features" })));
        var pipelineId = await PipelineIdOf($"job:{ns}:train");
        var model = $"m-{Guid.NewGuid():N}"[..12];
        var put = await _client.PutJson($"/api/v1/models/{model}", new { trainingPipelineId = pipelineId });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var graph = (await Graph($"dataset:{ns}:features", depth: 2))!;
        var modelNode = NodeOf(graph, $"model:{model}")!;
        Assert.Equal("MODEL", (string?)modelNode["type"]);
        Assert.Equal([$"job:{ns}:train"], Origins(modelNode));
        Assert.Contains($"model:{model}", Destinations(NodeOf(graph, $"job:{ns}:train")!));
        // depth counts edges: at depth 1 from the dataset the model is not reached.
        Assert.Null(NodeOf((await Graph($"dataset:{ns}:features", depth: 1))!, $"model:{model}"));
    }

    [Fact]
    public async Task DatasetAndJobEventsDescribeTheGraphWithoutCountingRuns()
    {
        var ns = NewNamespace();
        var now = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        var datasetEvent = new JsonObject
        {
            ["eventTime"] = now,
            ["dataset"] = new JsonObject
            {
                ["namespace"] = ns, ["name"] = "customers",
                ["facets"] = new JsonObject { ["schema"] = new JsonObject { ["fields"] = new JsonArray(new JsonObject { ["name"] = "email", ["type"] = "string" }) } },
            },
            ["producer"] = "https://example.test/producer",
            ["schemaURL"] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        };
        var jobEvent = new JsonObject
        {
            ["eventTime"] = now,
            ["job"] = new JsonObject { ["namespace"] = ns, ["name"] = "dedupe" },
            ["inputs"] = new JsonArray(new JsonObject { ["namespace"] = ns, ["name"] = "customers" }),
            ["outputs"] = new JsonArray(new JsonObject { ["namespace"] = ns, ["name"] = "customers_clean" }),
            ["producer"] = "https://example.test/producer",
            ["schemaURL"] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        };
        var r = await Post(new JsonArray(datasetEvent, jobEvent));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var reply = await r.ReadJson();
        Assert.Equal((1, 1, 0), ((int)reply["datasetEvents"]!, (int)reply["jobEvents"]!, (int)reply["points"]!));

        var graph = (await Graph($"job:{ns}:dedupe"))!;
        var job = NodeOf(graph, $"job:{ns}:dedupe")!;
        Assert.Equal([$"dataset:{ns}:customers"], Origins(job));
        Assert.Equal([$"dataset:{ns}:customers_clean"], Destinations(job));
        Assert.Equal("email", (string?)NodeOf(graph, $"dataset:{ns}:customers")!["data"]!["fields"]![0]!["name"]);
        var customers = (await _client.GetJsonOrNull($"/api/v1/datasets/{Uri.EscapeDataString($"{ns}:customers")}"))!;
        Assert.Equal("string", (string?)customers["dataset"]!["fields"]![0]!["type"]);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/v1/pipelines/{ns}:dedupe")).StatusCode);
    }

    [Fact]
    public async Task StatisticsAndAssertionsBecomeRowsAndDataQualityFailures()
    {
        var ns = NewNamespace();
        var input = new JsonObject
        {
            ["namespace"] = ns, ["name"] = "src",
            ["inputFacets"] = new JsonObject
            {
                ["inputStatistics"] = new JsonObject { ["rowCount"] = 500 },
                ["dataQualityAssertions"] = new JsonObject
                {
                    ["assertions"] = new JsonArray(
                        new JsonObject { ["assertion"] = "not_null", ["success"] = false },
                        new JsonObject { ["assertion"] = "unique", ["success"] = true }),
                },
            },
        };
        var output = new JsonObject
        {
            ["namespace"] = ns, ["name"] = "dst",
            ["outputFacets"] = new JsonObject { ["outputStatistics"] = new JsonObject { ["rowCount"] = 480 } },
        };
        await Post(RunEvent("COMPLETE", ns, "load", Guid.NewGuid(), DateTimeOffset.UtcNow.AddMinutes(-1), new JsonArray(input), new JsonArray(output)));
        var id = Uri.EscapeDataString(await PipelineIdOf($"job:{ns}:load"));
        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{id}"), s => s?["pipeline"]?["successesTotal"]?.GetValue<long>() == 1);
        Assert.Equal(500, s!["pipeline"]!["rowsInTotal"]!.GetValue<double>());
        Assert.Equal(480, s["pipeline"]!["rowsOutTotal"]!.GetValue<double>());
        Assert.Equal(1, s["pipeline"]!["dataQualityFailuresTotal"]!.GetValue<double>());
        var dst = Uri.EscapeDataString($"{ns}:dst");
        var d = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/datasets/{dst}"), d => d?["dataset"]?["rowsWrittenTotal"]?.GetValue<double>() == 480);
        Assert.Equal(1, d!["dataset"]!["writesTotal"]!.GetValue<double>());
    }
}

using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AiOps.IntegrationTests.Infrastructure;

/// <summary>Builds telemetry bodies and reads the API's JSON.</summary>
public static class Telemetry
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// <paramref name="count"/> timestamps, oldest first, that all lie in the server clock's current month and
    /// none in the future: "month to date" is the server's month and a time more than 5 minutes ahead is refused,
    /// so a fixed offset from now or from the month's start fails near a month boundary. Within 2 minutes of a
    /// month's end this waits for the next month. With <paramref name="within"/> they also lie in that span
    /// before now (for figures such as freshness that look back from now).
    /// </summary>
    public static async Task<DateTimeOffset[]> ThisMonthAsync(int count, TimeSpan? within = null)
    {
        var now = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        if (start.AddMonths(1) - now < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(start.AddMonths(1) - now + TimeSpan.FromSeconds(1));
            now = DateTimeOffset.UtcNow;
            start = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        }
        if (within is { } span && now - span > start) start = now - span;
        var step = (now - start) / (count + 1);
        return Enumerable.Range(1, count).Select(i => start + i * step).ToArray();
    }

    public static JsonObject Event(string kind, string id, string metric, double value, DateTimeOffset? at = null, string? eventId = null, object? attributes = null)
    {
        var e = new JsonObject
        {
            ["entity"] = new JsonObject { ["kind"] = kind, ["id"] = id },
            ["metric"] = metric,
            ["value"] = value,
        };
        if (at is not null) e["timestamp"] = at.Value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        if (eventId is not null) e["id"] = eventId;
        if (attributes is not null) e["attributes"] = JsonSerializer.SerializeToNode(attributes);
        return e;
    }

    public static StringContent Body(params JsonObject[] events) =>
        new(new JsonArray(events.Select(e => (JsonNode)e).ToArray()).ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Raw(string text, string contentType = "application/json") => new(text, Encoding.UTF8, contentType);

    public static async Task<JsonNode> ReadJson(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("empty body");

    public static async Task<JsonNode?> GetJsonOrNull(this HttpClient client, string url)
    {
        var r = await client.GetAsync(url);
        return r.IsSuccessStatusCode ? await r.ReadJson() : null;
    }

    public static async Task<JsonNode> PostTelemetry(this HttpClient client, params JsonObject[] events)
    {
        var r = await client.PostAsync("/api/v1/telemetry", Body(events));
        Assert.True(r.IsSuccessStatusCode, $"ingest failed: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return await r.ReadJson();
    }

    /// <summary>
    /// Sends <paramref name="events"/> (points <paramref name="from"/> on of one series of the entity at
    /// <paramref name="entityUrl"/>), waits until they are applied, and checks the anomaly score of each against
    /// <paramref name="expected"/> (indexed like the series' points) to the 4 decimals the series API reports.
    /// </summary>
    public static async Task SendAndCompareScores(this HttpClient client, string entityUrl, string metric, JsonObject[] events,
        int from, double[] expected, string scorer)
    {
        await client.PostTelemetry(events);
        await Eventually.Until(() => client.GetJsonOrNull(entityUrl), j => j?["eventsApplied"]?.GetValue<long>() == from + events.Length);
        var raw = await client.GetJsonOrNull($"{entityUrl}/metrics/{metric}?resolution=raw");
        var scores = raw!["points"]!.AsArray().TakeLast(events.Length).Select(p => p!["anomalyScore"]!.GetValue<double>()).ToArray();
        Assert.Equal(events.Length, scores.Length);
        for (int k = 0; k < scores.Length; k++)
            Assert.True(Math.Abs(scores[k] - expected[from + k]) <= 6e-5,
                $"point {from + k}: {scorer} scored {scores[k]}, expected {expected[from + k]:F4}");
    }

    public static Task<HttpResponseMessage> PutJson(this HttpClient client, string url, object body) => client.PutAsJsonAsync(url, body, Json);
}

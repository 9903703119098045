using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

public sealed class SecurityTests : IClassFixture<IngestionApiTests.App>
{
    private readonly IngestionApiTests.App _app;

    public SecurityTests(IngestionApiTests.App app) => _app = app;

    // Health probes, and the Scalar UI's own static files (script, icon: no data; the document it
    // renders, /openapi/v1.json, needs a key).
    private static readonly string[] AnonymousRoutes = ["/health/live", "/health/ready"];

    private static bool IsAnonymous(string pattern) =>
        AnonymousRoutes.Contains(pattern) || (pattern.StartsWith("/scalar/") && Path.HasExtension(pattern) && !pattern.Contains('{'));

    /// <summary>
    /// Generated from the app's own endpoint list: every route must carry one of the known policies (or be
    /// a health probe), answer 401 without a key, 403 to roles outside its policy, and neither to roles in it.
    /// A new route cannot escape this test.
    /// </summary>
    [Fact]
    public async Task EveryRouteEnforcesItsRolePolicy()
    {
        var endpoints = _app.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.True(endpoints.Count > 10);
        var clients = new Dictionary<string, HttpClient>();
        foreach (var role in Roles.All) clients[role] = await _app.Factory.CreateClientWithRoleAsync(role);
        var anonymous = _app.Factory.CreateAnonymousClient();
        var checkedRoutes = 0;

        foreach (var endpoint in endpoints)
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            if (IsAnonymous(pattern))
            {
                Assert.NotNull(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
                continue;
            }
            Assert.True(endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null, $"{pattern} allows anonymous access");
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).Where(p => p is not null).ToList();
            var policy = policies.LastOrDefault();
            // Routes without an explicit policy fall back to admin-only.
            var allowed = policy is null ? [Roles.Admin] : SecurityExtensions.PolicyRoles[policy];
            var url = Fill(pattern);

            foreach (var method in methods)
            {
                if (url.EndsWith("/stream")) continue; // SSE: checked in its own test (the response never ends)
                var unauth = await Send(anonymous, method, url);
                Assert.True(unauth == HttpStatusCode.Unauthorized, $"{method} {pattern} without a key answered {(int)unauth}");
                foreach (var role in Roles.All)
                {
                    var status = await Send(clients[role], method, url);
                    if (allowed.Contains(role))
                        Assert.True(status is not HttpStatusCode.Unauthorized and not HttpStatusCode.Forbidden and < HttpStatusCode.InternalServerError,
                            $"{method} {pattern} as {role} answered {(int)status}");
                    else
                        Assert.True(status == HttpStatusCode.Forbidden, $"{method} {pattern} as {role} answered {(int)status}, expected 403");
                }
                checkedRoutes++;
            }
        }
        Assert.True(checkedRoutes > 10);
    }

    private static string Fill(string pattern) => System.Text.RegularExpressions.Regex.Replace(pattern, "\\{([^}:]+)[^}]*\\}", m => m.Groups[1].Value switch
    {
        "documentName" => "v1",
        "metric" => "cost",
        _ => "matrix-probe",
    });

    private static async Task<HttpStatusCode> Send(HttpClient client, string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return response.StatusCode;
    }

    [Fact]
    public async Task AnIngestKeyCanOnlyIngest()
    {
        var ingest = await _app.Factory.CreateClientWithRoleAsync(Roles.Ingest);
        var r = await ingest.PostAsync("/api/v1/telemetry", Body(Event("model", "ingest-only", "predictions", 1)));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ingest.GetAsync("/api/v1/value")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ingest.GetAsync("/api/v1/models/ingest-only")).StatusCode);
        var reader = await _app.Factory.CreateClientWithRoleAsync(Roles.Reader);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/api/v1/telemetry", Body(Event("model", "ingest-only", "predictions", 1)))).StatusCode);
    }

    [Fact]
    public async Task UnknownMalformedAndRevokedKeysGet401WithProblemDetails()
    {
        var admin = _app.Factory.CreateClient();
        var created = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name = "short-lived", role = "reader" })).ReadJson();
        var key = (string)created["key"]!;
        var keyId = (string)created["info"]!["keyId"]!;

        var client = _app.Factory.CreateAnonymousClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/value")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/v1/keys/{keyId}")).StatusCode);
        var revoked = await client.GetAsync("/api/v1/value");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Equal("application/problem+json", revoked.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Bearer", revoked.Headers.WwwAuthenticate.ToString());

        foreach (var bad in new[] { "nonsense", "aiops_abcdefgh_" + new string('x', 43), key[..^1] + (key[^1] == 'A' ? 'B' : 'A') })
        {
            var c = _app.Factory.CreateAnonymousClient();
            c.DefaultRequestHeaders.Authorization = new("Bearer", bad);
            Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("/api/v1/value")).StatusCode);
        }
    }

    [Fact]
    public async Task KeysAreStoredOnlyAsHashesAndListedWithoutSecrets()
    {
        var admin = _app.Factory.CreateClient();
        var created = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name = "hash-check", role = "operator" })).ReadJson();
        var key = (string)created["key"]!;
        // The secret is base64url and may itself contain '_': parse the documented format, not the last separator
        // (a one-character "secret" after a '_' inside the real one made this check fail by chance).
        Assert.True(AiOps.Abstractions.Security.ApiKeyFormat.TryParse(key, out _, out var secret), key);
        Assert.Equal(43, secret.Length);

        var list = await (await admin.GetAsync("/api/v1/keys")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, list);
        Assert.Contains("hash-check", list);

        await _app.Factory.Services.GetRequiredService<Orleans.IClusterClient>()
            .GetGrain<AiOps.Abstractions.Security.IApiKeyRegistryGrain>("default").ListAsync(); // registry is live
        await using var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_app.Factory.DataDirectory, "aiops.db")}");
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT PayloadBinary FROM OrleansStorage";
        var stored = new StringBuilder();
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                if (!reader.IsDBNull(0)) stored.Append(Encoding.UTF8.GetString((byte[])reader[0]));
        }
        Assert.Contains("hash-check", stored.ToString());
        Assert.DoesNotContain(secret, stored.ToString());
    }

    [Fact]
    public async Task InvalidKeyRequestsNameTheField()
    {
        var admin = _app.Factory.CreateClient();
        var r = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "x", role = "superuser" });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.True((await r.ReadJson())["errors"]!.AsObject().ContainsKey("role"));
        var r2 = await admin.PostAsJsonAsync("/api/v1/keys", new { role = "reader" });
        Assert.True((await r2.ReadJson())["errors"]!.AsObject().ContainsKey("name"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void TheBootstrapKeyFileIsReadableByItsOwnerOnly()
    {
        var path = Path.Combine(_app.Factory.DataDirectory, BootstrapKeyService.FileName);
        var mode = File.GetUnixFileMode(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }
}

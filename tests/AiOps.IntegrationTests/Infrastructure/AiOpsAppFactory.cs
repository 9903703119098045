using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace AiOps.IntegrationTests.Infrastructure;

/// <summary>
/// The real server (silo + API, embedded mode on a SQLite file) in the test process. Each instance gets
/// its own data folder and ports; pass a folder to reopen the same database after a restart.
/// </summary>
public sealed class AiOpsAppFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? _services;

    /// <param name="services">Test-only additions to the server's services (e.g. a fault-injecting grain call filter).</param>
    public AiOpsAppFactory(string? dataDirectory = null, IDictionary<string, string?>? settings = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        _services = services;
        DataDirectory = dataDirectory ?? TempDirectory.Create("aiops-app");
        _settings = new Dictionary<string, string?>
        {
            ["AiOps:Mode"] = "Embedded",
            ["AiOps:DataDirectory"] = DataDirectory,
            ["AiOps:SiloPort"] = FreePorts.Next().ToString(),
            ["AiOps:GatewayPort"] = FreePorts.Next().ToString(),
            ["AiOps:Grains:DigestInterval"] = "00:00:00.200",
        };
        if (settings is not null)
        {
            foreach (var (k, v) in settings) _settings[k] = v;
        }
    }

    public string DataDirectory { get; }

    /// <summary>The bootstrap admin key the server wrote on its first start.</summary>
    public string AdminKey => File.ReadAllText(Path.Combine(DataDirectory, "bootstrap-admin.key")).Trim();

    /// <summary>Every client from <c>CreateClient()</c> carries the admin key unless told otherwise.</summary>
    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
    }

    /// <summary>A client without any key.</summary>
    public HttpClient CreateAnonymousClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    /// <summary>A client holding a fresh key of the given role, created through the API.</summary>
    public async Task<HttpClient> CreateClientWithRoleAsync(string role)
    {
        var admin = CreateClient();
        var r = await admin.PostAsJsonAsync("/api/v1/keys", new { name = $"test-{role}", role });
        r.EnsureSuccessStatusCode();
        var key = (await r.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["key"]!.GetValue<string>();
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
        if (_services is not null) builder.ConfigureServices(_services);
    }
}

public static class TempDirectory
{
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}

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

    public AiOpsAppFactory(string? dataDirectory = null, IDictionary<string, string?>? settings = null)
    {
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

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
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

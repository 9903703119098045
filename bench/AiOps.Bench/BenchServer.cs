using System.Net;
using System.Net.Sockets;
using AiOps.Server;
using AiOps.Server.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace AiOps.Bench;

/// <summary>
/// The real server (embedded mode, real Kestrel on loopback, real SQLite file) in the benchmark process,
/// plus one extra route, <c>/bench/noop</c>: it reads and parses the same payload but publishes nothing —
/// the baseline that the ingestion figure is compared with.
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchServer(WebApplication app, string dataDirectory, int port)
    {
        _app = app;
        DataDirectory = dataDirectory;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public string DataDirectory { get; }
    public Uri BaseAddress { get; }
    public IClusterClient Client => _app.Services.GetRequiredService<IClusterClient>();
    public IServiceProvider Services => _app.Services;
    public string AdminKey => File.ReadAllText(Path.Combine(DataDirectory, "bootstrap-admin.key")).Trim();

    public static async Task<BenchServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var data = Path.Combine(Path.GetTempPath(), $"aiops-bench-{Guid.NewGuid():N}");
        var port = FreePort();
        var args = new List<string>
        {
            "--urls", $"http://127.0.0.1:{port}",
            "--AiOps:DataDirectory", data,
            "--AiOps:SiloPort", FreePort().ToString(),
            "--AiOps:GatewayPort", FreePort().ToString(),
            "--Logging:LogLevel:Default", "Warning",
            "--environment", "Production",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) { args.Add($"--{k}"); args.Add(v ?? ""); }
        var app = AiOpsApplication.Create(args.ToArray());
        app.MapPost("/bench/noop", async (HttpRequest request, CancellationToken ct) =>
        {
            var (buffer, length, error) = await ReadBody(request, ct);
            var parsed = TelemetryParser.Parse(buffer.AsSpan(0, length), DateTimeOffset.UtcNow);
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            var accepted = parsed.Accepted;
            parsed.Release();
            return Results.Accepted(null, new { accepted });
        }).AllowAnonymous();
        await app.StartAsync();
        return new BenchServer(app, data, port);
    }

    private static Task<(byte[] Buffer, int Length, object? Error)> ReadBody(HttpRequest request, CancellationToken ct) =>
        AiOps.Server.Apis.TelemetryApi.ReadBodyAsync(request, ct).ContinueWith(t => (t.Result.Buffer, t.Result.Length, (object?)t.Result.Error), ct);

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

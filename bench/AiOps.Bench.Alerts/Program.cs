using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// Webhook delivery benchmark: N test alerts to a local receiver that fails a share of requests at random.
// Runs (same process, same machine): a baseline with a healthy receiver, the flaky receiver, and the flaky
// receiver with a graceful server restart while deliveries are pending. The server runs as a child process
// (dotnet AiOps.Server.dll, embedded mode) so that the restart is a real one.
// raise s: time to raise all alerts through POST /api/v1/alerts/test (8 parallel requests); drain s: from the
// first alert until the receiver has accepted every alert; tail s = drain - raise (mostly retry backoff).
//
//   dotnet run -c Release --project bench/AiOps.Bench.Alerts -- [--alerts 1000] [--failure 0.3] [--retry-base 00:00:01]

var alerts = IntArg("--alerts", 1000);
var failure = DoubleArg("--failure", 0.3);
var retryBase = Arg("--retry-base") ?? "00:00:01";
Console.WriteLine($"alerts={alerts} failure={failure:P0} retryBase={retryBase} retryMax=5 min (default) concurrency=8/subscription (default) cores={Environment.ProcessorCount}");
Console.WriteLine();

var results = new List<RunResult>
{
    await RunAsync("baseline: healthy receiver", 0, restart: false),
    await RunAsync($"flaky receiver ({failure:P0} fail)", failure, restart: false),
    await RunAsync($"flaky receiver ({failure:P0} fail) + restart", failure, restart: true),
};

Console.WriteLine();
Console.WriteLine($"{"run",-40} {"raise s",8} {"drain s",8} {"tail s",7} {"delivered",10} {"missing",8} {"dup",5} {"requests",9} {"503s",6} {"pending@stop",13} {"downtime s",11}");
foreach (var r in results)
{
    Console.WriteLine($"{r.Name,-40} {r.RaiseSeconds,8:F2} {r.DrainSeconds,8:F2} {r.DrainSeconds - r.RaiseSeconds,7:F2} {r.Delivered,10} {r.Missing,8} {r.Duplicates,5} {r.Requests,9} {r.Failed,6} {(r.PendingAtStop?.ToString() ?? "-"),13} {(r.DowntimeSeconds is { } d ? d.ToString("F2") : "-"),11}");
}
var ok = results.All(r => r.Missing == 0 && r.Delivered == alerts && r.BadSignatures == 0);
Console.WriteLine(ok ? "\nOK: every alert delivered, exactly once after dedupe by delivery id, signatures valid." : "\nFAILED: see the table.");
return ok ? 0 : 1;

async Task<RunResult> RunAsync(string name, double failRate, bool restart)
{
    Console.WriteLine($"== {name}");
    await using var receiver = await Receiver.StartAsync(failRate);
    var data = Path.Combine(Path.GetTempPath(), $"aiops-bench-alerts-{Guid.NewGuid():N}");
    var server = await Server.StartAsync(data);
    try
    {
        var sub = await (await server.Client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url, entityKind = "pipeline", entityId = "aiops-test-*" })).Content.ReadFromJsonAsync<JsonObject>();
        receiver.Secret = (string)sub!["secret"]!;
        var subId = (string)sub["subscription"]!["id"]!;

        var raised = new ConcurrentDictionary<string, bool>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, alerts, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var r = await server.Client.PostAsJsonAsync("/api/v1/alerts/test", new { summary = $"bench alert {i}" }, ct);
            r.EnsureSuccessStatusCode();
            var j = await r.Content.ReadFromJsonAsync<JsonObject>(ct);
            raised[(string)j!["alert"]!["id"]!] = true;
        });
        var raiseSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"   raised {raised.Count} alerts in {raiseSeconds:F2} s; delivered so far {receiver.UniqueAlerts}");

        int? pendingAtStop = null;
        double? downtime = null;
        if (restart)
        {
            var status = await server.Client.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{subId}");
            pendingAtStop = (int)status!["outbox"]!["pending"]!;
            var down = Stopwatch.StartNew();
            await server.StopAsync();
            Console.WriteLine($"   server stopped (SIGTERM) with {pendingAtStop} deliveries pending; delivered so far {receiver.UniqueAlerts}");
            server = await Server.StartAsync(data);
            downtime = down.Elapsed.TotalSeconds;
            Console.WriteLine($"   server restarted on the same data directory after {downtime:F2} s");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (receiver.UniqueAlerts < alerts && DateTime.UtcNow < deadline) await Task.Delay(20);
        var drain = clock.Elapsed.TotalSeconds;
        await Task.Delay(1000); // late duplicates, if any, would land now
        var missing = raised.Keys.Count(id => !receiver.AlertIds.ContainsKey(id));
        Console.WriteLine($"   drained in {drain:F2} s from the first alert; unique deliveries {receiver.UniqueDeliveries}, duplicates dropped {receiver.Duplicates}, missing {missing}");
        return new RunResult(name, raiseSeconds, drain, receiver.UniqueAlerts, missing, receiver.Duplicates, receiver.Requests, receiver.Failed, receiver.BadSignatures, pendingAtStop, downtime);
    }
    finally
    {
        await server.StopAsync();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
    }
}

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
int IntArg(string name, int fallback) => Arg(name) is { } v ? int.Parse(v) : fallback;
double DoubleArg(string name, double fallback) => Arg(name) is { } v ? double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

internal sealed record RunResult(string Name, double RaiseSeconds, double DrainSeconds, int Delivered, int Missing, long Duplicates, long Requests, long Failed, long BadSignatures, int? PendingAtStop, double? DowntimeSeconds);

/// <summary>Kestrel receiver on 127.0.0.1: verifies HMAC-SHA256 of the raw body, fails a share at random, dedupes by delivery id.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _requests, _failed, _duplicates, _badSignatures;
    private Receiver(WebApplication app, double failRate) { _app = app; FailRate = failRate; }

    public double FailRate { get; }
    public string Url { get; private set; } = "";
    public string Secret { get; set; } = "";
    public ConcurrentDictionary<string, bool> DeliveryIds { get; } = new();
    public ConcurrentDictionary<string, bool> AlertIds { get; } = new();
    public int UniqueDeliveries => DeliveryIds.Count;
    public int UniqueAlerts => AlertIds.Count;
    public long Requests => Interlocked.Read(ref _requests);
    public long Failed => Interlocked.Read(ref _failed);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long BadSignatures => Interlocked.Read(ref _badSignatures);

    public static async Task<Receiver> StartAsync(double failRate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new Receiver(app, failRate);
        app.MapPost("/hook", (Delegate)receiver.HandleAsync);
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/hook";
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        if (Random.Shared.NextDouble() < FailRate)
        {
            Interlocked.Increment(ref _failed);
            return Results.StatusCode(503);
        }
        var body = buffer.ToArray();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(http.Request.Headers["X-AiOps-Signature"].ToString()), Encoding.ASCII.GetBytes(expected)))
        {
            Interlocked.Increment(ref _badSignatures);
            return Results.StatusCode(401);
        }
        if (!DeliveryIds.TryAdd(http.Request.Headers["X-AiOps-Delivery"].ToString(), true))
        {
            Interlocked.Increment(ref _duplicates);
            return Results.NoContent();
        }
        var alertId = (string)JsonNode.Parse(body)!["alert"]!["id"]!;
        AlertIds[alertId] = true;
        return Results.NoContent();
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>The server as users run it: dotnet AiOps.Server.dll, embedded mode, its own ports and data directory.</summary>
internal sealed class Server
{
    private readonly Process _process;
    private Server(Process process, HttpClient client) { _process = process; Client = client; }
    public HttpClient Client { get; }

    public static async Task<Server> StartAsync(string data)
    {
        Directory.CreateDirectory(data);
        int Port() { var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0); l.Start(); var p = ((IPEndPoint)l.LocalEndpoint).Port; l.Stop(); return p; }
        var http = Port();
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "AiOps.Server.dll"), "--urls", $"http://127.0.0.1:{http}"])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        psi.Environment["AiOps__Mode"] = "Embedded";
        psi.Environment["AiOps__DataDirectory"] = data;
        psi.Environment["AiOps__SiloPort"] = Port().ToString();
        psi.Environment["AiOps__GatewayPort"] = Port().ToString();
        psi.Environment["AiOps__Alerts__AutoResolveAfter"] = "01:00:00"; // test alerts would otherwise resolve (and notify) meanwhile
        psi.Environment["AiOps__Alerts__Webhooks__AllowedInternalNetworks__0"] = "127.0.0.0/8"; // the receiver is on loopback
        psi.Environment["AiOps__Alerts__Webhooks__RetryBase"] = Arg("--retry-base") ?? "00:00:01";
        psi.Environment["AiOps__Alerts__Feed__MaintenanceInterval"] = "00:00:05";
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("   [server] " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromSeconds(60) };
        var keyFile = Path.Combine(data, "bootstrap-admin.key");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"server exited with {process.ExitCode}");
            try
            {
                if ((await client.GetAsync("/health/ready")).IsSuccessStatusCode && File.Exists(keyFile))
                {
                    client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", File.ReadAllText(keyFile).Trim());
                    return new Server(process, client);
                }
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException("server not ready");

        static string? Arg(string name) => Environment.GetCommandLineArgs().SkipWhile(a => a != name).Skip(1).FirstOrDefault();
    }

    /// <summary>Graceful stop (SIGTERM), as a service manager does it.</summary>
    public async Task StopAsync()
    {
        Client.Dispose();
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
    }
}

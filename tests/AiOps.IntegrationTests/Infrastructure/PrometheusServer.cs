using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace AiOps.IntegrationTests.Infrastructure;

/// <summary>
/// A private Prometheus server (the distribution binary, e.g. Debian's <c>/usr/bin/prometheus</c>) on a free
/// loopback port with a temporary TSDB, scraping one target every second with a bearer credentials file.
/// A missing binary makes <see cref="StartAsync"/> throw: tests must fail, not skip.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Job = "aiops";
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _root;

    private PrometheusServer(Process process, string root, int port)
    {
        _process = process;
        _root = root;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }
    public HttpClient Client { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The prometheus binary on PATH or at /usr/bin/prometheus; throws with an install hint when absent.</summary>
    public static string FindBinary() => FindTool("prometheus") ?? throw new InvalidOperationException(
        "The 'prometheus' binary was not found on PATH or at /usr/bin/prometheus. Install it (Debian: apt-get install -y prometheus, " +
        "or run deploy/local/install-deps.sh) to run the Prometheus scrape test.");

    /// <summary>promtool, shipped with the prometheus package; null when absent.</summary>
    public static string? FindPromtool() => FindTool("promtool");

    private static string? FindTool(string name)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin");
        return dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>Writes the scrape configuration and starts Prometheus; returns once <c>/-/ready</c> answers.</summary>
    public static async Task<PrometheusServer> StartAsync(string target, string bearerToken, string metricsPath = "/metrics")
    {
        var binary = FindBinary();
        var root = TempDirectory.Create("aiops-prometheus");
        var credentials = Path.Combine(root, "scrape.token");
        await File.WriteAllTextAsync(credentials, bearerToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var config = Path.Combine(root, "prometheus.yml");
        await File.WriteAllTextAsync(config, string.Join('\n',
            "global:",
            "  scrape_interval: 1s",
            "  scrape_timeout: 1s",
            "  evaluation_interval: 1s",
            "scrape_configs:",
            $"  - job_name: {Job}",
            $"    metrics_path: {metricsPath}",
            "    authorization:",
            "      type: Bearer",
            $"      credentials_file: {credentials}",
            "    static_configs:",
            $"      - targets: ['{target}']",
            ""));

        var port = FreePorts.Next();
        var psi = new ProcessStartInfo(binary)
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     $"--config.file={config}",
                     $"--storage.tsdb.path={Path.Combine(root, "tsdb")}",
                     $"--web.listen-address=127.0.0.1:{port}",
                     "--log.level=warn",
                 })
            psi.ArgumentList.Add(arg);

        var process = new Process { StartInfo = psi };
        var server = new PrometheusServer(process, root, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._output) server._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._output) server._output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                var output = server.Output;
                await server.DisposeAsync();
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode} before it was ready:\n{output}");
            }
            try
            {
                if ((await server.Client.GetAsync("/-/ready")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        var log = server.Output;
        await server.DisposeAsync();
        throw new TimeoutException($"prometheus not ready within 60 s:\n{log}");
    }

    /// <summary>The scrape targets reported by <c>/api/v1/targets</c> (active ones).</summary>
    public async Task<JsonArray> ActiveTargetsAsync()
    {
        var data = await GetDataAsync("/api/v1/targets?state=active");
        return data["activeTargets"]!.AsArray();
    }

    /// <summary>One series of an instant query's result.</summary>
    public sealed record Sample(JsonObject Labels, double Value);

    /// <summary>An instant query: each series as (labels, value).</summary>
    public async Task<IReadOnlyList<Sample>> QueryAsync(string promQl)
    {
        var data = await GetDataAsync("/api/v1/query?query=" + Uri.EscapeDataString(promQl));
        if ((string?)data["resultType"] != "vector")
            throw new InvalidOperationException($"Query '{promQl}' returned {data["resultType"]}, not a vector.");
        return data["result"]!.AsArray()
            .Select(r => new Sample(r!["metric"]!.AsObject(), double.Parse((string)r["value"]![1]!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    private async Task<JsonNode> GetDataAsync(string url)
    {
        var response = await Client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        var json = JsonNode.Parse(text);
        if (!response.IsSuccessStatusCode || (string?)json?["status"] != "success")
            throw new InvalidOperationException($"Prometheus {url} answered {(int)response.StatusCode}: {text}");
        return json!["data"]!;
    }

    /// <summary>
    /// Runs <c>promtool check metrics</c> over exposition text. Returns null when promtool is absent,
    /// otherwise whether the text parsed (exit 0 = clean, 3 = lint remarks only; anything else, or a
    /// parsing error message, is a failure) and promtool's output.
    /// </summary>
    public static async Task<(bool Parsed, int ExitCode, string Output)?> CheckMetricsAsync(string exposition)
    {
        var promtool = FindPromtool();
        if (promtool is null) return null;
        var psi = new ProcessStartInfo(promtool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("check");
        psi.ArgumentList.Add("metrics");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        var output = await stdout + await stderr;
        var parsed = process.ExitCode is 0 or 3
                     && !output.Contains("parsing error", StringComparison.OrdinalIgnoreCase)
                     && !output.Contains("error while linting", StringComparison.OrdinalIgnoreCase);
        return (parsed, process.ExitCode, output);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

using System.Diagnostics;

namespace AiOps.Bench;

/// <summary>The server as a separate process (<c>dotnet AiOps.Server.dll</c>), for start-up and crash measurements.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, string dataDirectory, int port)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string DataDirectory { get; }
    public HttpClient Http { get; }
    public Stopwatch SinceStart { get; } = Stopwatch.StartNew();
    public int Pid => _process.Id;

    /// <summary>CPU time (user + system) the process has used so far (Linux <c>/proc/PID/stat</c>).</summary>
    public TimeSpan CpuTime() => StatCpu($"/proc/{_process.Id}/stat");

    /// <summary>CPU time so far of the server's threads whose name starts with <paramref name="threadNamePrefix"/> (Linux truncates names to 15 characters).</summary>
    public TimeSpan ThreadCpuTime(string threadNamePrefix)
    {
        var total = TimeSpan.Zero;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(threadNamePrefix, StringComparison.Ordinal))
                    total += StatCpu(Path.Combine(task, "stat"));
            }
            catch (IOException) { } // the thread ended meanwhile
        }
        return total;
    }

    private static TimeSpan StatCpu(string path)
    {
        var stat = File.ReadAllText(path);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of stat (utime, stime), counted from the state field (3) after the command name.
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    /// <summary>Resident set size of the process (Linux), in MiB.</summary>
    public double RssMiB()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
        return double.NaN;
    }

    /// <param name="serverDirectory">The build to run (a folder holding <c>AiOps.Server.dll</c>); default: the one built with this bench.</param>
    public static ServerProcess Start(string dataDirectory, IDictionary<string, string>? environment = null, string? serverDirectory = null)
    {
        var port = BenchServer.FreePort();
        var directory = serverDirectory ?? AppContext.BaseDirectory;
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(directory, "AiOps.Server.dll"), "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["AiOps__DataDirectory"] = dataDirectory;
        psi.Environment["AiOps__SiloPort"] = BenchServer.FreePort().ToString();
        psi.Environment["AiOps__GatewayPort"] = BenchServer.FreePort().ToString();
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServerProcess(process, dataDirectory, port);
    }

    public string Key => File.ReadAllText(Path.Combine(DataDirectory, "bootstrap-admin.key")).Trim();

    /// <summary>Polls until a telemetry POST is accepted; returns the time since the process was started.</summary>
    public async Task<TimeSpan> WaitFirstAcceptedAsync(string body, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"server exited with {_process.ExitCode}");
            try
            {
                if (File.Exists(Path.Combine(DataDirectory, "bootstrap-admin.key")))
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/telemetry") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
                    request.Headers.Authorization = new("Bearer", Key);
                    using var response = await Http.SendAsync(request);
                    if ((int)response.StatusCode == 202) return SinceStart.Elapsed;
                }
            }
            catch (HttpRequestException) { }
            catch (IOException) { }
            await Task.Delay(10);
        }
        throw new TimeoutException("the server did not accept telemetry in time");
    }

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async Task StopGracefullyAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])!) await kill.WaitForExitAsync();
        await _process.WaitForExitAsync();
    }

    public void Dispose()
    {
        Kill();
        Http.Dispose();
        _process.Dispose();
    }
}

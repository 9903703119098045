// Self-contained throwaway PostgreSQL server for tests and benches (the shared test-infrastructure project).
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace AiOps.Testing;

/// <summary>
/// Runs a private PostgreSQL server (initdb + pg_ctl from PATH or /usr/lib/postgresql/*/bin) in a temp
/// directory on a free loopback port, with trust auth for user <c>postgres</c> and <c>synchronous_commit=on</c>.
/// When the current user is root the server runs as the <c>postgres</c> OS user via <c>runuser</c>.
/// Missing binaries make <see cref="StartAsync"/> throw: tests must fail, not skip.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly string _rootDirectory;
    private readonly string _dataDirectory;
    private readonly string? _runAsUser;
    private int _disposed;

    private PostgresServer(string binDirectory, string rootDirectory, int port, string? runAsUser)
    {
        _binDirectory = binDirectory;
        _rootDirectory = rootDirectory;
        _dataDirectory = Path.Combine(rootDirectory, "data");
        _runAsUser = runAsUser;
        Port = port;
        ConnectionString = BuildConnectionString("postgres");
    }

    /// <summary>TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Connection string to the <c>postgres</c> maintenance database.</summary>
    public string ConnectionString { get; }

    /// <summary>Directory holding the cluster (data/), socket and server log (server.log).</summary>
    public string RootDirectory => _rootDirectory;

    /// <summary>Initialises and starts a new server. Throws with a clear message if PostgreSQL is not installed.</summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var bin = FindBinDirectory();
        var runAs = IsRoot() ? "postgres" : null;
        var root = Path.Combine(Path.GetTempPath(), "aiops-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        if (runAs is not null)
        {
            await RunAsync("chown", ["-R", runAs + ":", root], null, ct).ConfigureAwait(false);
        }
        else if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var port = GetFreePort();
        var server = new PostgresServer(bin, root, port, runAs);
        try
        {
            await server.InitAndStartAsync(ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return BuildConnectionString(name);
    }

    /// <summary>Builds a connection string for database <paramref name="database"/> on this server.</summary>
    public string BuildConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        Pooling = true,
        Timeout = 15,
    }.ConnectionString;

    /// <summary>Stops the server (fast shutdown) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(_dataDirectory, "postmaster.pid")))
        {
            try
            {
                await PgAsync("pg_ctl", ["-D", _dataDirectory, "-m", "fast", "-w", "-t", "30", "stop"], CancellationToken.None).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already stopped or failed to stop; the directory is removed below either way.
            }
        }

        try
        {
            Directory.Delete(_rootDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task InitAndStartAsync(CancellationToken ct)
    {
        await PgAsync("initdb", ["-D", _dataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"], ct).ConfigureAwait(false);

        var options = string.Join(' ',
            $"-p {Port}",
            $"-k {_rootDirectory}",
            "-c listen_addresses=127.0.0.1",
            "-c synchronous_commit=on",
            "-c fsync=on",
            "-c max_connections=200",
            "-c shared_buffers=32MB",
            "-c TimeZone=UTC");
        var log = Path.Combine(_rootDirectory, "server.log");
        try
        {
            await PgAsync("pg_ctl", ["-D", _dataDirectory, "-l", log, "-w", "-t", "60", "-o", options, "start"], ct).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            var tail = File.Exists(log) ? await File.ReadAllTextAsync(log, ct).ConfigureAwait(false) : "(no server log)";
            throw new InvalidOperationException($"{ex.Message}\nServer log:\n{tail}", ex);
        }

        // pg_ctl -w returns once the server accepts connections; verify over TCP.
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
    }

    private Task PgAsync(string tool, IReadOnlyList<string> args, CancellationToken ct)
    {
        var exe = Path.Combine(_binDirectory, tool);
        return _runAsUser is null
            ? RunAsync(exe, args, _rootDirectory, ct)
            : RunAsync("runuser", ["-u", _runAsUser, "--", exe, .. args], _rootDirectory, ct);
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> args, string? workingDirectory, CancellationToken ct)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["LC_ALL"] = "C";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        // pg_ctl leaves the server holding inherited stdout/stderr handles open, so do not wait for EOF
        // on the pipes: read them in the background and wait only for the process to exit.
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            throw new InvalidOperationException($"'{fileName} {string.Join(' ', args)}' exited with {process.ExitCode}:\n{text}");
        }
    }

    private static string FindBinDirectory()
    {
        var candidates = new List<string>();
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(dir);
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        foreach (var dir in candidates)
        {
            var initdb = Path.Combine(dir, "initdb");
            var pgctl = Path.Combine(dir, "pg_ctl");
            if (File.Exists(initdb) && File.Exists(pgctl))
            {
                // Resolve symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) so that
                // pg_ctl finds the matching 'postgres' binary next to it.
                var target = new FileInfo(initdb).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb;
                return Path.GetDirectoryName(target)!;
            }
        }

        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin. " +
            "Install them (Debian: apt-get install -y postgresql) to run the PostgreSQL tests.");
    }

    private static bool IsRoot()
    {
        try
        {
            return Environment.UserName == "root" || File.ReadAllText("/proc/self/status")
                .Split('\n').FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
                .Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

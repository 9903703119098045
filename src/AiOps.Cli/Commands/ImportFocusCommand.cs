using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace AiOps.Cli.Commands;

/// <summary>
/// `aiops import focus FILE`: streams a FOCUS cost file (CSV, CSV.gz sent as gzip, or .parquet sent as application/vnd.apache.parquet) to the server without loading it,
/// shows upload progress, and prints the import summary (rows mapped, unmapped, rejected with reasons, periods).
/// </summary>
public static class ImportFocusCommand
{
    public static Command Create()
    {
        var fileArg = new Argument<string>("FILE") { Description = "FOCUS cost file (.csv, .csv.gz sent as gzip, or .parquet)" }.NoOptionLike();
        var server = new Option<string?>("--server", "--url") { Description = "Server URL (default: AIOPS_URL or http://localhost:5080)", HelpName = "URL" };
        var apiKey = new Option<string?>("--api-key", "--key") { Description = "API key with the ingest or admin role (default: AIOPS_KEY)", HelpName = "KEY" };
        var keyFile = new Option<string?>("--key-file") { Description = "File holding the key (default data/bootstrap-admin.key)", HelpName = "PATH" };
        var quiet = new Option<bool>("--quiet") { Description = "No upload progress bar" };
        var command = new Command("focus", "Import a FOCUS cost file (CSV, .csv.gz or .parquet) into a running server; replaces its billing periods") { fileArg, server, apiKey, keyFile, quiet };
        command.SetUsageAction((r, ct) => RunAsync(r.GetValue(fileArg)!, r.GetValue(server), r.GetValue(apiKey), r.GetValue(keyFile), r.GetValue(quiet), ct));
        return command;
    }

    private static async Task<int> RunAsync(string path, string? server, string? apiKey, string? keyFile, bool quiet, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) throw new UsageException($"{path} does not exist");
        var url = server ?? Environment.GetEnvironmentVariable("AIOPS_URL") ?? "http://localhost:5080";
        var key = apiKey ?? Environment.GetEnvironmentVariable("AIOPS_KEY");
        if (key is null)
        {
            var file = keyFile ?? Path.Combine("data", "bootstrap-admin.key");
            if (!File.Exists(file)) throw new UsageException($"no API key: pass --api-key, --key-file or set AIOPS_KEY ({file} does not exist)");
            key = (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var total = stream.Length;
        var clock = Stopwatch.StartNew();
        var progress = new ProgressStream(stream, sent =>
        {
            if (quiet) return;
            var fraction = total > 0 ? (double)sent / total : 1;
            var width = 30;
            var filled = (int)(fraction * width);
            var rate = sent / Math.Max(0.001, clock.Elapsed.TotalSeconds) / (1024 * 1024);
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r[{new string('#', filled)}{new string('.', width - filled)}] {fraction,6:P1} {sent / (1024.0 * 1024):F1}/{total / (1024.0 * 1024):F1} MiB {rate:F1} MiB/s"));
        });
        var content = new StreamContent(progress, 1 << 20);
        var parquet = path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);
        content.Headers.ContentType = new MediaTypeHeaderValue(parquet ? "application/vnd.apache.parquet" : "text/csv");
        content.Headers.ContentLength = total;
        if (!parquet && path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) content.Headers.ContentEncoding.Add("gzip");

        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/costs/focus") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!quiet) Console.Error.WriteLine();
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"error: {(int)response.StatusCode} {body}");
            return 1;
        }
        Print(JsonNode.Parse(body)!, clock.Elapsed);
        return 0;
    }

    private static void Print(JsonNode r, TimeSpan elapsed)
    {
        var read = (long)r["rowsRead"]!;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rows read {read:N0}: mapped {(long)r["rowsMapped"]!:N0}, unmapped (unallocated) {(long)r["rowsUnmapped"]!:N0}, rejected {(long)r["rowsRejected"]!:N0} " +
            $"in {elapsed.TotalSeconds:F1} s ({read / Math.Max(0.001, elapsed.TotalSeconds):N0} rows/s)"));
        foreach (var p in r["periods"]!.AsArray())
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  period {(string)p!["billingPeriod"]!} account {(string)p["billingAccountId"]!}: {(long)p["rows"]!:N0} rows, billed {(double)p["billedCost"]!:F2} {(string)p["currency"]!}, " +
                $"{((bool)p["applied"]! ? ((bool)p["replaced"]! ? $"replaced (generation {(int)p["generation"]!})" : "imported") : $"NOT applied: {(string?)p["error"]}")}, {(int)p["pointsSent"]!} cost points sent"));
        }
        if (r["rejectedByReason"] is JsonObject reasons && reasons.Count > 0)
        {
            Console.WriteLine("rejected by reason:");
            foreach (var (reason, count) in reasons) Console.WriteLine($"  {(long)count!,8:N0}  {reason}");
            foreach (var x in r["rejections"]!.AsArray().Take(10))
                Console.WriteLine($"  row {(long)x!["row"]!}: {(string)x["column"]!} {(string)x["reason"]!}");
        }
    }

    /// <summary>A read-only stream that reports how many bytes were read, at most every 100 ms.</summary>
    private sealed class ProgressStream(Stream inner, Action<long> report) : Stream
    {
        private long _position;
        private long _lastReport;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Advance(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Advance(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Advance(int read)
        {
            _position += read;
            var now = Environment.TickCount64;
            if (read == 0 || now - _lastReport >= 100)
            {
                _lastReport = now;
                report(_position);
            }
            return read;
        }
    }
}

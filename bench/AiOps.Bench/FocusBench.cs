using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using nietras.SeparatedValues;
using Parquet;
using Parquet.Schema;

namespace AiOps.Bench;

/// <summary>
/// FOCUS import: generates FOCUS CSVs on disk (a baseline of --baseline-rows and the measured --rows), imports each into
/// a fresh server process over HTTP (streamed from the file), and prints rows/s and the server's peak working set
/// (VmHWM) before and after the import. Same run, same generator: if memory were proportional to rows, the large
/// file's peak would be ten times the small one's. With --parquet, each CSV is also written as a typed Parquet file
/// (--row-group rows per row group) and imported and read the same way, next to the CSV figures of the same rows.
/// </summary>
public static class FocusBench
{
    private static readonly string[] Columns =
    [
        "BilledCost", "EffectiveCost", "ListCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart",
        "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ServiceName", "ServiceCategory", "ResourceId",
        "ResourceName", "RegionId", "SubAccountId", "CommitmentDiscountId", "Tags",
    ];

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var rows = args.Int("rows", 5_000_000);
        var baselineRows = args.Int("baseline-rows", 500_000);
        var dir = Path.Combine(Path.GetTempPath(), $"aiops-focus-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var results = new List<string>();
            foreach (var n in new[] { baselineRows, rows })
            {
                var path = Path.Combine(dir, $"focus-{n}.csv");
                var gen = Stopwatch.StartNew();
                var expected = Generate(path, n);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"generated {n:N0} rows, {new FileInfo(path).Length / (1024.0 * 1024):F0} MiB in {gen.Elapsed.TotalSeconds:F1} s ({path})"));
                string? parquet = null;
                if (args.Get("parquet") is not null)
                {
                    parquet = Path.Combine(dir, $"focus-{n}.parquet");
                    gen.Restart();
                    await ToParquetAsync(path, parquet, args.Int("row-group", 100_000));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"wrote the same rows as Parquet, {new FileInfo(parquet).Length / (1024.0 * 1024):F0} MiB in {gen.Elapsed.TotalSeconds:F1} s"));
                }
                if (args.Get("read-only") is null)
                {
                    results.Add(await ImportAsync(path, n, expected, Path.Combine(dir, $"data-{n}"), "text/csv", "CSV"));
                    if (parquet is not null) results.Add(await ImportAsync(parquet, n, expected, Path.Combine(dir, $"data-pq-{n}"), "application/vnd.apache.parquet", "Parquet"));
                }
                for (var round = 0; round < args.Int("read-rounds", 1); round++)
                {
                    results.Add(await ReadOnlyAsync(path, n, false));
                    if (parquet is not null) results.Add(await ReadOnlyAsync(parquet, n, true));
                }
                File.Delete(path);
                if (parquet is not null) File.Delete(parquet);
            }
            Console.WriteLine();
            foreach (var line in results) Console.WriteLine(line);
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static async Task<string> ImportAsync(string path, int rows, double expectedBilled, string data, string contentType, string format)
    {
        using var server = ServerProcess.Start(data);
        await server.WaitFirstAcceptedAsync("""[{"entity":{"kind":"model","id":"warm"},"metric":"predictions","value":1}]""", TimeSpan.FromMinutes(1));
        using var http = new HttpClient { BaseAddress = server.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Key);
        var rules = """
            {"rules":[
              {"name":"models by tag","match":{"tagKey":"application","tagValue":"app-3"},"model":"model-app-3"},
              {"name":"rds pipeline","match":{"serviceName":"service-07"},"pipeline":"etl-07"},
              {"name":"teams","match":{"tagKey":"business_unit"},"costCenterFromTag":"business_unit"}]}
            """;
        (await http.PutAsync("/api/v1/costs/allocation-rules", new StringContent(rules, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var idle = Hwm(server.Pid);

        var lines = new List<string>();
        foreach (var attempt in new[] { "first import", "re-import (replaces itself)" })
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
            var content = new StreamContent(file, 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            var clock = Stopwatch.StartNew();
            using var response = await http.PostAsync("/api/v1/costs/focus", content);
            var seconds = clock.Elapsed.TotalSeconds;
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"import failed: {(int)response.StatusCode} {body}");
            var peak = Hwm(server.Pid);
            var reply = JsonNode.Parse(body)!;
            var billed = reply["periods"]!.AsArray().Sum(p => (double)p!["billedCost"]!);
            var points = reply["periods"]!.AsArray().Sum(p => (int)p!["pointsSent"]!);
            if (Math.Abs(billed - expectedBilled) > 1e-6 * Math.Abs(expectedBilled))
                throw new InvalidOperationException($"billed cost {billed} differs from the generated {expectedBilled}");
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{format,-7} {rows,10:N0} rows, {attempt}: {rows / seconds,9:N0} rows/s end to end ({seconds:F1} s, server-side {(double)reply["seconds"]!:F1} s, of which reading {(double)reply["readSeconds"]!:F1} s); " +
                $"server peak working set (VmHWM) {idle:F0} MiB before, {peak:F0} MiB after; {points:N0} cost points sent; " +
                $"mapped {(long)reply["rowsMapped"]!:N0}, unmapped {(long)reply["rowsUnmapped"]!:N0}, rejected {(long)reply["rowsRejected"]!:N0}"));
        }
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>The reader alone, in this process, from the file: what the import costs before any grain or HTTP.</summary>
    private static async Task<string> ReadOnlyAsync(string path, int rows, bool parquet)
    {
        var allocator = new AiOps.Server.Focus.CostAllocator(new AiOps.Abstractions.Focus.CostAllocationRules
        {
            Rules =
            [
                new() { Match = new() { TagKey = "application", TagValue = "app-3" }, Model = "model-app-3" },
                new() { Match = new() { ServiceName = "service-07" }, Pipeline = "etl-07" },
                new() { Match = new() { TagKey = "business_unit" }, CostCenterFromTag = "business_unit" },
            ],
        });
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var clock = Stopwatch.StartNew();
        var reader = new AiOps.Server.Focus.FocusCsvReader(allocator, DateTimeOffset.UtcNow);
        var read = parquet ? await reader.ReadParquetAsync(file, CancellationToken.None) : await reader.ReadAsync(file, CancellationToken.None);
        var seconds = clock.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"{(parquet ? "Parquet" : "CSV"),-7} {rows,10:N0} rows: {rows / seconds,9:N0} rows/s reader only, in process ({seconds:F2} s; {read.Periods.Sum(p => p.Lines.Count):N0} cost lines)");
    }

    /// <summary>
    /// The CSV's rows as Parquet, typed as FOCUS exports are: BilledCost decimal(18,8), EffectiveCost and ListCost double,
    /// the period columns UTC timestamps (ms), the rest strings (NULL as a null cell); Parquet.Net defaults (Snappy).
    /// </summary>
    private static async Task ToParquetAsync(string csvPath, string parquetPath, int rowGroup)
    {
        string[] timestamps = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"];
        var fields = Columns.Select(name => name switch
        {
            "BilledCost" => new DecimalDataField(name, 18, 8, isNullable: true),
            "EffectiveCost" or "ListCost" => new DataField<double?>(name),
            _ when timestamps.Contains(name) => new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true),
            _ => (DataField)new DataField<string>(name, true),
        }).ToArray();
        var cells = Columns.Select(_ => new List<string?>(rowGroup)).ToArray();
        await using var output = new FileStream(parquetPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), output);

        async Task FlushAsync()
        {
            if (cells[0].Count == 0) return;
            using var group = writer.CreateRowGroup();
            for (var c = 0; c < fields.Length; c++)
            {
                var values = cells[c];
                var field = fields[c];
                if (field.Name == "BilledCost")
                    await group.WriteAsync(field, (ReadOnlyMemory<decimal?>)values.Select(v => v is null ? (decimal?)null : decimal.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray());
                else if (field.Name is "EffectiveCost" or "ListCost")
                    await group.WriteAsync(field, (ReadOnlyMemory<double?>)values.Select(v => v is null ? (double?)null : double.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                else if (timestamps.Contains(field.Name))
                    await group.WriteAsync(field, (ReadOnlyMemory<DateTime?>)values.Select(v => v is null ? (DateTime?)null
                        : DateTime.ParseExact(v, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)).ToArray());
                else await group.WriteAsync(field, values.ToArray()!);
                values.Clear();
            }
        }

        using var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(csvPath);
        foreach (var row in reader)
        {
            for (var c = 0; c < Columns.Length; c++)
            {
                var text = row[c].Span;
                cells[c].Add(text.IsEmpty || text.SequenceEqual("NULL") ? null : text.ToString());
            }
            if (cells[0].Count == rowGroup) await FlushAsync();
        }
        await FlushAsync();
    }

    /// <summary>Peak resident set size of a process (Linux /proc VmHWM), MiB.</summary>
    private static double Hwm(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        return double.NaN;
    }

    /// <summary>
    /// A month of hourly cost rows of one billing account: 40 services, 200 sub-accounts, 50 applications, 30 business units,
    /// 70 % of rows tagged (10 % with aiops-model), 2 % under a commitment discount. Returns the sum of BilledCost.
    /// </summary>
    private static double Generate(string path, int rows)
    {
        var random = new Random(42);
        var start = new DateTime(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.WriteLine(string.Join(',', Columns));
        var total = 0.0;
        var sb = new StringBuilder(512);
        for (var i = 0; i < rows; i++)
        {
            var hour = start.AddHours(random.Next(31 * 24));
            var service = random.Next(40);
            var billed = Math.Round(random.NextDouble() * random.NextDouble() * 10, 8);
            total += billed;
            var effective = Math.Round(billed * 0.9, 8);
            sb.Clear();
            sb.Append(CultureInfo.InvariantCulture, $"{billed:0.########},{effective:0.########},{billed * 1.1:0.########},\"100200300400\",\"Bench Corp\",\"USD\",");
            sb.Append("\"2026-10-01 00:00:00\",\"2026-11-01 00:00:00\",");
            sb.Append(CultureInfo.InvariantCulture, $"\"{hour:yyyy-MM-dd HH:mm:ss}\",\"{hour.AddHours(1):yyyy-MM-dd HH:mm:ss}\",");
            sb.Append(random.Next(100) == 0 ? "\"Credit\"," : "\"Usage\",");
            sb.Append(CultureInfo.InvariantCulture, $"\"service-{service:D2}\",\"Category {service % 8}\",");
            var resource = random.Next(100_000);
            sb.Append(CultureInfo.InvariantCulture, $"\"arn:bench:compute:eu-west-1:{resource % 200:D6}:instance/i-{resource:x8}\",\"node-{resource}\",\"eu-west-{service % 3 + 1}\",");
            sb.Append(CultureInfo.InvariantCulture, $"\"{resource % 200 + 10_000_000_000L}\",");
            sb.Append(random.Next(50) == 0 ? "\"arn:bench:savingsplans::1:savingsplan/sp-1\"," : "NULL,");
            var t = random.Next(10);
            if (t < 3) sb.Append("NULL");
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"\"{{\"\"application\"\": \"\"app-{random.Next(50)}\"\", \"\"environment\"\": \"\"prod\"\", \"\"business_unit\"\": \"\"unit {random.Next(30)}\"\"");
                if (t == 9) sb.Append(CultureInfo.InvariantCulture, $", \"\"aiops-model\"\": \"\"model-{random.Next(20)}\"\"");
                sb.Append("}\"");
            }
            writer.WriteLine(sb);
        }
        return total;
    }
}

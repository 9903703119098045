using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using AiOps.Abstractions;
using AiOps.Abstractions.Focus;
using AiOps.Server.Focus;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiOps.Server.Apis;

/// <summary>What one billing period of an import did.</summary>
public sealed record FocusPeriodResult(
    string BillingAccountId,
    string BillingPeriod,
    string Currency,
    long Rows,
    double BilledCost,
    bool Applied,
    int Generation,
    bool Replaced,
    int PointsSent,
    int PointsResent,
    string? Error);

/// <summary>Reply to a FOCUS import: rows read, mapped, unmapped (sent to the unallocated cost center) and rejected, with reasons.</summary>
public sealed record FocusImportResponse(
    long RowsRead,
    long RowsImported,
    long RowsMapped,
    long RowsUnmapped,
    long RowsRejected,
    IReadOnlyDictionary<string, long> RejectedByReason,
    IReadOnlyList<FocusRowRejection> Rejections,
    IReadOnlyList<FocusPeriodResult> Periods,
    int RulesVersion,
    double Seconds,
    double ReadSeconds);

/// <summary>Totals of one billing period over its billing accounts, as their latest imports left them.</summary>
public sealed record FocusSummaryResponse(
    string BillingPeriod,
    string Currency,
    long Rows,
    long RowsMapped,
    long RowsUnmapped,
    double BilledCost,
    double EffectiveCost,
    double ListCost,
    double CommitmentDiscountBilledCost,
    double CommitmentDiscountEffectiveCost,
    double Unallocated,
    IReadOnlyDictionary<string, double> ByBillingAccount,
    IReadOnlyDictionary<string, double> ByService,
    IReadOnlyDictionary<string, double> BySubAccount,
    IReadOnlyDictionary<string, double> ByChargeCategory,
    IReadOnlyDictionary<string, double> ByCostCenter,
    IReadOnlyDictionary<string, double> ByModel,
    IReadOnlyDictionary<string, double> ByPipeline,
    IReadOnlyList<FocusPeriodInfo> Imports);

public sealed record FocusPeriodInfo(string BillingAccountId, string BillingPeriodStart, int Generation, DateTime ImportedAt, long Rows, double BilledCost, int RulesVersion);

public static class FocusCostsApi
{
    private static readonly string[] CsvMediaTypes = ["text/csv", "application/csv", "text/plain", "application/octet-stream"];
    private static readonly string[] GzipMediaTypes = ["application/gzip", "application/x-gzip"];

    public static IEndpointRouteBuilder MapFocusCostsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/costs").WithTags("Costs");
        group.MapPost("/focus", ImportAsync)
            .WithName("ImportFocusCosts")
            .WithSummary("Import a FOCUS 1.0-1.2 cost file (CSV, optionally gzip, or Parquet); replaces the billing periods it holds")
            .WithDescription(
                "Body: a FOCUS CSV with a header row (`text/csv`; gzip with `Content-Encoding: gzip` or `Content-Type: application/gzip`), streamed: " +
                $"memory depends on distinct (entity, service, charge day) keys (at most {FocusLimits.MaxCostLines}), not rows. Required columns: " +
                string.Join(", ", FocusCsvReader.RequiredColumns) + ". `NULL` is null. Each (BillingAccountId, BillingPeriodStart) in the file replaces " +
                "what earlier imports of it contributed: importing the same file twice changes nothing. Rows are allocated by the allocation rules " +
                "(`/api/v1/costs/allocation-rules`) and their BilledCost sent as `cost` to the model, pipeline or cost center they map to; rows nothing " +
                "allocates go to the unallocated cost center. Rows that cannot be read are rejected (row, column, reason); a missing column, a body " +
                "that is not CSV or in which no row is valid gets 400 problem details and nothing is applied. Parquet: `application/vnd.apache.parquet` " +
                $"or `application/x-parquet` (or any body starting with `PAR1`), spooled to a temporary file (at most {FocusLimits.MaxParquetBytes >> 30} GiB, " +
                "else 413) and read row group by row group through the same row rules; a corrupt file gets 400 and nothing is applied.")
            .Produces<FocusImportResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery()
            .RequireAuthorization(Security.Policies.Ingest);
        group.MapGet("/focus/summary", SummaryAsync)
            .WithName("GetFocusSummary")
            .WithSummary("Totals of an imported billing period: by billing account, service, sub-account, charge category, cost center, model, pipeline")
            .RequireAuthorization(Security.Policies.Read);
        group.MapGet("/focus/periods", PeriodsAsync)
            .WithName("ListFocusPeriods")
            .WithSummary("Imported (billing account, billing period) pairs with their latest import")
            .RequireAuthorization(Security.Policies.Read);
        group.MapGet("/allocation-rules", async (IClusterClient client) =>
                TypedResults.Ok(await client.GetGrain<ICostAllocationRulesGrain>(ICostAllocationRulesGrain.DefaultKey).GetAsync()))
            .WithName("GetAllocationRules")
            .WithSummary("The cost allocation rules applied to FOCUS imports")
            .RequireAuthorization(Security.Policies.Read);
        group.MapPut("/allocation-rules", PutRulesAsync)
            .WithName("PutAllocationRules")
            .WithSummary("Replace the cost allocation rules (first matching rule wins; applies to imports from now on)")
            .ProducesValidationProblem()
            .RequireAuthorization(Security.Policies.Operate);
        return app;
    }

    internal static async Task<Results<Ok<FocusImportResponse>, ValidationProblem, ProblemHttpResult>> ImportAsync(
        HttpRequest request, IClusterClient client, TimeProvider time, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        var gzip = false;
        var parquet = false;
        if (mediaType is not null)
        {
            if (FocusParquet.MediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase)) parquet = true;
            else if (GzipMediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase)) gzip = true;
            else if (!CsvMediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
                return TelemetryApi.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                    $"Send a FOCUS CSV as text/csv (or application/gzip) or a FOCUS Parquet file as application/vnd.apache.parquet, not '{mediaType}'.", "Content-Type");
        }
        var encoding = request.Headers.ContentEncoding.ToString();
        if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)) gzip = true;
        else if (encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            return TelemetryApi.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding",
                $"Content-Encoding '{encoding}' is not supported; use gzip or none.", "Content-Encoding");

        // Cost files are large and streamed: lift the server-wide body limit for this route only.
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = FocusLimits.MaxBodyBytes;

        var rules = await client.GetGrain<ICostAllocationRulesGrain>(ICostAllocationRulesGrain.DefaultKey).GetAsync();
        FocusReadResult read;
        var body = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : request.Body;
        FileStream? spooled = null;
        try
        {
            // Sniff the Parquet magic so a Parquet file sent as octet-stream (or without a type) is read as Parquet.
            var head = new byte[4];
            var headLength = 0;
            if (!parquet)
            {
                headLength = await body.ReadAtLeastAsync(head, 4, throwOnEndOfStream: false, cancellationToken);
                parquet = FocusParquet.IsMagic(head.AsSpan(0, headLength));
            }
            var reader = new FocusCsvReader(new CostAllocator(rules), time.GetUtcNow());
            if (parquet)
            {
                spooled = await FocusParquet.SpoolAsync(head.AsMemory(0, headLength), body, FocusLimits.MaxParquetBytes, cancellationToken);
                if (spooled is null)
                    return TelemetryApi.Problem(StatusCodes.Status413PayloadTooLarge, "Parquet file too large",
                        $"A Parquet body is kept in a temporary file while it is read; at most {FocusLimits.MaxParquetBytes} bytes. Nothing was applied.", "body");
                read = await reader.ReadParquetAsync(spooled, cancellationToken);
            }
            else read = await reader.ReadAsync(headLength == 0 ? body : new PrefixedStream(head, headLength, body), cancellationToken);
        }
        catch (FocusFileException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [ex.Field] = [ex.Message] },
                detail: ex.Message + " Nothing was applied.", title: "The FOCUS file was not accepted");
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [ex.Message] },
                detail: $"The body could not be read ({ex.Message}); nothing was applied.", title: "The FOCUS file was not accepted");
        }
        finally
        {
            if (spooled is not null) await spooled.DisposeAsync(); // deletes the temporary file
            if (gzip) await body.DisposeAsync();
        }

        var readSeconds = clock.Elapsed.TotalSeconds;
        var imported = read.RowsRead - read.RowsRejected;
        if (imported == 0)
        {
            var errors = read.Rejections.GroupBy(r => $"row {r.Row}.{r.Column}").ToDictionary(g => g.Key, g => g.Select(r => r.Reason).ToArray());
            if (errors.Count == 0) errors["body"] = ["The file has a header but no rows."];
            return TypedResults.ValidationProblem(errors,
                detail: $"None of the {read.RowsRead} rows is valid; nothing was applied.", title: "No valid FOCUS rows");
        }

        var periods = new List<FocusPeriodResult>();
        foreach (var period in read.Periods)
        {
            var import = period.ToImport(rules.Version);
            var s = import.Summary;
            var outcome = await client.GetGrain<IFocusPeriodGrain>(IFocusPeriodGrain.Key(s.BillingAccountId, s.BillingPeriodStart)).ImportAsync(import);
            periods.Add(new FocusPeriodResult(s.BillingAccountId, s.BillingPeriodStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), s.Currency, s.Rows, s.BilledCost,
                outcome.Applied, outcome.Generation, outcome.Replaced, outcome.PointsSent, outcome.PointsResent, outcome.Error));
        }
        if (periods.All(p => !p.Applied))
            return TelemetryApi.Problem(StatusCodes.Status503ServiceUnavailable, "Ingestion is busy",
                "No billing period could be applied; nothing was. Retry the import later.", null);

        return TypedResults.Ok(new FocusImportResponse(read.RowsRead, imported, read.RowsMapped, read.RowsUnmapped, read.RowsRejected,
            read.RejectedByReason, read.Rejections, periods, rules.Version, clock.Elapsed.TotalSeconds, readSeconds));
    }

    private static async Task<Results<Ok<FocusSummaryResponse>, ValidationProblem, ProblemHttpResult>> SummaryAsync(
        string? billingPeriod, string? billingAccountId, IClusterClient client)
    {
        if (billingPeriod is null || !TryMonth(billingPeriod, out var month))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["billingPeriod"] = ["Give the billing period as yyyy-MM (or its first day, yyyy-MM-dd)."] });
        var keys = await client.GetGrain<IFocusCatalogGrain>(IFocusCatalogGrain.DefaultKey).ListAsync();
        var selected = keys.Where(k => k.StartsWith(month, StringComparison.Ordinal)
            && (billingAccountId is null || k.AsSpan(11).SequenceEqual(billingAccountId))).ToList();
        var summaries = (await Task.WhenAll(selected.Select(k => client.GetGrain<IFocusPeriodGrain>(k).GetSummaryAsync())))
            .Where(s => s is not null).Select(s => s!).ToList();
        if (summaries.Count == 0)
            return TelemetryApi.Problem(StatusCodes.Status404NotFound, "No such billing period",
                $"No FOCUS import holds billing period {month}{(billingAccountId is null ? "" : $" of billing account {billingAccountId}")}.", "billingPeriod");

        static Dictionary<string, double> Merge(IEnumerable<IReadOnlyDictionary<string, double>> maps)
        {
            var merged = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var map in maps)
                foreach (var (k, v) in map) merged[k] = merged.GetValueOrDefault(k) + v;
            return merged;
        }

        return TypedResults.Ok(new FocusSummaryResponse(
            month,
            summaries[0].Currency,
            summaries.Sum(s => s.Rows),
            summaries.Sum(s => s.RowsMapped),
            summaries.Sum(s => s.RowsUnmapped),
            summaries.Sum(s => s.BilledCost),
            summaries.Sum(s => s.EffectiveCost),
            summaries.Sum(s => s.ListCost),
            summaries.Sum(s => s.CommitmentDiscountBilledCost),
            summaries.Sum(s => s.CommitmentDiscountEffectiveCost),
            summaries.Sum(s => s.Unallocated),
            summaries.GroupBy(s => s.BillingAccountId).ToDictionary(g => g.Key, g => g.Sum(s => s.BilledCost)),
            Merge(summaries.Select(s => s.ByService)),
            Merge(summaries.Select(s => s.BySubAccount)),
            Merge(summaries.Select(s => s.ByChargeCategory)),
            Merge(summaries.Select(s => s.ByCostCenter)),
            Merge(summaries.Select(s => s.ByModel)),
            Merge(summaries.Select(s => s.ByPipeline)),
            summaries.Select(Info).ToList()));
    }

    private static FocusPeriodInfo Info(FocusPeriodSummary s) =>
        new(s.BillingAccountId, s.BillingPeriodStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), s.Generation, s.ImportedAt, s.Rows, s.BilledCost, s.RulesVersion);

    private static async Task<Ok<List<FocusPeriodInfo>>> PeriodsAsync(IClusterClient client)
    {
        var keys = await client.GetGrain<IFocusCatalogGrain>(IFocusCatalogGrain.DefaultKey).ListAsync();
        var summaries = await Task.WhenAll(keys.Select(k => client.GetGrain<IFocusPeriodGrain>(k).GetSummaryAsync()));
        return TypedResults.Ok(summaries.Where(s => s is not null).Select(s => Info(s!)).ToList());
    }

    private static bool TryMonth(string text, out string month)
    {
        month = "";
        var formats = new[] { "yyyy-MM", "yyyy-MM-dd" };
        if (!DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) return false;
        month = d.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        return true;
    }

    private static async Task<Results<Ok<CostAllocationRules>, ValidationProblem>> PutRulesAsync(CostAllocationRules rules, IClusterClient client)
    {
        var errors = CostAllocationRulesValidator.Validate(rules);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The allocation rules were not accepted; nothing changed.");
        return TypedResults.Ok(await client.GetGrain<ICostAllocationRulesGrain>(ICostAllocationRulesGrain.DefaultKey).PutAsync(rules));
    }
}

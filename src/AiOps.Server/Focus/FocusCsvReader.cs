using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AiOps.Abstractions;
using AiOps.Abstractions.Focus;
using nietras.SeparatedValues;

namespace AiOps.Server.Focus;

/// <summary>The file as a whole is not accepted (missing column, not CSV, too many distinct keys); nothing is applied.</summary>
internal sealed class FocusFileException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>Why one row was not imported. Row 1 is the first row after the header.</summary>
public sealed record FocusRowRejection(long Row, string Column, string Reason);

/// <summary>Limits of one import: memory depends on them and on distinct keys, never on the number of rows.</summary>
public static class FocusLimits
{
    /// <summary>Distinct (entity, service, charge day) lines over all billing periods of one file.</summary>
    public const int MaxCostLines = 500_000;
    /// <summary>Distinct (billing account, billing period) pairs in one file.</summary>
    public const int MaxPeriods = 1_000;
    /// <summary>Distinct keys kept per breakdown (service, sub-account, …) of a period; the rest add up under "(other)".</summary>
    public const int MaxBreakdownKeys = 10_000;
    public const int MaxRejectionsReported = 100;
    public const long MaxBodyBytes = 64L * 1024 * 1024 * 1024;
    /// <summary>A Parquet body is spooled to a temporary file (Parquet needs random access): at most this many bytes.</summary>
    public const long MaxParquetBytes = 8L * 1024 * 1024 * 1024;
    public const string Other = "(other)";
    /// <summary>ByCostCenter key of rows allocated to a model or pipeline but to no cost center.</summary>
    public const string NoCostCenter = "(none)";
}

/// <summary>One billing account's billing period as read from the file: bounded totals, never rows.</summary>
internal sealed class PeriodAccumulator(string billingAccountId, long periodStartMs)
{
    public string BillingAccountId { get; } = billingAccountId;
    public long PeriodStartMs { get; } = periodStartMs;
    public string? BillingAccountName;
    public long? PeriodEndMs;
    public string? Currency;
    public long Rows, Mapped, Unmapped;
    public double Billed, Effective, List, CommitmentBilled, CommitmentEffective, Unallocated;
    public readonly Dictionary<string, double> ByService = new(StringComparer.Ordinal);
    public readonly Dictionary<string, double> BySubAccount = new(StringComparer.Ordinal);
    public readonly Dictionary<string, double> ByChargeCategory = new(StringComparer.Ordinal);
    public readonly Dictionary<string, double> ByCostCenter = new(StringComparer.Ordinal);
    public readonly Dictionary<string, double> ByModel = new(StringComparer.Ordinal);
    public readonly Dictionary<string, double> ByPipeline = new(StringComparer.Ordinal);
    public readonly Dictionary<(EntityKind Kind, string Id, string Service, long Day), double> Lines = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the per-row path: optimised from the first row of a fresh process
    public static void Add(Dictionary<string, double> map, string key, double amount)
    {
        if (map.Count >= FocusLimits.MaxBreakdownKeys && !map.ContainsKey(key)) key = FocusLimits.Other;
        CollectionsMarshal.GetValueRefOrAddDefault(map, key, out _) += amount;
    }

    public FocusPeriodImport ToImport(int rulesVersion)
    {
        var start = DateTime.UnixEpoch.AddMilliseconds(PeriodStartMs);
        var summary = new FocusPeriodSummary
        {
            BillingAccountId = BillingAccountId,
            BillingAccountName = BillingAccountName,
            BillingPeriodStart = start,
            BillingPeriodEnd = PeriodEndMs is { } end ? DateTime.UnixEpoch.AddMilliseconds(end) : null,
            Currency = Currency ?? "USD",
            Rows = Rows,
            RowsMapped = Mapped,
            RowsUnmapped = Unmapped,
            BilledCost = Billed,
            EffectiveCost = Effective,
            ListCost = List,
            CommitmentDiscountBilledCost = CommitmentBilled,
            CommitmentDiscountEffectiveCost = CommitmentEffective,
            Unallocated = Unallocated,
            ByService = ByService,
            BySubAccount = BySubAccount,
            ByChargeCategory = ByChargeCategory,
            ByCostCenter = ByCostCenter,
            ByModel = ByModel,
            ByPipeline = ByPipeline,
            RulesVersion = rulesVersion,
        };
        var lines = new FocusCostLine[Lines.Count];
        var i = 0;
        foreach (var ((kind, id, service, day), amount) in Lines) lines[i++] = new FocusCostLine(kind, id, service, day, amount);
        return new FocusPeriodImport(summary, lines);
    }
}

/// <summary>What reading a file produced: per-period totals plus row counts and rejections.</summary>
internal sealed class FocusReadResult
{
    public long RowsRead, RowsMapped, RowsUnmapped, RowsRejected;
    public readonly Dictionary<string, long> RejectedByReason = new(StringComparer.Ordinal);
    public readonly List<FocusRowRejection> Rejections = [];
    public readonly List<PeriodAccumulator> Periods = [];
}

/// <summary>
/// Streams a FOCUS 1.0-1.2 CSV (Sep, quoted fields unescaped, the literal <c>NULL</c> as null) and aggregates each row
/// into bounded totals per (billing account, billing period): per (allocated entity, service, charge day) for the
/// entity grains, and per service, sub-account, charge category, cost center, model and pipeline for the summary.
/// </summary>
/// <remarks>
/// Two front ends feed one folding routine (<see cref="Process{TRow}"/>): CSV rows from Sep here, Parquet row groups in
/// FocusParquetReader.cs (typed cells turned into the same text, so every rule and rejection is shared).
/// </remarks>
internal sealed partial class FocusCsvReader
{
    public static readonly string[] RequiredColumns = ["BilledCost", "BillingAccountId", "BillingPeriodStart", "ChargePeriodStart", "ServiceName"];

    private readonly CostAllocator _allocator;
    private readonly long _latestChargeMs;
    private readonly FocusReadResult _result = new();
    private readonly Dictionary<(string, long), PeriodAccumulator> _periods = [];
    private readonly StringPool _strings = new(200_000);
    private readonly string?[] _tags;
    private byte[] _utf8 = new byte[1024];
    private char[] _chars = new char[256];
    private readonly byte[][] _tagKeysUtf8;
    private int _lines;

    // column indexes (-1: absent)
    private int _billed, _account, _accountName, _periodStart, _periodEnd, _chargeStart, _service, _serviceCategory, _subAccount,
        _currency, _effective, _list, _chargeCategory, _resourceId, _region, _commitmentId, _tagsCol, _columns;

    // last-value caches: consecutive rows mostly share these
    private string _lastPeriodText = "";
    private long _lastPeriodMs;
    private PeriodAccumulator? _lastPeriod;

    public FocusCsvReader(CostAllocator allocator, DateTimeOffset now)
    {
        _allocator = allocator;
        _latestChargeMs = now.AddDays(1).ToUnixTimeMilliseconds();
        _tags = new string?[allocator.TagKeys.Length];
        _tagKeysUtf8 = allocator.TagKeys.Select(Encoding.UTF8.GetBytes).ToArray();
    }

    public async Task<FocusReadResult> ReadAsync(Stream csv, CancellationToken cancellationToken)
    {
        SepReader reader;
        try
        {
            reader = await Sep.Reader(o => o with { Unescape = true, DisableColCountCheck = true, HasHeader = true, Sep = new Sep(',') })
                .FromAsync(csv, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or NotSupportedException)
        {
            throw new FocusFileException("body", $"The body is not a CSV file with a header row: {ex.Message}");
        }
        using (reader)
        {
            if (reader.Header.IsEmpty) throw new FocusFileException("body", "The file is empty: a FOCUS CSV starts with a header row.");
            var header = reader.Header;
            MapHeader(name => header.TryIndexOf(name, out var i) ? i : -1, header.ColNames.Count, "header");
            long rowNumber = 0;
            try
            {
                await foreach (var row in reader.WithCancellation(cancellationToken))
                {
                    rowNumber++;
                    Process(new CsvRow(row), rowNumber);
                }
            }
            catch (InvalidDataException ex)
            {
                throw new FocusFileException("body", $"The CSV could not be read after row {rowNumber}: {ex.Message}");
            }
        }
        _result.Periods.AddRange(_periods.Values.OrderBy(p => p.PeriodStartMs).ThenBy(p => p.BillingAccountId, StringComparer.Ordinal));
        return _result;
    }

    /// <summary>Finds the FOCUS columns by name (<paramref name="find"/>: index or -1) in a CSV header or a Parquet schema.</summary>
    private void MapHeader(Func<string, int> find, int columns, string where)
    {
        int Find(string name) => find(name);
        foreach (var required in RequiredColumns)
        {
            if (Find(required) < 0)
                throw new FocusFileException(required, $"The required FOCUS column '{required}' is missing from the {where}.");
        }
        _columns = columns;
        _billed = Find("BilledCost");
        _account = Find("BillingAccountId");
        _accountName = Find("BillingAccountName");
        _periodStart = Find("BillingPeriodStart");
        _periodEnd = Find("BillingPeriodEnd");
        _chargeStart = Find("ChargePeriodStart");
        _service = Find("ServiceName");
        _serviceCategory = Find("ServiceCategory");
        _subAccount = Find("SubAccountId");
        _currency = Find("BillingCurrency");
        _effective = Find("EffectiveCost");
        _list = Find("ListCost");
        _chargeCategory = Find("ChargeCategory");
        _resourceId = Find("ResourceId");
        _region = Find("RegionId");
        _commitmentId = Find("CommitmentDiscountId");
        _tagsCol = Find("Tags");
    }

    private static bool IsNull(ReadOnlySpan<char> s) => s.IsEmpty || s.SequenceEqual("NULL");

    private static ReadOnlySpan<char> Col<TRow>(scoped in TRow row, int index) where TRow : IFocusRow, allows ref struct =>
        index < 0 ? default : row[index];

    private void Reject(long row, string column, string reason)
    {
        _result.RowsRejected++;
        CollectionsMarshal.GetValueRefOrAddDefault(_result.RejectedByReason, $"{column}: {reason}", out _)++;
        if (_result.Rejections.Count < FocusLimits.MaxRejectionsReported) _result.Rejections.Add(new FocusRowRejection(row, column, reason));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the per-row path: optimised from the first row of a fresh process
    private void Process<TRow>(scoped in TRow row, long number) where TRow : IFocusRow, allows ref struct
    {
        _result.RowsRead++;
        if (row.ColCount < _columns)
        {
            Reject(number, "row", $"has {row.ColCount} columns; the header has {_columns}");
            return;
        }

        var billedText = Col(row, _billed);
        if (IsNull(billedText)) { Reject(number, "BilledCost", "is required"); return; }
        if (!TryNumber(billedText, out var billed)) { RejectNumber(number, "BilledCost", billed); return; }
        double effective = 0, list = 0;
        var text = Col(row, _effective);
        if (!IsNull(text) && !TryNumber(text, out effective)) { RejectNumber(number, "EffectiveCost", effective); return; }
        text = Col(row, _list);
        if (!IsNull(text) && !TryNumber(text, out list)) { RejectNumber(number, "ListCost", list); return; }

        var accountText = Col(row, _account);
        if (IsNull(accountText)) { Reject(number, "BillingAccountId", "is required"); return; }
        if (accountText.Length > 256) { Reject(number, "BillingAccountId", "is longer than 256 characters"); return; }

        text = Col(row, _periodStart);
        long periodMs;
        if (text.SequenceEqual(_lastPeriodText)) periodMs = _lastPeriodMs;
        else
        {
            if (IsNull(text) || !FocusTimestamps.TryParse(text, out periodMs)) { Reject(number, "BillingPeriodStart", "is not a date-time"); return; }
            _lastPeriodText = text.ToString();
            _lastPeriodMs = periodMs;
        }

        text = Col(row, _chargeStart);
        if (IsNull(text) || !FocusTimestamps.TryParse(text, out var chargeMs)) { Reject(number, "ChargePeriodStart", "is not a date-time"); return; }
        if (chargeMs > _latestChargeMs) { Reject(number, "ChargePeriodStart", "is in the future"); return; }
        if (chargeMs < FocusTimestamps.MinMs) { Reject(number, "ChargePeriodStart", "is before 2000-01-01"); return; }

        text = Col(row, _tagsCol);
        Array.Clear(_tags);
        if (!IsNull(text) && !TryReadTags(text))
        {
            Reject(number, "Tags", "is not a JSON object of tags");
            return;
        }
        for (var t = 0; t < 4; t++)
        {
            if (_tags[t] is { } id && !Limits.IsValidId(id))
            {
                Reject(number, "Tags", $"the value of '{_allocator.TagKeys[t]}' is not a valid entity id (1-128 letters, digits, . _ - : @)");
                return;
            }
        }

        var account = _strings.Get(accountText);
        var period = _lastPeriod;
        if (period is null || period.PeriodStartMs != periodMs || !ReferenceEquals(period.BillingAccountId, account))
        {
            if (!_periods.TryGetValue((account, periodMs), out period))
            {
                if (_periods.Count >= FocusLimits.MaxPeriods)
                    throw new FocusFileException("BillingPeriodStart", $"The file holds more than {FocusLimits.MaxPeriods} (billing account, billing period) pairs; split it.");
                period = new PeriodAccumulator(account, periodMs);
                _periods[(account, periodMs)] = period;
            }
            _lastPeriod = period;
        }

        text = Col(row, _currency);
        if (!IsNull(text))
        {
            if (period.Currency is null) period.Currency = _strings.Get(text);
            else if (!text.SequenceEqual(period.Currency))
            {
                Reject(number, "BillingCurrency", $"differs from this billing period's currency {period.Currency}");
                return;
            }
        }

        var serviceText = Col(row, _service);
        var service = IsNull(serviceText) ? FocusLimits.NoCostCenter : _strings.Get(serviceText);
        text = Col(row, _subAccount);
        var subAccount = IsNull(text) ? null : _strings.Get(text);
        text = Col(row, _serviceCategory);
        var category = IsNull(text) ? null : _strings.Get(text);
        text = Col(row, _chargeCategory);
        var chargeCategory = IsNull(text) ? null : _strings.Get(text);
        var resource = Col(row, _resourceId);
        var region = Col(row, _region);

        var allocation = _allocator.Allocate(new FocusRowView
        {
            BillingAccountId = account,
            SubAccountId = subAccount,
            ServiceName = service,
            ServiceCategory = category,
            ChargeCategory = chargeCategory,
            ResourceId = IsNull(resource) ? default : resource,
            RegionId = IsNull(region) ? default : region,
        }, _tags);

        // Everything checked: from here the row counts.
        if (period.BillingAccountName is null && _accountName >= 0 && !IsNull(text = Col(row, _accountName))) period.BillingAccountName = text.ToString();
        if (period.PeriodEndMs is null && _periodEnd >= 0 && FocusTimestamps.TryParse(Col(row, _periodEnd), out var endMs)) period.PeriodEndMs = endMs;

        var (kind, target) = allocation switch
        {
            { Model: { } m } => (EntityKind.Model, m),
            { Pipeline: { } p } => (EntityKind.Pipeline, p),
            { CostCenter: { } c } => (EntityKind.CostCenter, c),
            _ => (EntityKind.CostCenter, _allocator.UnallocatedCostCenter),
        };
        var day = chargeMs - chargeMs % 86_400_000L;
        ref var line = ref CollectionsMarshal.GetValueRefOrAddDefault(period.Lines, (kind, target, service, day), out var exists);
        if (!exists && ++_lines > FocusLimits.MaxCostLines)
            throw new FocusFileException("body", $"The file holds more than {FocusLimits.MaxCostLines} distinct (entity, service, charge day) combinations; split it.");
        line += billed;

        period.Rows++;
        period.Billed += billed;
        period.Effective += effective;
        period.List += list;
        if (!IsNull(Col(row, _commitmentId)))
        {
            period.CommitmentBilled += billed;
            period.CommitmentEffective += effective;
        }
        PeriodAccumulator.Add(period.ByService, service, billed);
        if (subAccount is not null) PeriodAccumulator.Add(period.BySubAccount, subAccount, billed);
        PeriodAccumulator.Add(period.ByChargeCategory, chargeCategory ?? FocusLimits.NoCostCenter, billed);
        if (allocation.Model is { } model) PeriodAccumulator.Add(period.ByModel, model, billed);
        if (allocation.Pipeline is { } pipeline) PeriodAccumulator.Add(period.ByPipeline, pipeline, billed);
        if (allocation.Mapped)
        {
            period.Mapped++;
            _result.RowsMapped++;
            PeriodAccumulator.Add(period.ByCostCenter, allocation.CostCenter ?? FocusLimits.NoCostCenter, billed);
        }
        else
        {
            period.Unmapped++;
            _result.RowsUnmapped++;
            period.Unallocated += billed;
            PeriodAccumulator.Add(period.ByCostCenter, _allocator.UnallocatedCostCenter, billed);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the per-row path: optimised from the first row of a fresh process
    private static bool TryNumber(ReadOnlySpan<char> text, out double value)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return Limits.IsValidValue(value);
        value = double.NaN;
        return false;
    }

    private void RejectNumber(long row, string column, double value) =>
        Reject(row, column, double.IsNaN(value) ? "is not a number" : "is beyond ±1e15");

    /// <summary>Reads the Tags JSON object, keeping the values of the keys allocation looks at. False: not a JSON object.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the per-row path: optimised from the first row of a fresh process
    private bool TryReadTags(ReadOnlySpan<char> json)
    {
        var max = Encoding.UTF8.GetMaxByteCount(json.Length);
        if (_utf8.Length < max) _utf8 = new byte[Math.Max(max, _utf8.Length * 2)];
        var length = Encoding.UTF8.GetBytes(json, _utf8);
        try
        {
            var reader = new Utf8JsonReader(_utf8.AsSpan(0, length), new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = -1;
                for (var k = 0; k < _tagKeysUtf8.Length; k++)
                {
                    if (reader.ValueTextEquals(_tagKeysUtf8[k])) { key = k; break; }
                }
                if (!reader.Read()) return false;
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        reader.Skip();
                        break;
                    case JsonTokenType.String when key >= 0:
                        var needed = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
                        if (_chars.Length < needed) _chars = new char[needed * 2];
                        var n = reader.CopyString(_chars);
                        _tags[key] = n == 0 ? null : _strings.Get(_chars.AsSpan(0, n));
                        break;
                    case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False when key >= 0:
                        var raw = reader.ValueSpan;
                        if (_chars.Length < raw.Length) _chars = new char[raw.Length * 2];
                        for (var i = 0; i < raw.Length; i++) _chars[i] = (char)raw[i];
                        _tags[key] = _strings.Get(_chars.AsSpan(0, raw.Length));
                        break;
                }
            }
            return reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false; // InvalidOperationException: e.g. a lone surrogate escape, which ValueTextEquals and CopyString refuse
        }
    }
}

/// <summary>One row as text cells by column index, whatever the file format: what <c>Process</c> folds.</summary>
internal interface IFocusRow
{
    int ColCount { get; }
    ReadOnlySpan<char> this[int index] { get; }
}

/// <summary>A Sep CSV row.</summary>
internal readonly ref struct CsvRow(SepReader.Row row) : IFocusRow
{
    private readonly SepReader.Row _row = row;
    public int ColCount => _row.ColCount;
    public ReadOnlySpan<char> this[int index] => _row[index].Span;
}

/// <summary>FOCUS date-times: "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ssZ" fast; anything ISO 8601-like through the BCL. UTC.</summary>
internal static class FocusTimestamps
{
    public static readonly long MinMs = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the per-row path: optimised from the first row of a fresh process
    public static bool TryParse(ReadOnlySpan<char> s, out long ms)
    {
        ms = 0;
        if (s.Length is 19 or 20 && s[4] == '-' && s[7] == '-' && (s[10] == ' ' || s[10] == 'T') && s[13] == ':' && s[16] == ':'
            && (s.Length == 19 || s[19] == 'Z')
            && TwoDigits(s, 0, out var c) && TwoDigits(s, 2, out var yy) && TwoDigits(s, 5, out var month) && TwoDigits(s, 8, out var day)
            && TwoDigits(s, 11, out var hour) && TwoDigits(s, 14, out var minute) && TwoDigits(s, 17, out var second))
        {
            var year = c * 100 + yy;
            if (month is < 1 or > 12 || year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return false;
            ms = (long)(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalMilliseconds;
            return true;
        }
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            ms = parsed.ToUnixTimeMilliseconds();
            return true;
        }
        return false;
    }

    private static bool TwoDigits(ReadOnlySpan<char> s, int at, out int value)
    {
        var a = s[at] - '0';
        var b = s[at + 1] - '0';
        value = a * 10 + b;
        return (uint)a <= 9 && (uint)b <= 9;
    }
}

/// <summary>Interns short strings read from spans (services, accounts, tag values), up to a capacity.</summary>
internal sealed class StringPool
{
    private readonly int _capacity;

    public StringPool(int capacity)
    {
        _capacity = capacity;
        _map = new Dictionary<string, string>(StringComparer.Ordinal);
        _lookup = _map.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private readonly Dictionary<string, string> _map;
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the per-row path: optimised from the first row of a fresh process
    public string Get(ReadOnlySpan<char> s)
    {
        if (_lookup.TryGetValue(s, out var known)) return known;
        var str = s.ToString();
        if (_map.Count < _capacity) _map[str] = str;
        return str;
    }
}

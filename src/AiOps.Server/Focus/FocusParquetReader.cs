using System.Globalization;
using AiOps.Abstractions.Focus;
using Parquet;
using Parquet.Schema;

namespace AiOps.Server.Focus;

/// <summary>Where a Parquet body is kept while it is read: Parquet needs random access (its footer is at the end).</summary>
internal static class FocusParquet
{
    public static readonly string[] MediaTypes = ["application/vnd.apache.parquet", "application/x-parquet", "application/parquet"];

    /// <summary>"PAR1": the first (and last) four bytes of every Parquet file.</summary>
    public static bool IsMagic(ReadOnlySpan<byte> head) => head.Length >= 4 && head[0] == 'P' && head[1] == 'A' && head[2] == 'R' && head[3] == '1';

    /// <summary>
    /// Copies the body to a temporary file deleted when the returned stream is disposed (also on a crash: it is
    /// unlinked-on-close and lives under the temp directory). Null: the body is larger than <paramref name="maxBytes"/>.
    /// </summary>
    public static async Task<FileStream?> SpoolAsync(ReadOnlyMemory<byte> prefix, Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetTempPath(), $"aiops-focus-{Guid.NewGuid():N}.parquet");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            await file.WriteAsync(prefix, cancellationToken);
            var buffer = new byte[1 << 16];
            long total = prefix.Length;
            int n;
            while ((n = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += n;
                if (total > maxBytes)
                {
                    await file.DisposeAsync();
                    return null;
                }
                await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            }
            await file.FlushAsync(cancellationToken);
            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }
}

/// <summary>A Stream that yields a few already-read bytes before the rest of another stream (to sniff the Parquet magic).</summary>
internal sealed class PrefixedStream(byte[] prefix, int prefixLength, Stream inner) : Stream
{
    private int _at;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_at < prefixLength)
        {
            var n = Math.Min(buffer.Length, prefixLength - _at);
            prefix.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }
        return inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_at < prefixLength) return ValueTask.FromResult(Read(buffer.Span));
        return inner.ReadAsync(buffer, cancellationToken);
    }
}

/// <summary>A row of a Parquet row group whose used columns were turned into text cells.</summary>
internal readonly struct ParquetRow(string?[]?[] cells, int index, int columns) : IFocusRow
{
    public int ColCount => columns;
    public ReadOnlySpan<char> this[int column] => cells[column] is { } c ? c[index] : default;
}

internal sealed partial class FocusCsvReader
{
    /// <summary>
    /// Reads a FOCUS Parquet file row group by row group: the FOCUS columns (found by name among the top-level columns)
    /// of one row group at a time are read, their typed values written as the text the CSV path parses (numbers
    /// round-trip, timestamps as UTC instants), and each row folded by the same routine as a CSV row. Memory: one
    /// row group's used columns plus the bounded totals.
    /// </summary>
    public async Task<FocusReadResult> ReadParquetAsync(Stream file, CancellationToken cancellationToken)
    {
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(file, leaveStreamOpen: true, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new FocusFileException("body", $"The body is not a readable Parquet file: {ex.Message}");
        }
        await using (reader)
        {
            var fields = reader.Schema.Fields;
            MapHeader(name =>
            {
                for (var i = 0; i < fields.Count; i++)
                    if (fields[i].Name == name) return i;
                return -1;
            }, fields.Count, "Parquet schema");
            int[] used = [_billed, _account, _accountName, _periodStart, _periodEnd, _chargeStart, _service, _serviceCategory, _subAccount,
                _currency, _effective, _list, _chargeCategory, _resourceId, _region, _commitmentId, _tagsCol];
            foreach (var c in used)
            {
                if (c < 0) continue;
                if (fields[c] is not DataField { MaxRepetitionLevel: 0 } field)
                    throw new FocusFileException(fields[c].Name,
                        $"The column '{fields[c].Name}' is a nested Parquet column ({fields[c].SchemaType}); write it as a plain value{(c == _tagsCol ? " (Tags: a JSON string)" : "")}.");
                if (!CanRead(field.ClrType))
                    throw new FocusFileException(field.Name, $"The column '{field.Name}' has the Parquet type {field.ClrType.Name}, which FOCUS does not use here.");
            }

            var cells = new string?[]?[fields.Count];
            long rowNumber = 0;
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                try
                {
                    using var group = reader.OpenRowGroupReader(g);
                    var count = checked((int)group.RowCount);
                    foreach (var c in used)
                    {
                        if (c >= 0) cells[c] = await ReadTextAsync(group, (DataField)fields[c], count, cancellationToken);
                    }
                    for (var i = 0; i < count; i++)
                    {
                        rowNumber++;
                        Process(new ParquetRow(cells, i, fields.Count), rowNumber);
                    }
                }
                catch (Exception ex) when (ex is not (OperationCanceledException or FocusFileException))
                {
                    throw new FocusFileException("body", $"The Parquet file could not be read in row group {g + 1} (after row {rowNumber}): {ex.Message}");
                }
            }
        }
        _result.Periods.AddRange(_periods.Values.OrderBy(p => p.PeriodStartMs).ThenBy(p => p.BillingAccountId, StringComparer.Ordinal));
        return _result;
    }

    /// <summary>Parquet.Net 6 reports UTF-8 (string) columns as ReadOnlyMemory&lt;char&gt;; they are read as strings.</summary>
    private static bool IsText(Type t) => t == typeof(string) || t == typeof(ReadOnlyMemory<char>) || t == typeof(ReadOnlyMemory<byte>);

    private static bool CanRead(Type t) =>
        IsText(t) || t == typeof(double) || t == typeof(float) || t == typeof(decimal) || t == typeof(int) || t == typeof(long)
        || t == typeof(short) || t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(DateOnly) || t == typeof(bool);

    /// <summary>One column of a row group as text; null cells stay null.</summary>
    private static async Task<string?[]> ReadTextAsync(ParquetRowGroupReader group, DataField field, int count, CancellationToken ct)
    {
        var t = field.ClrType;
        if (IsText(t))
        {
            var values = new string?[count];
            await group.ReadAsync(field, values.AsMemory(), null, ct);
            return values;
        }
        if (t == typeof(double)) return Format(await ReadValuesAsync<double>(group, field, count, ct), static v => v.ToString("R", CultureInfo.InvariantCulture));
        if (t == typeof(float)) return Format(await ReadValuesAsync<float>(group, field, count, ct), static v => ((double)v).ToString("R", CultureInfo.InvariantCulture));
        if (t == typeof(decimal)) return Format(await ReadValuesAsync<decimal>(group, field, count, ct), static v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(int)) return Format(await ReadValuesAsync<int>(group, field, count, ct), static v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(long)) return Format(await ReadValuesAsync<long>(group, field, count, ct), static v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(short)) return Format(await ReadValuesAsync<short>(group, field, count, ct), static v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(bool)) return Format(await ReadValuesAsync<bool>(group, field, count, ct), static v => v ? "true" : "false");
        if (t == typeof(DateOnly)) return Format(await ReadValuesAsync<DateOnly>(group, field, count, ct), static v => v.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        if (t == typeof(DateTimeOffset)) return Format(await ReadValuesAsync<DateTimeOffset>(group, field, count, ct), static v => Instant(v.UtcDateTime));
        // Parquet timestamps are instants: a DateTime marked Local is converted back, Unspecified and Utc are taken as UTC.
        return Format(await ReadValuesAsync<DateTime>(group, field, count, ct),
            static v => Instant(v.Kind == DateTimeKind.Local ? v.ToUniversalTime() : DateTime.SpecifyKind(v, DateTimeKind.Utc)));
    }

    private static string Instant(DateTime utc) =>
        utc.Ticks % TimeSpan.TicksPerSecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) // the fast path of FocusTimestamps
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static async Task<T?[]> ReadValuesAsync<T>(ParquetRowGroupReader group, DataField field, int count, CancellationToken ct) where T : struct
    {
        var values = new T?[count];
        if (field.IsNullable) await group.ReadAsync(field, values.AsMemory(), null, ct);
        else
        {
            var plain = new T[count];
            await group.ReadAsync(field, plain.AsMemory(), null, ct);
            for (var i = 0; i < count; i++) values[i] = plain[i];
        }
        return values;
    }

    /// <summary>Formats values; a run of equal values (periods, days, currencies) shares one string.</summary>
    private static string?[] Format<T>(T?[] values, Func<T, string> format) where T : struct, IEquatable<T>
    {
        var text = new string?[values.Length];
        T last = default;
        string? lastText = null;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is not { } v) continue;
            if (lastText is null || !v.Equals(last)) { last = v; lastText = format(v); }
            text[i] = lastText;
        }
        return text;
    }
}

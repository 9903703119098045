namespace AiOps.Cli;

/// <summary>Writing side of the CLI's CSV: a cell is quoted only when it needs it (comma, quote, line break).</summary>
public static class CsvText
{
    public static string Cell(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
}

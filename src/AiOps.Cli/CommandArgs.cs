using System.Globalization;

namespace AiOps.Cli;

public sealed class UsageException(string message) : Exception(message);

/// <summary>Minimal `--name value` / `--flag` parser.</summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.OrdinalIgnoreCase);
    public IReadOnlyList<string> Positional { get; }

    private CommandArgs(List<string> positional) { Positional = positional; }

    public static CommandArgs Parse(IReadOnlyList<string> args)
    {
        var pos = new List<string>();
        var result = new CommandArgs(pos);
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a.StartsWith('-') && a.Length > 1 && !double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                var name = a.TrimStart('-');
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (i + 1 < args.Count && !(args[i + 1].StartsWith("--"))) value = args[++i];
                result._values[name] = value;
            }
            else pos.Add(a);
        }
        return result;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public string Require(string name) =>
        Get(name) ?? throw new UsageException($"missing --{name}");

    public int GetInt(string name, int fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new UsageException($"--{name} must be an integer");
    }

    public double GetDouble(string name, double fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new UsageException($"--{name} must be a number");
    }
}

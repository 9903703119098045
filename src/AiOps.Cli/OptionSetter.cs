using System.Globalization;

namespace AiOps.Cli;

/// <summary>Applies `Name=Value,Name=Value` overrides to an options record (for experiments and ops tuning).</summary>
public static class OptionSetter
{
    public static T Apply<T>(T options, string? spec) where T : class
    {
        if (string.IsNullOrWhiteSpace(spec)) return options;
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2) throw new UsageException($"bad --set entry '{part}'");
            var prop = typeof(T).GetProperty(kv[0]) ?? throw new UsageException($"unknown option '{kv[0]}' for {typeof(T).Name}");
            var type = Nullable.GetUnderlyingType(prop.PropertyType) ?? prop.PropertyType;
            object? value;
            try
            {
                value = type.IsEnum ? Enum.Parse(type, kv[1], true) : Convert.ChangeType(kv[1], type, CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidCastException or OverflowException)
            {
                throw new UsageException($"bad value '{kv[1]}' for {kv[0]} ({type.Name})");
            }
            prop.SetValue(options, value);
        }
        return options;
    }
}

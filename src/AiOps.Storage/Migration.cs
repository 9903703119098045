using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace AiOps.Storage;

/// <summary>The database engines the project ships migrations for.</summary>
public enum DatabaseProvider
{
    /// <summary>SQLite via Microsoft.Data.Sqlite (Orleans invariant "System.Data.SQLite"): grain persistence only.</summary>
    Sqlite,

    /// <summary>PostgreSQL via Npgsql (Orleans invariant "Npgsql"): clustering, persistence, reminders, streams.</summary>
    Postgres,
}

/// <summary>One numbered migration script embedded in this assembly.</summary>
/// <param name="Provider">Engine the script is written for.</param>
/// <param name="Version">The number prefix of the file name (0001 → 1).</param>
/// <param name="Name">The file name without extension, e.g. <c>0002_orleans_clustering</c>.</param>
/// <param name="Sql">The script text (line endings normalised to LF).</param>
/// <param name="Checksum">SHA-256 of <paramref name="Sql"/>, hex; recorded when applied.</param>
public sealed record Migration(DatabaseProvider Provider, int Version, string Name, string Sql, string Checksum)
{
    /// <summary>Loads the embedded migrations for <paramref name="provider"/>, ordered by version.</summary>
    /// <exception cref="InvalidOperationException">A file name lacks a number prefix, or two files share a number.</exception>
    public static IReadOnlyList<Migration> Load(DatabaseProvider provider)
    {
        var assembly = typeof(Migration).Assembly;
        var prefix = $"Migrations/{provider}/";
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var normalized = resource.Replace('\\', '/');
            if (!normalized.StartsWith(prefix, StringComparison.Ordinal) || !normalized.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = normalized[prefix.Length..^4];
            var underscore = name.IndexOf('_', StringComparison.Ordinal);
            var number = underscore > 0 ? name[..underscore] : name;
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version <= 0)
            {
                throw new InvalidOperationException($"Migration '{normalized}' must start with a positive number, e.g. 0001_name.sql.");
            }

            var sql = ReadResource(assembly, resource).Replace("\r\n", "\n", StringComparison.Ordinal);
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            list.Add(new Migration(provider, version, name, sql, checksum));
        }

        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < list.Count; i++)
        {
            if (list[i].Version == list[i - 1].Version)
            {
                throw new InvalidOperationException($"Migrations '{list[i - 1].Name}' and '{list[i].Name}' share version {list[i].Version}.");
            }
        }

        return list;
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource '{resource}' not found.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

/// <summary>What a migration run did.</summary>
/// <param name="Provider">Engine migrated.</param>
/// <param name="AppliedNow">Versions applied by this run (empty when the schema was already current).</param>
/// <param name="CurrentVersion">Highest version recorded in <c>aiops_schema_migrations</c> after the run.</param>
/// <param name="OrleansQueryKeys">The query keys present in <c>OrleansQuery</c> after the run, sorted.</param>
public sealed record MigrationResult(
    DatabaseProvider Provider,
    IReadOnlyList<int> AppliedNow,
    int CurrentVersion,
    IReadOnlyList<string> OrleansQueryKeys);

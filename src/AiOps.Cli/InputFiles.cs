using System.IO.Enumeration;

namespace AiOps.Cli;

/// <summary>
/// Input paths for `detect` and `forecast`: a file, a folder (every `*.csv` below it) or a glob such as
/// `data/*/*.csv` or `data/**/art*.csv`. Globs are matched one path segment at a time with
/// <see cref="FileSystemName.MatchesSimpleExpression"/> (`*` and `?` stay inside a segment; a `**` segment spans any
/// number of folders), relative to the longest leading part without wildcards.
/// </summary>
public static class InputFiles
{
    private static readonly bool IgnoreCase = !OperatingSystem.IsLinux();

    public static bool IsGlob(string path) => path.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>Splits a glob into the folder to search and the pattern relative to it (`/` separated).</summary>
    public static (string Root, string Pattern) Split(string glob)
    {
        int wildcard = glob.AsSpan().IndexOfAny('*', '?');
        if (wildcard < 0) throw new ArgumentException("not a glob", nameof(glob));
        int sep = glob.AsSpan(0, wildcard).LastIndexOfAny('/', Path.DirectorySeparatorChar);
        var root = sep < 0 ? "." : sep == 0 ? glob[..1] : glob[..sep];
        return (root, glob[(sep + 1)..].Replace(Path.DirectorySeparatorChar, '/'));
    }

    /// <summary>Files under <paramref name="root"/> whose relative path matches <paramref name="pattern"/>, in ordinal order.</summary>
    public static List<string> Match(string root, string pattern)
    {
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!Directory.Exists(root)) return [];
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        return Directory.EnumerateFiles(root, "*", options)
            .Where(file => Matches(Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar, '/'), segments))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>True when the relative path segments match the pattern segments (`**` = zero or more segments).</summary>
    public static bool Matches(ReadOnlySpan<string> path, ReadOnlySpan<string> pattern)
    {
        while (pattern.Length > 0)
        {
            if (pattern[0] == "**")
            {
                for (int skip = 0; skip <= path.Length; skip++)
                    if (Matches(path[skip..], pattern[1..])) return true;
                return false;
            }
            if (path.Length == 0 || !FileSystemName.MatchesSimpleExpression(pattern[0], path[0], IgnoreCase)) return false;
            path = path[1..];
            pattern = pattern[1..];
        }
        return path.Length == 0;
    }

    /// <summary>A single file or every file a glob matches (at least one, else a usage error).</summary>
    public static List<string> FilesOf(string pathOrGlob)
    {
        if (IsGlob(pathOrGlob))
        {
            var (root, pattern) = Split(pathOrGlob);
            var files = Match(root, pattern);
            return files.Count > 0 ? files : throw new UsageException($"no files match {pathOrGlob}");
        }
        return File.Exists(pathOrGlob) ? [pathOrGlob] : throw new UsageException($"input not found: {pathOrGlob}");
    }
}

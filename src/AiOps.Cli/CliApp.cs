using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using AiOps.Cli.Commands;

namespace AiOps.Cli;

/// <summary>
/// The `aiops` command tree on System.CommandLine: help on every command (`-h`, `--help`), parse errors (unknown
/// option, missing argument, bad value) and usage errors exit with <see cref="UsageExitCode"/>, and the root accepts the
/// `[suggest]` directive that `dotnet-suggest` uses for shell completion.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code for anything the user typed wrong (as before the move to System.CommandLine).</summary>
    public const int UsageExitCode = 2;

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("AiOps command line: score and forecast files offline, migrate the database, manage API keys, import FOCUS costs");
        root.HelpName = "aiops"; // the same name in help whether run as `aiops`, `dotnet aiops.dll` or in process
        root.Add(DetectCommand.Create());
        root.Add(ForecastCommand.Create());
        var db = new Command("db", "Database commands");
        db.Add(DbMigrateCommand.Create());
        root.Add(db);
        var keys = new Command("keys", "Manage API keys through a running server (admin key)");
        keys.Add(KeysCommands.Create());
        keys.Add(KeysCommands.List());
        keys.Add(KeysCommands.Revoke());
        root.Add(keys);
        var import = new Command("import", "Import data into a running server");
        import.Add(ImportFocusCommand.Create());
        root.Add(import);
        return root;
    }

    /// <summary>Parses and runs; <paramref name="output"/>/<paramref name="error"/> default to the console (tests pass writers).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var config = new InvocationConfiguration { Output = output ?? Console.Out, Error = error ?? Console.Error };
        var result = BuildRoot().Parse(args);
        if (result.Action is ParseErrorAction parseError)
        {
            // a group such as `aiops db` or bare `aiops`: show what it offers; otherwise the errors and a pointer to help
            var command = result.CommandResult.Command;
            parseError.ShowHelp = command.Subcommands.Count > 0 && command.Action is null;
            await result.InvokeAsync(config, cancellationToken);
            if (!parseError.ShowHelp) config.Error.WriteLine($"Run '{CommandPath(result)} --help' for usage.");
            return UsageExitCode;
        }
        return await result.InvokeAsync(config, cancellationToken);
    }

    /// <summary>Sets an action that turns <see cref="UsageException"/> into exit code 2 with the message on stderr.</summary>
    internal static void SetUsageAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> run) =>
        command.SetAction(async (result, ct) =>
        {
            try
            {
                return await run(result, ct);
            }
            catch (UsageException ex)
            {
                var err = result.InvocationConfiguration.Error;
                err.WriteLine($"error: {ex.Message}");
                err.WriteLine($"Run '{CommandPath(result)} --help' for usage.");
                return UsageExitCode;
            }
        });

    /// <summary>
    /// A positional argument takes any token that is not an option of its command, so `detect --bogus x` would read
    /// `--bogus` as INPUT; reject dash-led values there as the unknown options they are (`./-file` still works).
    /// </summary>
    internal static T NoOptionLike<T>(this T argument) where T : Argument
    {
        argument.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
                if (token.Value.Length > 1 && token.Value[0] == '-')
                    r.AddError($"Unrecognized option '{token.Value}'.");
        });
        return argument;
    }

    /// <summary>An integer option that must be at least <paramref name="min"/> (a value that does not parse is reported by the parser).</summary>
    internal static Option<int> AtLeast(this Option<int> option, int min)
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var n) && n < min)
                r.AddError($"{option.Name} must be at least {min}, not {n}.");
        });
        return option;
    }

    private static string CommandPath(ParseResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result.CommandResult; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Add(c.Command is RootCommand ? "aiops" : c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}

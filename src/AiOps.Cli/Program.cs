using AiOps.Cli;
using AiOps.Cli.Commands;

// Tiny dispatcher: `aiops <command> [--option value ...]`. Each command lives in Commands/<Name>Command.cs
// and is registered here.
var commands = new ICommand[]
{
    new DetectCommand(),
    new ForecastCommand(),
    new DbMigrateCommand(),
    new KeysCreateCommand(),
    new KeysListCommand(),
    new KeysRevokeCommand(),
    new ImportFocusCommand(),
};

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Error.WriteLine("usage: aiops <command> [options]\n\ncommands:");
    foreach (var c in commands) Console.Error.WriteLine($"  {c.Name,-12} {c.Summary}");
    return args.Length == 0 ? 2 : 0;
}

// multi-word command names (e.g. "db migrate") match the longest prefix of the arguments
var match = commands
    .Select(c => (cmd: c, words: c.Name.Split(' ')))
    .Where(x => x.words.Length <= args.Length && x.words.Select((w, i) => w == args[i]).All(b => b))
    .OrderByDescending(x => x.words.Length)
    .FirstOrDefault();
if (match.cmd is null)
{
    Console.Error.WriteLine($"unknown command '{args[0]}'. Run 'aiops --help'.");
    return 2;
}
var rest = args.Skip(match.words.Length).ToArray();
try
{
    var parsed = CommandArgs.Parse(rest);
    if (parsed.Has("help") || parsed.Has("h"))
    {
        Console.Error.WriteLine($"usage: aiops {match.cmd.Name} {match.cmd.Usage}");
        return 0;
    }
    return await match.cmd.RunAsync(parsed, CancellationToken.None);
}
catch (UsageException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}\nusage: aiops {match.cmd.Name} {match.cmd.Usage}");
    return 2;
}

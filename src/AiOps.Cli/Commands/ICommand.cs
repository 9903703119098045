namespace AiOps.Cli.Commands;

/// <summary>One CLI command. Add a class in Commands/ and register it in Program.cs.</summary>
public interface ICommand
{
    /// <summary>Command name, possibly several words ("db migrate").</summary>
    string Name { get; }
    string Summary { get; }
    string Usage { get; }
    Task<int> RunAsync(CommandArgs args, CancellationToken cancellationToken);
}

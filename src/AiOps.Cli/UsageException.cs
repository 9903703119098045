namespace AiOps.Cli;

/// <summary>A usage error found after parsing (missing file, bad `--set` entry): exit code 2 and a one-line message.</summary>
public sealed class UsageException(string message) : Exception(message);

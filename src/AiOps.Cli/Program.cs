// `aiops <command> [options]`: the command tree (System.CommandLine) is built in CliApp.cs; each command lives in
// Commands/<Name>Command.cs.
return await AiOps.Cli.CliApp.RunAsync(args);

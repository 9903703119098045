using AiOps.Server;

// Everything (services, middleware, routes) is assembled in AiOpsApplication.Create.

AiOpsApplication.Create(args).Run();

/// <summary>Entry point marker for WebApplicationFactory.</summary>
public partial class Program;

using AiOps.Server.Apis;
using AiOps.Server.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

var builder = WebApplication.CreateBuilder(args);
builder.AddAiOpsServer();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapOpenApi("/openapi/{documentName}.json");
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
app.MapTelemetryApi();
app.MapEntitiesApi();
app.MapValueApi();

app.Run();

/// <summary>Entry point marker for WebApplicationFactory.</summary>
public partial class Program;

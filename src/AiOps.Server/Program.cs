using AiOps.Server.Apis;
using AiOps.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddAiOpsServer();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapHealthEndpoints();
app.MapApiDocs();
app.MapPrometheusMetrics();
app.MapTelemetryApi();
app.MapEntitiesApi();
app.MapValueApi();
app.MapKeysApi();

app.Run();

/// <summary>Entry point marker for WebApplicationFactory.</summary>
public partial class Program;

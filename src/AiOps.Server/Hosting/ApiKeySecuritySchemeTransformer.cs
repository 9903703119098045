using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AiOps.Server.Hosting;

/// <summary>Declares the API-key scheme (Bearer or X-Api-Key) in the OpenAPI document.</summary>
internal sealed class ApiKeySecuritySchemeTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An AiOps API key (aiops_…), as 'Authorization: Bearer <key>' or in an 'X-Api-Key' header. Roles: reader, operator, admin, ingest.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] });
        document.Info.Title = "AiOps API";
        document.Info.Description = "DataOps, MLOps and FinOps in one system: telemetry ingestion, entity summaries, the unified value view, alerts.";
        return Task.CompletedTask;
    }
}

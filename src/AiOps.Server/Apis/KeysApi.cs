using AiOps.Abstractions;
using AiOps.Abstractions.Security;
using AiOps.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AiOps.Server.Apis;

public sealed record CreateKeyRequest(string? Name, string? Role, DateTime? ExpiresAt);

public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/keys").WithTags("API keys").RequireAuthorization(Policies.Admin);
        group.MapPost("/", CreateAsync).WithName("CreateKey")
            .WithSummary("Create an API key (the full key is in this response only)")
            .ProducesValidationProblem();
        group.MapGet("/", ListAsync).WithName("ListKeys").WithSummary("List API keys (ids, names, roles; never secrets)");
        group.MapDelete("/{keyId}", RevokeAsync).WithName("RevokeKey").WithSummary("Revoke an API key");
        return app;
    }

    private static async Task<Results<Created<CreatedApiKey>, ValidationProblem>> CreateAsync(
        CreateKeyRequest body, IClusterClient client, ApiKeyStore store, HttpContext http, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 100 || body.Name.Any(char.IsControl))
            errors["name"] = ["name is required: 1-100 characters without control characters."];
        if (body.Role is null || !Roles.All.Contains(body.Role))
            errors["role"] = [$"role must be one of {string.Join(", ", Roles.All)}."];
        if (body.ExpiresAt is { } e && e.ToUniversalTime() <= time.GetUtcNow().UtcDateTime)
            errors["expiresAt"] = ["expiresAt must be in the future."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The key was not created.");

        var created = await client.GetGrain<IApiKeyRegistryGrain>(IApiKeyRegistryGrain.DefaultKey)
            .CreateAsync(body.Name!, body.Role!, http.User.Identity?.Name, body.ExpiresAt?.ToUniversalTime());
        await store.RefreshAsync();
        return TypedResults.Created($"/api/v1/keys/{created.Info.KeyId}", created);
    }

    private static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> ListAsync(IClusterClient client) =>
        TypedResults.Ok(await client.GetGrain<IApiKeyRegistryGrain>(IApiKeyRegistryGrain.DefaultKey).ListAsync());

    private static async Task<Results<Ok<ApiKeyInfo>, NotFound<ProblemDetails>, ValidationProblem>> RevokeAsync(
        string keyId, IClusterClient client, ApiKeyStore store, HttpContext http)
    {
        if (keyId.Length is 0 or > 32 || !keyId.All(char.IsAsciiLetterOrDigit))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["keyId"] = ["keyId is not a key id."] });
        var revoked = await client.GetGrain<IApiKeyRegistryGrain>(IApiKeyRegistryGrain.DefaultKey).RevokeAsync(keyId, http.User.Identity?.Name);
        if (revoked is null)
            return TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Unknown key", Detail = $"No key '{keyId}'." });
        await store.RefreshAsync();
        return TypedResults.Ok(revoked);
    }
}

using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace AiOps.Server.Security;

public static class SecurityExtensions
{
    /// <summary>API-key authentication, role policies, and a fallback that makes any route without an explicit policy admin-only.</summary>
    public static IServiceCollection AddAiOpsSecurity(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddHostedService(sp => sp.GetRequiredService<ApiKeyStore>());
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Read, p => p.RequireRole(Roles.Reader, Roles.Operator, Roles.Admin))
            .AddPolicy(Policies.Operate, p => p.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Ingest, p => p.RequireRole(Roles.Ingest, Roles.Admin))
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireRole(Roles.Admin).Build());
        return services;
    }

    /// <summary>The roles each policy admits (the role-matrix test and the docs read this).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> PolicyRoles = new Dictionary<string, string[]>
    {
        [Policies.Read] = [Roles.Reader, Roles.Operator, Roles.Admin],
        [Policies.Operate] = [Roles.Operator, Roles.Admin],
        [Policies.Admin] = [Roles.Admin],
        [Policies.Ingest] = [Roles.Ingest, Roles.Admin],
    };
}

namespace AiOps.Server.Security;

/// <summary>
/// API key roles and the authorization policies built on them. Every route except health requires one.
/// reader: read everything; operator: reader + act on alerts, silences, webhooks, entity metadata;
/// admin: everything, including keys; ingest: only the ingestion routes (POST /api/v1/telemetry, /v1/metrics, /api/v1/costs/focus).
/// </summary>
public static class Roles
{
    public const string Reader = "reader";
    public const string Operator = "operator";
    public const string Admin = "admin";
    public const string Ingest = "ingest";

    public static readonly IReadOnlyList<string> All = [Reader, Operator, Admin, Ingest];
}

public static class Policies
{
    /// <summary>GET routes: reader, operator, admin.</summary>
    public const string Read = "read";
    /// <summary>Operator actions: operator, admin.</summary>
    public const string Operate = "operate";
    /// <summary>Key management and other admin routes: admin.</summary>
    public const string Admin = "admin";
    /// <summary>Telemetry ingestion: ingest, admin.</summary>
    public const string Ingest = "ingest";
}

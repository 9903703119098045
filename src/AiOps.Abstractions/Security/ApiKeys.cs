namespace AiOps.Abstractions.Security;

/// <summary>A stored API key: the secret is kept only as its SHA-256 hash.</summary>
[GenerateSerializer, Immutable, Alias("aiops.ApiKeyRecord")]
public sealed record ApiKeyRecord
{
    [Id(0)] public required string KeyId { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required string Role { get; init; }
    /// <summary>SHA-256 of the secret part, hex. The secret is 256 random bits, so a fast hash is enough (no dictionary to attack).</summary>
    [Id(3)] public required string SecretHash { get; init; }
    [Id(4)] public required DateTime CreatedAt { get; init; }
    [Id(5)] public string? CreatedBy { get; init; }
    [Id(6)] public DateTime? ExpiresAt { get; init; }
    [Id(7)] public DateTime? RevokedAt { get; init; }
    [Id(8)] public string? RevokedBy { get; init; }
}

/// <summary>A key as shown to operators (never the secret or its hash).</summary>
[GenerateSerializer, Immutable, Alias("aiops.ApiKeyInfo")]
public sealed record ApiKeyInfo(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Name,
    [property: Id(2)] string Role,
    [property: Id(3)] DateTime CreatedAt,
    [property: Id(4)] string? CreatedBy,
    [property: Id(5)] DateTime? ExpiresAt,
    [property: Id(6)] DateTime? RevokedAt,
    [property: Id(7)] string? RevokedBy)
{
    public static ApiKeyInfo From(ApiKeyRecord r) => new(r.KeyId, r.Name, r.Role, r.CreatedAt, r.CreatedBy, r.ExpiresAt, r.RevokedAt, r.RevokedBy);
}

/// <summary>A newly created key: the only time the full key is ever returned.</summary>
[GenerateSerializer, Immutable, Alias("aiops.CreatedApiKey")]
public sealed record CreatedApiKey([property: Id(0)] ApiKeyInfo Info, [property: Id(1)] string Key);

[GenerateSerializer, Immutable, Alias("aiops.ApiKeySnapshot")]
public sealed record ApiKeySnapshot([property: Id(0)] long Version, [property: Id(1)] IReadOnlyList<ApiKeyRecord>? Keys);

/// <summary>All API keys of the deployment (key: "default").</summary>
[Alias("aiops.IApiKeyRegistryGrain")]
public interface IApiKeyRegistryGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    /// <summary>Creates the bootstrap admin key if no key exists yet; returns it then, null otherwise.</summary>
    [Alias("EnsureBootstrap")]
    Task<CreatedApiKey?> EnsureBootstrapAsync();

    [Alias("Create")]
    Task<CreatedApiKey> CreateAsync(string name, string role, string? createdBy, DateTime? expiresAt);

    /// <summary>Revokes a key; false when there is no such key.</summary>
    [Alias("Revoke")]
    Task<ApiKeyInfo?> RevokeAsync(string keyId, string? revokedBy);

    [Alias("List")]
    Task<IReadOnlyList<ApiKeyInfo>> ListAsync();

    /// <summary>The keys with their hashes, or only the version when it equals <paramref name="knownVersion"/>.</summary>
    [Alias("Snapshot")]
    Task<ApiKeySnapshot> GetSnapshotAsync(long knownVersion);
}

/// <summary>The key format: <c>aiops_&lt;keyId&gt;_&lt;secret&gt;</c>; the id is public, the secret is 43 base64url characters.</summary>
public static class ApiKeyFormat
{
    public const string Prefix = "aiops_";

    public static bool TryParse(string key, out string keyId, out string secret)
    {
        keyId = secret = "";
        if (!key.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var rest = key.AsSpan(Prefix.Length);
        var sep = rest.IndexOf('_');
        if (sep is < 8 or > 32) return false;
        keyId = rest[..sep].ToString();
        secret = rest[(sep + 1)..].ToString();
        return secret.Length is >= 32 and <= 64;
    }

    public static string HashSecret(string secret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
}

using System.Security.Cryptography;
using AiOps.Abstractions;
using AiOps.Abstractions.Security;
using Orleans.Runtime;

namespace AiOps.Grains.Security;

public sealed class ApiKeyRegistryState
{
    public long Version { get; set; }
    public List<ApiKeyRecord> Keys { get; set; } = [];
}

/// <summary>The deployment's API keys. Secrets are generated here, returned once, and stored only as hashes.</summary>
[GrainType("apikeyregistry")]
public sealed class ApiKeyRegistryGrain(
    [PersistentState("apikeys", StorageNames.Entities)] IPersistentState<ApiKeyRegistryState> state,
    TimeProvider time) : Grain, IApiKeyRegistryGrain
{
    public const string BootstrapName = "bootstrap-admin";
    public const int MaxKeys = 10_000;

    public async Task<CreatedApiKey?> EnsureBootstrapAsync()
    {
        if (state.State.Keys.Count > 0) return null;
        return await CreateAsync(BootstrapName, "admin", "system", null);
    }

    public async Task<CreatedApiKey> CreateAsync(string name, string role, string? createdBy, DateTime? expiresAt)
    {
        if (state.State.Keys.Count >= MaxKeys) throw new InvalidOperationException($"At most {MaxKeys} keys.");
        var keyId = Base64Url(RandomNumberGenerator.GetBytes(9)).Replace("_", "x").Replace("-", "y");
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var record = new ApiKeyRecord
        {
            KeyId = keyId,
            Name = name,
            Role = role,
            SecretHash = ApiKeyFormat.HashSecret(secret),
            CreatedAt = time.GetUtcNow().UtcDateTime,
            CreatedBy = createdBy,
            ExpiresAt = expiresAt,
        };
        state.State.Keys.Add(record);
        state.State.Version++;
        await state.WriteStateAsync();
        return new CreatedApiKey(ApiKeyInfo.From(record), $"{ApiKeyFormat.Prefix}{keyId}_{secret}");
    }

    public async Task<ApiKeyInfo?> RevokeAsync(string keyId, string? revokedBy)
    {
        var i = state.State.Keys.FindIndex(k => k.KeyId == keyId);
        if (i < 0) return null;
        var key = state.State.Keys[i];
        if (key.RevokedAt is null)
        {
            key = key with { RevokedAt = time.GetUtcNow().UtcDateTime, RevokedBy = revokedBy };
            state.State.Keys[i] = key;
            state.State.Version++;
            await state.WriteStateAsync();
        }
        return ApiKeyInfo.From(key);
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<ApiKeyInfo>>(state.State.Keys.Select(ApiKeyInfo.From).ToList());

    public Task<ApiKeySnapshot> GetSnapshotAsync(long knownVersion) =>
        Task.FromResult(knownVersion == state.State.Version
            ? new ApiKeySnapshot(state.State.Version, null)
            : new ApiKeySnapshot(state.State.Version, state.State.Keys.ToList()));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

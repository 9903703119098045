using System.Collections.Frozen;
using System.Security.Cryptography;
using AiOps.Abstractions.Security;

namespace AiOps.Server.Security;

/// <summary>
/// This silo's view of the API keys: a snapshot of the registry grain, refreshed every
/// <see cref="RefreshInterval"/> and at once when an unknown key id shows up (rate-limited), so
/// authentication costs a dictionary lookup and a hash, not a grain call. A revocation made on another
/// silo takes effect here within <see cref="RefreshInterval"/>; one made through this silo, at once.
/// </summary>
public sealed class ApiKeyStore(IClusterClient client, TimeProvider time, ILogger<ApiKeyStore> logger) : BackgroundService
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MissRefreshSpacing = TimeSpan.FromMilliseconds(200);

    private volatile FrozenDictionary<string, ApiKeyRecord> _keys = FrozenDictionary<string, ApiKeyRecord>.Empty;
    private long _version = -1;
    private long _lastMissRefreshTicks;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);

    private IApiKeyRegistryGrain Registry => client.GetGrain<IApiKeyRegistryGrain>(IApiKeyRegistryGrain.DefaultKey);

    public async Task<ApiKeyRecord?> ValidateAsync(string presentedKey)
    {
        if (!ApiKeyFormat.TryParse(presentedKey, out var keyId, out var secret)) return null;
        if (!_keys.TryGetValue(keyId, out var record))
        {
            var now = time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _lastMissRefreshTicks);
            if (now - last < MissRefreshSpacing.Ticks || Interlocked.CompareExchange(ref _lastMissRefreshTicks, now, last) != last) return null;
            await RefreshAsync();
            if (!_keys.TryGetValue(keyId, out record)) return null;
        }
        var expected = Convert.FromHexString(record.SecretHash);
        var actual = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret));
        if (!CryptographicOperations.FixedTimeEquals(expected, actual)) return null;
        if (record.RevokedAt is not null) return null;
        if (record.ExpiresAt is { } expires && expires <= time.GetUtcNow().UtcDateTime) return null;
        return record;
    }

    public async Task RefreshAsync()
    {
        await _refreshGate.WaitAsync();
        try
        {
            var snapshot = await Registry.GetSnapshotAsync(Interlocked.Read(ref _version));
            if (snapshot.Keys is not null)
            {
                _keys = snapshot.Keys.ToFrozenDictionary(k => k.KeyId, StringComparer.Ordinal);
                Interlocked.Exchange(ref _version, snapshot.Version);
            }
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RefreshAsync();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Refreshing API keys failed; keeping the previous snapshot");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

using AiOps.Abstractions.Security;
using AiOps.Server.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Security;

/// <summary>
/// On first start (no key exists yet) creates an admin key, writes it to <c>&lt;data&gt;/bootstrap-admin.key</c>
/// (mode 600) and logs only where it is. The full key is never logged.
/// </summary>
public sealed class BootstrapKeyService(IClusterClient client, IOptions<AiOpsOptions> options, ApiKeyStore store, ILogger<BootstrapKeyService> logger) : IHostedService
{
    public const string FileName = "bootstrap-admin.key";

    public static string PathIn(AiOpsOptions options) => Path.GetFullPath(Path.Combine(options.DataDirectory, FileName));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var created = await client.GetGrain<IApiKeyRegistryGrain>(IApiKeyRegistryGrain.DefaultKey).EnsureBootstrapAsync();
        var path = PathIn(options.Value);
        if (created is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Delete(path); // a stale file from an older database must not keep its old permissions
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // created 600, never readable by others
            await using (var writer = new StreamWriter(path, fileOptions))
            {
                await writer.WriteLineAsync(created.Key);
            }
            logger.LogWarning("Created the bootstrap admin key {KeyId}; it is in {Path} (readable by this user only). Create named keys with it, then revoke it.",
                created.Info.KeyId, path);
        }
        else if (File.Exists(path))
        {
            logger.LogInformation("API keys exist; the bootstrap admin key, unless revoked, is in {Path}", path);
        }
        await store.RefreshAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

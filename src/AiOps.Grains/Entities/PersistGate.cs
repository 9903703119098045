using Microsoft.Extensions.Options;

namespace AiOps.Grains.Entities;

/// <summary>
/// Limits how many entity grains write their state at once. SQLite has one writer at a time and
/// Microsoft.Data.Sqlite blocks the calling thread while it waits for the lock, so unbounded parallel
/// writes would park Orleans scheduler threads; queueing them here costs nothing but a wait.
/// </summary>
public sealed class PersistGate(IOptions<EntityGrainOptions> options)
{
    private readonly SemaphoreSlim _gate = new(options.Value.MaxConcurrentWrites, options.Value.MaxConcurrentWrites);

    public async Task<T> RunAsync<T>(Func<Task<T>> write)
    {
        await _gate.WaitAsync();
        try
        {
            return await write();
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task RunAsync(Func<Task> write) => RunAsync(async () => { await write(); return true; });
}

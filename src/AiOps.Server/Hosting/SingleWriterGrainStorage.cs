using Orleans.Runtime;
using Orleans.Storage;

namespace AiOps.Server.Hosting;

/// <summary>
/// Wraps the embedded mode's SQLite grain storage so that writes go one at a time. SQLite has a single
/// writer, and Microsoft.Data.Sqlite blocks the calling thread — a thread-pool thread, as all grain work
/// is — while it waits for the write lock: concurrent writers would park threads in the busy handler and
/// stall unrelated grains for seconds. Queued here, a write waits asynchronously and holds a thread only
/// for its own commit. Reads (WAL readers do not wait for the writer) are limited to two at a time.
/// </summary>
public sealed class SingleWriterGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly SemaphoreSlim _readers = new(2, 2);

    /// <summary>Reads block a thread too (activation storms): at most two at once.</summary>
    public Task ReadStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState) =>
        Gated(_readers, () => inner.ReadStateAsync(grainType, grainId, grainState));

    public Task WriteStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState) =>
        Gated(_writer, () => inner.WriteStateAsync(grainType, grainId, grainState));

    public Task ClearStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState) =>
        Gated(_writer, () => inner.ClearStateAsync(grainType, grainId, grainState));

    private static async Task Gated(SemaphoreSlim gate, Func<Task> operation)
    {
        await gate.WaitAsync();
        try
        {
            await operation();
        }
        finally
        {
            gate.Release();
        }
    }
}

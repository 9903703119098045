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
    public async Task ReadStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState)
    {
        await _readers.WaitAsync();
        try
        {
            await inner.ReadStateAsync(grainType, grainId, grainState);
        }
        finally
        {
            _readers.Release();
        }
    }

    public async Task WriteStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState)
    {
        await _writer.WaitAsync();
        try
        {
            await inner.WriteStateAsync(grainType, grainId, grainState);
        }
        finally
        {
            _writer.Release();
        }
    }

    public async Task ClearStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState)
    {
        await _writer.WaitAsync();
        try
        {
            await inner.ClearStateAsync(grainType, grainId, grainState);
        }
        finally
        {
            _writer.Release();
        }
    }
}

using System.Text;
using AiOps.Server.Ingestion;

namespace AiOps.UnitTests;

public class IdCacheTests
{
    [Fact]
    public void SameIdGivesTheSameStringAndEveryIdItsOwnText()
    {
        var cache = new IdCache();
        var first = cache.Get("pipeline-42"u8);
        Assert.Equal("pipeline-42", first);
        Assert.Same(first, cache.Get("pipeline-42"u8));

        // Far more ids than slots: collisions replace entries, and every lookup still returns the right text.
        var ids = Enumerable.Range(0, IdCache.Slots * 3).Select(i => $"e-{i}").ToArray();
        foreach (var id in ids) Assert.Equal(id, cache.Get(Encoding.UTF8.GetBytes(id)));
        foreach (var id in ids.Reverse()) Assert.Equal(id, cache.Get(Encoding.UTF8.GetBytes(id)));
    }

    [Fact]
    public async Task ConcurrentLookupsNeverReturnAnotherIdsText()
    {
        var cache = new IdCache();
        var ids = Enumerable.Range(0, IdCache.Slots * 2).Select(i => Encoding.UTF8.GetBytes($"m-{i}")).ToArray();
        var wrong = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var round = 0; round < 5; round++)
            {
                for (var i = worker; i < ids.Length; i += 3)
                {
                    if (cache.Get(ids[i]) != Encoding.UTF8.GetString(ids[i])) Interlocked.Increment(ref wrong);
                }
            }
        })));
        Assert.Equal(0, wrong);
    }
}

using AiOps.Grains.Series;

namespace AiOps.UnitTests;

public class RecentIdsTests
{
    [Fact]
    public void EveryIdInTheWindowIsFoundAndOlderIdsAreForgotten()
    {
        var ids = new RecentIds(512);
        var rng = new Random(3);
        var added = new List<ulong>();
        for (var i = 0; i < 5_000; i++)
        {
            var h = (ulong)rng.NextInt64() | 1;
            Assert.True(ids.Add(h));
            added.Add(h);
            if (i % 97 == 0 || i % 512 == 511)
            {
                // The filter generations swap every 512 additions: no recent id may fall between them.
                for (var k = Math.Max(0, added.Count - 512); k < added.Count; k++)
                    Assert.True(ids.Contains(added[k]), $"id {k} of {added.Count} not found");
            }
        }
        Assert.False(ids.Add(added[^1]));
        Assert.False(ids.Add(added[^512]));
        Assert.False(ids.Contains(added[^513]));
    }

    [Fact]
    public void AStoredWindowReadsBackWithTheSameIds()
    {
        var ids = new RecentIds(64);
        for (ulong h = 1; h <= 100; h++) ids.Add(unchecked(h * 0x9E3779B97F4A7C15UL));
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) ids.Write(w);
        buffer.Position = 0;
        var copy = new RecentIds(64);
        copy.Read(new BinaryReader(buffer));
        for (ulong h = 37; h <= 100; h++) Assert.False(copy.Add(unchecked(h * 0x9E3779B97F4A7C15UL)));
        Assert.True(copy.Add(unchecked(36 * 0x9E3779B97F4A7C15UL)));
    }
}

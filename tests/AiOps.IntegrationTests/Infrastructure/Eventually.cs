namespace AiOps.IntegrationTests.Infrastructure;

/// <summary>Telemetry reaches grains asynchronously (streams): poll until a condition holds or fail with the last value seen.</summary>
public static class Eventually
{
    public static async Task<T> Until<T>(Func<Task<T>> read, Func<T, bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        T last;
        while (true)
        {
            last = await read();
            if (condition(last)) return last;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(50);
        }
        Assert.Fail($"Condition not reached within the timeout{(because is null ? "" : $" ({because})")}; last value: {System.Text.Json.JsonSerializer.Serialize(last)}");
        return last;
    }
}

using Orleans.Runtime;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace AiOps.Storage.Tests;

[GenerateSerializer]
[Alias("AiOps.Storage.Tests.CounterState")]
public sealed class CounterState
{
    [Id(0)] public int Value { get; set; }
    [Id(1)] public string Label { get; set; } = string.Empty;
}

[Alias("AiOps.Storage.Tests.ICounterGrain")]
public interface ICounterGrain : IGrainWithStringKey
{
    [Alias("Set")] Task Set(int value, string label);
    [Alias("Get")] Task<CounterState> Get();
    [Alias("Exists")] Task<bool> Exists();
    [Alias("Clear")] Task Clear();
    [Alias("Deactivate")] Task Deactivate();
}

public sealed class CounterGrain([PersistentState("counter", "Default")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public async Task Set(int value, string label)
    {
        state.State.Value = value;
        state.State.Label = label;
        await state.WriteStateAsync();
    }

    public Task<CounterState> Get() => Task.FromResult(state.State);

    public Task<bool> Exists() => Task.FromResult(state.RecordExists);

    public Task Clear() => state.ClearStateAsync();

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

[Alias("AiOps.Storage.Tests.IReminderProbeGrain")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    [Alias("Start")] Task Start(TimeSpan dueTime);
    [Alias("Stop")] Task Stop();
}

/// <summary>Records reminder ticks in a static registry the test can poll.</summary>
public sealed class ReminderProbeGrain : Grain, IReminderProbeGrain, IRemindable
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Ticks = new();

    public Task Start(TimeSpan dueTime) =>
        this.RegisterOrUpdateReminder("probe", dueTime, TimeSpan.FromMinutes(1));

    public async Task Stop()
    {
        var reminder = await this.GetReminder("probe");
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.AddOrUpdate(this.GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

public static class StreamNames
{
    public const string Provider = "AdoNetStreams";
    public const string Namespace = "telemetry";
}

[Alias("AiOps.Storage.Tests.IStreamSinkGrain")]
public interface IStreamSinkGrain : IGrainWithStringKey
{
    [Alias("Received")] Task<List<int>> Received();
}

[ImplicitStreamSubscription(StreamNames.Namespace)]
public sealed class StreamSinkGrain : Grain, IStreamSinkGrain, IStreamSubscriptionObserver
{
    private readonly List<int> _received = [];

    public Task<List<int>> Received() => Task.FromResult(_received.ToList());

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        var handle = handleFactory.Create<int>();
        await handle.ResumeAsync((batch) =>
        {
            foreach (var item in batch)
            {
                _received.Add(item.Item);
            }

            return Task.CompletedTask;
        });
    }
}

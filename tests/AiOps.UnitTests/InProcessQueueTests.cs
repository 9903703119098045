using AiOps.Server.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;

namespace AiOps.UnitTests;

/// <summary>
/// The embedded mode's stream queues: a read of an empty queue waits for a message instead of answering none at
/// once (an idle server's pulling agents otherwise woke 4,000 times a second). The wait here never times out, so a
/// message that did not end it would leave the read pending.
/// </summary>
public class InProcessQueueTests
{
    private static readonly Serializer Serializer =
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private static (InProcessQueueAdapterFactory Factory, IQueueAdapterReceiver Receiver) OneQueue()
    {
        var factory = new InProcessQueueAdapterFactory("test",
            new InProcessQueueOptions { Queues = 1, EmptyReadWait = Timeout.InfiniteTimeSpan },
            new StreamCacheEvictionOptions(), Serializer, NullLoggerFactory.Instance);
        var queue = factory.GetStreamQueueMapper().GetAllQueues().Single();
        return (factory, factory.CreateReceiver(queue));
    }

    private static Task Publish(InProcessQueueAdapterFactory factory, string key) =>
        factory.QueueMessageBatchAsync(StreamId.Create("model", key), new[] { 1.0 }, null, null);

    [Fact]
    public async Task AReadOfAnEmptyQueueEndsWithTheFirstMessagePublished()
    {
        var (factory, receiver) = OneQueue();
        var read = receiver.GetQueueMessagesAsync(100, CancellationToken.None);
        await Task.Delay(50); // the read is waiting, not answered
        Assert.False(read.IsCompleted);

        await Publish(factory, "m-1");
        var messages = await read.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("m-1", Assert.Single(messages).StreamId.GetKeyAsString());
    }

    [Fact]
    public async Task AReadOfAQueueHoldingMessagesTakesThemAtOnceInOrder()
    {
        var (factory, receiver) = OneQueue();
        for (var i = 0; i < 3; i++) await Publish(factory, $"m-{i}");

        var messages = await receiver.GetQueueMessagesAsync(100, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["m-0", "m-1", "m-2"], messages.Select(m => m.StreamId.GetKeyAsString()));
        Assert.True(messages[0].SequenceToken.Older(messages[2].SequenceToken));
    }

    [Fact]
    public async Task AfterShutdownAReadOfAnEmptyQueueAnswersNoneWithoutWaiting()
    {
        var (_, receiver) = OneQueue();
        await receiver.Shutdown(TimeSpan.FromSeconds(1));

        var messages = await receiver.GetQueueMessagesAsync(100, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(messages);
    }

    [Fact]
    public async Task ACancelledReadOfAnEmptyQueueAnswersNone()
    {
        var (_, receiver) = OneQueue();
        using var stop = new CancellationTokenSource();
        var read = receiver.GetQueueMessagesAsync(100, stop.Token);
        Assert.False(read.IsCompleted);

        stop.Cancel(); // the pulling agent stopping

        Assert.Empty(await read.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task ManyPublishersRacingAWaitingReaderLoseNoMessage()
    {
        var (factory, receiver) = OneQueue();
        const int publishers = 4, each = 2_000;
        var received = 0;
        var publishing = Task.WhenAll(Enumerable.Range(0, publishers).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < each; i++)
            {
                await Publish(factory, $"p{p}-{i}");
                if (i % 64 == 0) await Task.Yield();
            }
        })));
        // Every read either finds messages or waits for the next one; a lost wake-up would leave a read pending.
        while (received < publishers * each)
            received += (await receiver.GetQueueMessagesAsync(100, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30))).Count;
        await publishing;

        Assert.Equal(publishers * each, received);
    }
}

using AiOps.Server.Streaming;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace AiOps.UnitTests;

public class LoggingStreamFailureHandlerTests
{
    private sealed class CapturingLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public async Task ASkippedDeliveryIsLoggedAsAnErrorNamingTheStreamAndCounted()
    {
        var logger = new CapturingLogger();
        var handler = new LoggingStreamFailureHandler(logger);
        var stream = StreamId.Create("model", "m-1");

        await handler.OnDeliveryFailure(GuidId.GetNewGuidId(), "aiops", stream, null);
        await handler.OnDeliveryFailure(GuidId.GetNewGuidId(), "aiops", stream, null);

        Assert.Equal(2, handler.DeliveryFailures);
        Assert.All(logger.Entries, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Contains("m-1", logger.Entries[0].Message);
        Assert.Contains("delivered again from the ingest log", logger.Entries[0].Message);
        // a skipped batch must not end the entity's subscription: later batches still have to arrive
        Assert.False(handler.ShouldFaultSubsriptionOnError);
    }
}

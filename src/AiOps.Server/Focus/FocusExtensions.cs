using AiOps.Grains.Focus;

namespace AiOps.Server.Focus;

public static class FocusExtensions
{
    /// <summary>FOCUS cost imports: the sink through which import ledgers send cost points down the durable ingest path.</summary>
    public static WebApplicationBuilder AddFocusCosts(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IFocusCostSink, FocusCostSink>();
        return builder;
    }
}

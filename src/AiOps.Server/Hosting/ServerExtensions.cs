using AiOps.Server.Streaming;
using AiOps.Abstractions;
using AiOps.Grains.Entities;
using AiOps.Server.Ingestion;
using AiOps.Server.Ingestion.Durability;
using AiOps.Server.Security;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using AiOps.Grains;
using Orleans.Configuration;
using Orleans.Storage;
using Orleans.Streams;

namespace AiOps.Server.Hosting;

public static class ServerExtensions
{
    /// <summary>
    /// The composition root: deployment options, service defaults (<see cref="ServiceDefaults"/>), the Orleans silo (or,
    /// for a front end, the client) with <c>AddAiOpsGrains</c>, security, and ingestion. Registration order is start
    /// order (and stop order reversed): migrations before the silo, the publisher before the log replays into it.
    /// </summary>
    public static WebApplicationBuilder AddAiOpsServer(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(AiOpsOptions.Section);
        var options = section.Get<AiOpsOptions>() ?? new AiOpsOptions();
        options.PostgresConnectionString ??= builder.Configuration.GetConnectionString("Postgres")
                                              ?? Environment.GetEnvironmentVariable("AIOPS_POSTGRES");
        if ((options.Mode == DeploymentMode.Cluster || options.EffectiveStorage == StorageBackend.Postgres) && string.IsNullOrWhiteSpace(options.PostgresConnectionString))
            throw new InvalidOperationException("Cluster mode and AiOps:Storage=Postgres need a PostgreSQL connection string: set AiOps:PostgresConnectionString, ConnectionStrings:Postgres or AIOPS_POSTGRES.");
        if (options.Mode == DeploymentMode.Cluster && options.EffectiveStorage == StorageBackend.Sqlite)
            throw new InvalidOperationException("AiOps:Storage=Sqlite cannot serve a cluster: silos cannot share a SQLite file. Use Postgres (or Auto).");
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.Configure<IngestionOptions>(builder.Configuration.GetSection(IngestionOptions.Section));
        builder.Services.AddSingleton<AiOpsMetrics>();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = Limits.MaxRequestBodyBytes);
        builder.AddAiOpsServiceDefaults();

        // Migrations must be in place before the silo's storage providers start: register first.
        builder.Services.AddHostedService<DatabaseMigrationService>();
        var ingestion = builder.Configuration.GetSection(IngestionOptions.Section).Get<IngestionOptions>() ?? new IngestionOptions();
        var traces = ServiceDefaults.ExportsTraces(builder.Configuration);
        if (options.Role == ServerRole.FrontEnd)
        {
            if (options.Mode != DeploymentMode.Cluster) throw new InvalidOperationException("AiOps:Role=FrontEnd needs AiOps:Mode=Cluster (a front end joins silos through PostgreSQL membership).");
            builder.UseOrleansClient(client => ConfigureClient(client, options, traces));
        }
        else
        {
            builder.UseOrleans(silo => ConfigureSilo(silo, options, ingestion, traces));
        }
        builder.Services.AddHostedService<BootstrapKeyService>();
        builder.Services.AddAiOpsSecurity();
        Focus.FocusExtensions.AddFocusCosts(builder);
        Otlp.OtlpExtensions.AddOtlpReceiver(builder.Services);
        builder.Services.AddSingleton<IngestionProgress>();
        builder.Services.AddSingleton<IngestCheckpoints>();
        builder.Services.AddSingleton<IngestLog>();
        builder.Services.AddSingleton<LogDelivery>();
        if (options.Mode == DeploymentMode.Cluster)
        {
            // The ingest log's own small pool: its appends never wait behind Orleans' queries.
            var logConnections = options.PooledPostgresConnectionString(options.PostgresLogPoolSize, "aiops-ingest-log");
            var forced = new Npgsql.NpgsqlConnectionStringBuilder(logConnections) { MaxPoolSize = options.PostgresLogPoolSize };
            builder.Services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(forced.ConnectionString));
        }
        // Stop order is the reverse: the ingest log stops taking requests, the publisher flushes, the drain saves
        // grains, the log is trimmed behind them, then the silo stops. Start order: the publisher runs before the
        // log replays into it, and both before the HTTP server takes requests.
        builder.Services.AddHostedService<IngestLogCompaction>();
        if (options.Role == ServerRole.Silo)
        {
            builder.Services.AddHostedService<ShutdownDrainService>();
            builder.Services.AddHostedService<RuleScheduler>();
        }
        builder.Services.AddSingleton<TelemetryPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TelemetryPublisher>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IngestLog>());

        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromMinutes(2));
        return builder;
    }

    private const string SqliteStorageName = "entities-sqlite";

    /// <summary>An API-only front end: an Orleans client whose gateways are the silos in the PostgreSQL membership table.</summary>
    private static void ConfigureClient(IClientBuilder client, AiOpsOptions options, bool traces)
    {
        if (traces) client.AddActivityPropagation();
        client.Configure<ClusterOptions>(c =>
        {
            c.ClusterId = options.ClusterId;
            c.ServiceId = options.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = options.PooledPostgresConnectionString(4, "aiops-frontend");
        });
        // A gateway that died is dropped from the list quickly; calls go to the others.
        client.Configure<GatewayOptions>(g => g.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        if (options.Dashboard) Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(client);
    }

    private static void ConfigureSilo(ISiloBuilder silo, AiOpsOptions options, IngestionOptions ingestion, bool traces)
    {
        silo.AddAiOpsGrains();
        // Grain calls carry the trace context and appear as spans when traces are exported (see ServiceDefaults).
        if (traces) silo.AddActivityPropagation();
        silo.Configure<ClusterOptions>(c =>
        {
            c.ClusterId = options.ClusterId;
            c.ServiceId = options.ServiceId;
        });

        if (options.Mode == DeploymentMode.Embedded)
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort);
            if (options.EffectiveStorage == StorageBackend.Sqlite)
            {
                silo.AddAdoNetGrainStorage(SqliteStorageName, o =>
                {
                    o.Invariant = "System.Data.SQLite";
                    o.ConnectionString = options.SqliteConnectionString;
                });
                silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Entities,
                    (sp, _) => new SingleWriterGrainStorage(sp.GetRequiredKeyedService<IGrainStorage>(SqliteStorageName)));
            }
            else
            {
                // One process on PostgreSQL (e.g. a managed database): same tables as a cluster, localhost clustering.
                silo.AddAdoNetGrainStorage(StorageNames.Entities, o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = options.PooledPostgresConnectionString(options.PostgresPoolSize, "aiops-embedded");
                });
            }
            // In-process queues (one silo: no queue grains to call), Orleans' pulling agents and cache.
            silo.Services.Configure<InProcessQueueOptions>(StreamNames.Provider, o => o.Queues = options.StreamQueues);
            silo.Services.AddSingleton(sp => new LoggingStreamFailureHandler(sp.GetRequiredService<ILogger<LoggingStreamFailureHandler>>()));
            // Nothing rewinds these streams: keep delivered batches for seconds, not Orleans' default minutes
            // (at 200k events/s five minutes of batches is over a gigabyte of cache).
            silo.Services.Configure<StreamCacheEvictionOptions>(StreamNames.Provider, o =>
            {
                o.DataMinTimeInCache = TimeSpan.FromSeconds(30);
                o.DataMaxAgeInCache = TimeSpan.FromMinutes(2);
            });
            silo.AddPersistentStreams(StreamNames.Provider, InProcessQueueAdapterFactory.Create, b =>
            {
                b.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                // The pulling agents' default 100 ms poll would dominate alert latency; a poll of an empty
                // in-process queue costs next to nothing.
                b.ConfigurePullingAgent(o => o.Configure(a => a.GetQueueMsgsTimerPeriod = options.EffectiveStreamPollInterval));
            });
        }
        else
        {
            var postgres = options.PooledPostgresConnectionString(options.PostgresPoolSize, "aiops-silo");
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
            // A silo killed with -9 is declared dead after about three missed 2 s probes (Orleans' defaults: 10 s
            // probes, 3 misses, so ~30-40 s): its grains then reactivate elsewhere and calls to them stop failing.
            silo.Configure<ClusterMembershipOptions>(m =>
            {
                m.ProbeTimeout = TimeSpan.FromSeconds(2);
                m.NumMissedProbesLimit = 3;
                m.NumVotesForDeathDeclaration = 1;
                m.TableRefreshTimeout = TimeSpan.FromSeconds(5);
                m.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            });
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = postgres;
            });
            silo.AddAdoNetGrainStorage(StorageNames.Entities, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = postgres;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = postgres;
            });
            // With the ingest log (the default) telemetry reaches the grains by direct calls from the silo that logged
            // it. Orleans' ADO.NET streams remain for AiOps:Ingestion:Acknowledge=Published (a queue row per entity
            // message: measured ~75x slower, and unsaved grain state is lost with a silo).
            if (options.Dashboard) Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(silo);
            // After the endpoints above: in a pod, the pod's name, IP and labels decide (and survivors delete defunct silo pods).
            if (options.Kubernetes) silo.UseKubernetesHosting();
            if (ingestion.Acknowledge == IngestionAck.Published)
            silo.AddAdoNetStreams(StreamNames.Provider, b =>
            {
                b.ConfigureAdoNet(ob => ob.Configure(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = postgres;
                }));
                b.ConfigurePartitioning(options.StreamQueues);
                b.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                b.ConfigurePullingAgent(o => o.Configure(a => a.GetQueueMsgsTimerPeriod = options.EffectiveStreamPollInterval));
            });
        }

        // Grain state as plain System.Text.Json (no $type names: renaming a class does not break stored state).
        silo.Services.AddSingleton<IGrainStorageSerializer, PlainJsonGrainStorageSerializer>();
    }
}

/// <summary>Ready when the silo answers a grain call.</summary>
internal sealed class ReadinessCheck(IClusterClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await client.GetGrain<IValueGrain>(IValueGrain.DefaultKey).GetReportAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("The silo did not answer.", ex);
        }
    }
}

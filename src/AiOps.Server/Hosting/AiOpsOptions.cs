namespace AiOps.Server.Hosting;

public enum DeploymentMode
{
    /// <summary>One process: localhost clustering, SQLite grain storage under the data folder, memory streams.</summary>
    Embedded = 0,
    /// <summary>N silos: ADO.NET clustering, persistence, reminders and durable streams on PostgreSQL.</summary>
    Cluster = 1,
}

/// <summary>Where grain state lives, chosen apart from the topology.</summary>
public enum StorageBackend
{
    /// <summary>SQLite for <see cref="DeploymentMode.Embedded"/>, PostgreSQL for <see cref="DeploymentMode.Cluster"/>.</summary>
    Auto = 0,
    /// <summary>A SQLite file under the data folder (one process only: silos cannot share it).</summary>
    Sqlite = 1,
    /// <summary>PostgreSQL (<see cref="AiOpsOptions.PostgresConnectionString"/>): also for a single embedded process, e.g. on a managed database.</summary>
    Postgres = 2,
}

/// <summary>What this process runs.</summary>
public enum ServerRole
{
    /// <summary>A silo with the API co-hosted (the default).</summary>
    Silo = 0,
    /// <summary>
    /// Cluster mode only: the API and the ingest log without a silo; joins the cluster as an Orleans client (gateways
    /// from the PostgreSQL membership table). Scales apart from the silos.
    /// </summary>
    FrontEnd = 1,
}

public sealed class AiOpsOptions
{
    public const string Section = "AiOps";

    public ServerRole Role { get; set; } = ServerRole.Silo;

    /// <summary>Cluster mode in Kubernetes: silo name, address and cluster identity from the pod (Microsoft.Orleans.Hosting.Kubernetes).</summary>
    public bool Kubernetes { get; set; }

    /// <summary>Cluster mode: the Orleans Dashboard at <c>/dashboard</c>, for admin keys only.</summary>
    public bool Dashboard { get; set; } = true;

    public DeploymentMode Mode { get; set; } = DeploymentMode.Embedded;

    /// <summary>Grain storage, independent of the topology (<see cref="Mode"/>): <c>Auto</c> follows the mode.</summary>
    public StorageBackend Storage { get; set; } = StorageBackend.Auto;

    public StorageBackend EffectiveStorage =>
        Storage != StorageBackend.Auto ? Storage : Mode == DeploymentMode.Embedded ? StorageBackend.Sqlite : StorageBackend.Postgres;

    /// <summary>Folder of the embedded mode's SQLite file (and, later, the bootstrap key).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>PostgreSQL connection string for cluster mode (or <c>ConnectionStrings:Postgres</c>).</summary>
    public string? PostgresConnectionString { get; set; }

    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    public string ClusterId { get; set; } = "aiops";
    public string ServiceId { get; set; } = "aiops";

    /// <summary>Stream queues (partitions), each read by one pulling agent.</summary>
    public int StreamQueues { get; set; } = 8;

    /// <summary>
    /// How often stream pulling agents poll their queues (Orleans' default is 100 ms). Unset: 2 ms embedded
    /// (a poll of an in-process queue is a dequeue; the alert-latency bench: p50 13.8 → 5.6-6.7 ms at half load,
    /// ingestion throughput within noise), 10 ms in cluster mode (a poll is a PostgreSQL query). Embedded, a read of an
    /// empty queue waits up to <see cref="Streaming.InProcessQueueOptions.EmptyReadWait"/> for a message, so an idle
    /// server does not wake every 2 ms.
    /// </summary>
    public TimeSpan? StreamPollInterval { get; set; }

    public TimeSpan EffectiveStreamPollInterval =>
        StreamPollInterval ?? (Mode == DeploymentMode.Embedded ? TimeSpan.FromMilliseconds(2) : TimeSpan.FromMilliseconds(10));

    /// <summary>Serve /openapi and /scalar without a key (on in Development; everything else always needs one).</summary>
    public bool PublicApiDocs { get; set; }

    public string SqlitePath => Path.GetFullPath(Path.Combine(DataDirectory, "aiops.db"));

    public string SqliteConnectionString => $"Data Source={SqlitePath};Default Timeout=30;Pooling=True";

    /// <summary>
    /// Cluster mode: PostgreSQL connections one silo may hold for Orleans (membership, grain state, reminders,
    /// streams; one pool) and for its ingest log (another). The defaults (16 + 4) keep four silos and a migration
    /// runner inside PostgreSQL's default <c>max_connections</c> of 100; an explicit <c>Maximum Pool Size</c> in the
    /// connection string wins for the Orleans pool.
    /// </summary>
    public int PostgresPoolSize { get; set; } = 16;
    public int PostgresLogPoolSize { get; set; } = 4;

    /// <summary>The connection string with this silo's pool bound.</summary>
    public string PooledPostgresConnectionString(int size, string applicationName)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(PostgresConnectionString);
        // What the text says: NpgsqlConnectionStringBuilder.ContainsKey is true for every keyword it knows.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = PostgresConnectionString };
        if (!given.ContainsKey("Maximum Pool Size")) builder.MaxPoolSize = size;
        builder.ApplicationName ??= applicationName;
        return builder.ConnectionString;
    }
}

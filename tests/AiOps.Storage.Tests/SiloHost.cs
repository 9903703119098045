using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace AiOps.Storage.Tests;

/// <summary>Builds real Orleans silos (plain generic host + UseOrleans) wired to the project's schema.</summary>
internal static class SiloHost
{
    public const string ServiceId = "aiops-storage-tests";

    /// <summary>Embedded mode: localhost clustering, ADO.NET grain storage on a SQLite file.</summary>
    public static async Task<IHost> StartSqliteSiloAsync(string sqliteConnectionString)
    {
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        var builder = Host.CreateApplicationBuilder();
        QuietLogging(builder);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort);
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = "sqlite-" + siloPort;
                o.ServiceId = ServiceId;
            });
            silo.AddAdoNetGrainStorage("Default", o =>
            {
                o.Invariant = "System.Data.SQLite";
                o.ConnectionString = sqliteConnectionString;
            });
            silo.AddAdoNetGrainStorage("Deleting", o =>
            {
                o.Invariant = "System.Data.SQLite";
                o.ConnectionString = sqliteConnectionString;
                o.DeleteStateOnClear = true;
            });
            silo.UseSystemTextJsonGrainStorageSerializer();
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Cluster mode: ADO.NET clustering, persistence, reminders and streams on PostgreSQL.</summary>
    public static async Task<IHost> StartPostgresSiloAsync(string pg, string clusterId, string siloName)
    {
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        var builder = Host.CreateApplicationBuilder();
        QuietLogging(builder);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = siloName);
            silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort);
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = pg;
            });
            silo.AddAdoNetGrainStorage("Default", o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = pg;
            });
            silo.AddAdoNetGrainStorage("Deleting", o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = pg;
                o.DeleteStateOnClear = true;
            });
            silo.AddAdoNetGrainStorage("PubSubStore", o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = pg;
            });
            silo.UseSystemTextJsonGrainStorageSerializer();
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = pg;
            });
            silo.AddAdoNetStreams(StreamNames.Provider, configurator =>
            {
                configurator.ConfigureAdoNet(ob => ob.Configure(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = pg;
                }));
                configurator.ConfigurePartitioning(2);
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static async Task StopAsync(IHost host)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(cts.Token);
        host.Dispose();
    }

    private static void QuietLogging(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
    }

    /// <summary>A free TCP port on loopback (Linux can let two silos bind one port, so never share).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last = await probe();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}; last value: {last}");
            }

            await Task.Delay(200);
            last = await probe();
        }

        return last;
    }
}

using System.Net;
using System.Net.Sockets;

namespace AiOps.IntegrationTests.Infrastructure;

/// <summary>Distinct free TCP ports: two silos on Linux can silently share ports, so every host gets its own.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Handed.Add(port)) return port;
            }
        }
    }
}

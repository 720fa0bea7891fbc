using System.Net;
using System.Net.Sockets;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>Loopback ports for tests that start real processes.</summary>
public static class Ports
{
    /// <summary>A port that was free a moment ago (the OS picks it; the listener is closed again).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

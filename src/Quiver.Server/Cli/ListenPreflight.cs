using System.Net;
using System.Net.Sockets;

namespace Quiver.Server.Cli;

/// <summary>
/// Before anything else starts (data directory, migrations, workers), checks that the addresses
/// <c>serve</c> will listen on are free, so that "port in use" is one line and leaves no trace. Kestrel
/// binds for real afterwards; the check only covers plain <c>http(s)://host:port</c> URLs, and a port taken
/// between the check and the bind still fails cleanly through <see cref="StartupFailure"/>.
/// </summary>
internal static class ListenPreflight
{
    /// <summary>The first URL whose address is taken, with the reason, or null.</summary>
    public static string? FindTaken(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            foreach (var endpoint in Endpoints(url))
            {
                try
                {
                    using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    // As Kestrel binds: connections of a previous process in TIME_WAIT must not count as "in use"
                    // (a server restarted at once after a crash), only a live listener.
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
                    {
                        socket.DualMode = false;
                    }

                    socket.Bind(endpoint);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
                {
                    return $"cannot listen on {url}: {(e.SocketErrorCode == SocketError.AccessDenied ? "permission denied" : "the address is already in use")}. "
                        + "Choose another address with --urls.";
                }
                catch (SocketException)
                {
                    // An address this machine lacks (e.g. no IPv6): Kestrel decides and reports it.
                }
            }
        }

        return null;
    }

    private static IEnumerable<IPEndPoint> Endpoints(string url)
    {
        // Kestrel's wildcard forms (http://*:8080, http://+:8080) are not valid URIs.
        var normalized = url.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Port == 0)
        {
            return [];
        }

        if (uri.Host == "localhost")
        {
            return [new IPEndPoint(IPAddress.Loopback, uri.Port)];
        }

        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) ? [new IPEndPoint(address, uri.Port)] : [];
    }
}

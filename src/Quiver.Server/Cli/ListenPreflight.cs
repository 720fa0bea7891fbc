using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Quiver.Server.Cli;

/// <summary>
/// Before anything else starts (data directory, migrations, workers), checks that the addresses
/// <c>serve</c> will listen on are free, so that "port in use" is one line and leaves no trace. Kestrel
/// binds for real afterwards; the check only covers plain <c>http(s)://host:port</c> URLs, and a port taken
/// between the check and the bind still fails cleanly through <see cref="StartupFailure"/>.
/// </summary>
internal static partial class ListenPreflight
{
    /// <summary>
    /// Why one listen address is none Kestrel can use, or null: <c>http</c> or <c>https</c>, a host (a name,
    /// an IPv4 address, <c>[IPv6]</c>, <c>*</c> or <c>+</c>), an optional port of digits from 0 to 65535, no path;
    /// or a Unix socket, <c>http://unix:/absolute/path</c>. Kestrel itself accepts worse (<c>http://127.0.0.1:80xx</c>
    /// listens on port 80 of every address), so the check comes first.
    /// </summary>
    public static string? Problem(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return "expected http://HOST:PORT or https://HOST:PORT";
        }

        var scheme = url[..schemeEnd];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return $"the scheme must be http or https, not '{scheme}'";
        }

        var rest = url[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return rest.Length > 6 && rest[5] == '/' ? null : "a Unix socket is given as unix:/ABSOLUTE/PATH";
        }

        rest = rest.EndsWith('/') ? rest[..^1] : rest;
        if (rest.IndexOfAny(['/', '?', '#', '@']) >= 0)
        {
            return "a listen address has no path, query or user";
        }

        string host;
        string? port = null;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(rest[1..close], out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return "the IPv6 address in [ ] is not valid";
            }

            host = rest[..(close + 1)];
            var after = rest[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    return "expected :PORT after the IPv6 address";
                }

                port = after[1..];
            }
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            host = colon < 0 ? rest : rest[..colon];
            port = colon < 0 ? null : rest[(colon + 1)..];
            if (host.Length == 0)
            {
                return "the host is missing";
            }

            if (host is not ("*" or "+") && !HostName().IsMatch(host))
            {
                return $"'{host}' is not a host name or an IP address (an IPv6 address goes in [ ])";
            }
        }

        if (port is not null && (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit) || int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) > 65535))
        {
            return $"the port must be a number from 0 to 65535, not '{port}'";
        }

        return null;
    }

    /// <summary>The first of the ';'-separated <paramref name="urls"/> that <see cref="Problem"/> refuses, as "'URL': problem", or null.</summary>
    public static string? FindInvalid(string urls)
    {
        var list = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0)
        {
            return "no address given";
        }

        return list.Select(url => Problem(url) is { } problem ? $"'{url}' is not an address to listen on: {problem}" : null).FirstOrDefault(p => p is not null);
    }

    /// <summary>
    /// The addresses the server will listen on, from configuration: every <c>Kestrel:Endpoints:NAME:Url</c> when
    /// any is configured (Kestrel then ignores <c>urls</c>), otherwise the <c>urls</c> setting (--urls,
    /// ASPNETCORE_URLS). The first address that is not valid comes back as a one-line problem.
    /// </summary>
    public static (List<string> Urls, string? Problem) Configured(IConfiguration configuration)
    {
        string? problem = null;
        var endpoints = new List<string>();
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            var url = endpoint["Url"];
            var found = string.IsNullOrWhiteSpace(url) ? "no Url given" : Problem(url.Trim());
            problem ??= found is null ? null : $"invalid listen address in Kestrel:Endpoints:{endpoint.Key}:Url: {(url is null ? "" : $"'{url}': ")}{found}.";
            if (found is null)
            {
                endpoints.Add(url!.Trim());
            }
        }

        var urls = configuration["urls"] ?? "";
        if (urls.Length > 0 && FindInvalid(urls) is { } invalid)
        {
            problem ??= $"invalid listen address in the urls setting (--urls, ASPNETCORE_URLS): {invalid}.";
        }

        return (endpoints.Count > 0 ? endpoints : [.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)], problem);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex HostName();

    /// <summary>The first URL whose address is taken, with the reason, or null.</summary>
    public static string? FindTaken(IEnumerable<string> urls)
    {
        foreach (var url in urls)
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

using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Quiver.Server.Hosting;

/// <summary>
/// The HTTP server's limits (config section <c>Quiver:Http</c>), chosen for an API whose JSON bodies are small and
/// whose uploads are large and streamed; docs/security.md gives the reasons. Uploads are not bounded here but by
/// <c>Quiver:MaxUploadBytes</c>, which the upload route applies to its own request.
/// </summary>
internal sealed class HttpLimitsOptions
{
    public const string Section = "Quiver:Http";

    /// <summary>
    /// Largest JSON body of an ordinary route (stores, attach, search, grants, keys, token exchange). Default 1 MiB:
    /// the largest valid such body (a store with 16 metadata pairs, or a search with a deep filter) is a few KiB.
    /// </summary>
    public long MaxJsonBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Largest JSON body of the two routes that carry many items: file batch create (up to 2,000 files, each with up
    /// to 16 attributes of 512 characters: about 19 MB of ASCII at the most) and embeddings (up to 2,048 inputs).
    /// Default 32 MiB. Kestrel's own body limit is set to this; the upload route raises it for itself.
    /// </summary>
    public long MaxLargeJsonBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Largest request line (method, path and query). Default 8 KiB, Kestrel's and nginx's.</summary>
    public int MaxRequestLineBytes { get; set; } = 8 * 1024;

    /// <summary>Largest total size of the request headers. Default 32 KiB: room for a JWT bearer token and proxies' headers.</summary>
    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    /// <summary>Most request headers. Default 64 (a real client sends about 15).</summary>
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>Time a client has to send its request headers. Default 15 s (Kestrel: 30 s); slow-loris clients are cut off.</summary>
    public int RequestHeadersTimeoutSeconds { get; set; } = 15;

    /// <summary>Idle time before a kept-alive connection is closed. Default 130 s (longer than the SDKs' pool idle time).</summary>
    public int KeepAliveTimeoutSeconds { get; set; } = 130;

    /// <summary>
    /// Slowest body a client may send, in bytes per second, after a grace period of
    /// <see cref="MinDataRateGraceSeconds"/>; also the slowest it may read a response. Default 240 B/s.
    /// </summary>
    public int MinDataRateBytesPerSecond { get; set; } = 240;

    /// <summary>Grace period before <see cref="MinDataRateBytesPerSecond"/> applies. Default 10 s.</summary>
    public int MinDataRateGraceSeconds { get; set; } = 10;

    /// <summary>Most open connections per process; 0 is unlimited (the default: put a proxy in front to cap them).</summary>
    public int MaxConcurrentConnections { get; set; }

    /// <summary>Applies these limits to Kestrel.</summary>
    public void ApplyTo(KestrelServerLimits limits)
    {
        limits.MaxRequestBodySize = MaxLargeJsonBodyBytes;
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalBytes;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(RequestHeadersTimeoutSeconds);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(KeepAliveTimeoutSeconds);
        var grace = TimeSpan.FromSeconds(MinDataRateGraceSeconds);
        limits.MinRequestBodyDataRate = new MinDataRate(MinDataRateBytesPerSecond, grace);
        limits.MinResponseDataRate = new MinDataRate(MinDataRateBytesPerSecond, grace);
        limits.MaxConcurrentConnections = MaxConcurrentConnections > 0 ? MaxConcurrentConnections : null;
    }

    /// <summary>The first invalid value, named by its configuration key; null when all are valid.</summary>
    public string? Validate()
    {
        if (MaxJsonBodyBytes < 1024 || MaxLargeJsonBodyBytes < MaxJsonBodyBytes)
        {
            return "Quiver:Http:MaxJsonBodyBytes must be at least 1024 and Quiver:Http:MaxLargeJsonBodyBytes at least MaxJsonBodyBytes.";
        }

        if (MaxRequestLineBytes < 1024 || MaxRequestHeadersTotalBytes < 4096 || MaxRequestHeaderCount < 16)
        {
            return "Quiver:Http:MaxRequestLineBytes must be at least 1024, MaxRequestHeadersTotalBytes at least 4096 and MaxRequestHeaderCount at least 16.";
        }

        if (RequestHeadersTimeoutSeconds < 1 || KeepAliveTimeoutSeconds < 1 || MinDataRateGraceSeconds < 1 || MinDataRateBytesPerSecond < 1)
        {
            return "Quiver:Http timeouts, MinDataRateBytesPerSecond and MinDataRateGraceSeconds must be positive.";
        }

        return MaxConcurrentConnections < 0 ? "Quiver:Http:MaxConcurrentConnections must be 0 (unlimited) or positive." : null;
    }
}

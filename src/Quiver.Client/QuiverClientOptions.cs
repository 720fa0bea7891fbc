namespace Quiver.Client;

/// <summary>Settings of a <see cref="QuiverClient"/>.</summary>
public sealed class QuiverClientOptions
{
    /// <summary>
    /// Server root, e.g. <c>http://127.0.0.1:8080</c>; calls go to <c>{BaseAddress}/api/v1/llm/…</c>.
    /// When null, the <see cref="HttpClient.BaseAddress"/> of the supplied client is used.
    /// </summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>API key sent as <c>Authorization: Bearer …</c> (a leading <c>Bearer </c> is tolerated). Null sends no header.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Default <c>X-On-Behalf-Of</c> end-user id for every call; <see cref="RequestOptions.OnBehalfOf"/> overrides it.</summary>
    public string? OnBehalfOf { get; set; }

    /// <summary>Polling defaults used when a polling helper gets no <see cref="PollOptions"/>.</summary>
    public PollOptions Polling { get; set; } = new();
}

/// <summary>Per-call settings accepted by every operation.</summary>
public sealed class RequestOptions
{
    /// <summary><c>X-On-Behalf-Of</c> for this call, overriding the client default.</summary>
    public string? OnBehalfOf { get; set; }

    /// <summary>When true, no <c>X-On-Behalf-Of</c> header is sent even if the client has a default.</summary>
    public bool OmitOnBehalfOf { get; set; }

    /// <summary><c>Idempotency-Key</c> header, honoured by the server on creates (a retried create does not duplicate work).</summary>
    public string? IdempotencyKey { get; set; }
}

/// <summary>How the polling helpers wait for a file or batch to reach a terminal status.</summary>
public sealed class PollOptions
{
    /// <summary>Wait between polls when the server sends no <c>openai-poll-after-ms</c> header. Default 1 second.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Give up (with <see cref="TimeoutException"/>) after this long; null waits until cancelled. Default 30 minutes.</summary>
    public TimeSpan? Timeout { get; set; } = TimeSpan.FromMinutes(30);
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>
/// An OpenAI-compatible <c>POST /v1/embeddings</c> on loopback that holds every request until
/// <see cref="Release"/> (then answers with fixed vectors) or until the caller gives up. It is how
/// tests keep ingestion in flight inside real server processes, configured as an ordinary remote
/// model (no test-only switch in the server), and how they see that a process stopped its work:
/// the request is aborted when the worker's token is cancelled. Callers are told apart by their
/// API key (the <c>Bearer</c> value).
/// </summary>
public sealed class HoldingEmbeddingServer : IAsyncDisposable
{
    public const int Dimensions = 8;

    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, int> _inFlight = new();
    private readonly ConcurrentQueue<(string Caller, long At)> _aborts = new();
    private readonly ConcurrentQueue<string> _answered = new();

    private HoldingEmbeddingServer(WebApplication app) => _app = app;

    /// <summary>The base URL to configure as the model's <c>BaseUrl</c> (ends in <c>/v1</c>).</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<HoldingEmbeddingServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new HoldingEmbeddingServer(app);
        app.MapPost("/v1/embeddings", server.EmbedAsync);
        await app.StartAsync(Api.Ct);
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v1";
        return server;
    }

    /// <summary>Requests from <paramref name="caller"/> being held right now.</summary>
    public int InFlight(string caller) => _inFlight.GetValueOrDefault(caller);

    /// <summary>When (<see cref="Stopwatch"/> timestamps) requests from <paramref name="caller"/> were abandoned by it.</summary>
    public IReadOnlyList<long> Aborts(string caller) => [.. _aborts.Where(a => a.Caller == caller).Select(a => a.At)];

    /// <summary>Callers of requests that were answered (after <see cref="Release"/>).</summary>
    public IReadOnlyCollection<string> Answered => _answered;

    /// <summary>Answers every held request and every later one at once.</summary>
    public void Release() => _release.TrySetResult();

    private async Task EmbedAsync(HttpContext context)
    {
        var caller = context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var inputs = body.RootElement.GetProperty("input").GetArrayLength();
        _inFlight.AddOrUpdate(caller, 1, (_, n) => n + 1);
        try
        {
            await _release.Task.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            _aborts.Enqueue((caller, Stopwatch.GetTimestamp()));
            return;
        }
        finally
        {
            _inFlight.AddOrUpdate(caller, 0, (_, n) => n - 1);
        }

        _answered.Enqueue(caller);
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteStartArray("data");
        for (var i = 0; i < inputs; i++)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", i);
            writer.WriteStartArray("embedding");
            for (var d = 0; d < Dimensions; d++)
            {
                writer.WriteNumberValue(d == i % Dimensions ? 1f : 0.1f);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.DisposeAsync();
    }
}

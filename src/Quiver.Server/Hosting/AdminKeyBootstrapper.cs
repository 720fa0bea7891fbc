using Quiver.Core.Keys;
using Quiver.Server.Auth;

namespace Quiver.Server.Hosting;

/// <summary>
/// On the first start with an empty data directory, creates an admin key and prints it once
/// (only its hash is stored). Skipped when <c>QUIVER_API_KEY</c> provides the operator's key.
/// Registered after storage initialisation, so the schema exists.
/// </summary>
internal sealed partial class AdminKeyBootstrapper(IApiKeyStore keys, IConfiguration configuration, ILogger<AdminKeyBootstrapper> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(configuration["QUIVER_API_KEY"]) || await keys.CountAsync(cancellationToken) > 0)
        {
            return;
        }

        var (key, secret) = await keys.CreateAsync("admin", ApiKeyAuthenticationMiddleware.DefaultProject, isAdmin: true, cancellationToken);
        // Printed, not logged: the secret must not end up in log pipelines.
        Console.WriteLine();
        Console.WriteLine("  Quiver created an admin API key. It is shown only this once; store it now:");
        Console.WriteLine();
        Console.WriteLine($"    {secret}");
        Console.WriteLine();
        Console.WriteLine("  Use it as 'Authorization: Bearer <key>'. More keys: 'keys create --name NAME'.");
        Console.WriteLine();
        LogCreated(logger, key.Id);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Created first admin API key {KeyId}")]
    private static partial void LogCreated(ILogger logger, string keyId);
}

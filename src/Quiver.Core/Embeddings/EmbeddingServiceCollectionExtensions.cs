using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Quiver.Core.Embeddings;

public static class EmbeddingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IEmbeddingModelRegistry"/>, the local models and <see cref="EmbeddingOptions"/>
    /// (section <c>Quiver:Embeddings</c>, validated on start; JSON shape on <see cref="EmbeddingOptions"/>).
    /// Local models load on first use. Remote models are built by the registry from the options.
    /// Register more <see cref="EmbeddingModel"/> singletons to add models; one with an existing id
    /// replaces it.
    /// </summary>
    public static IServiceCollection AddQuiverEmbeddings(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<EmbeddingOptions>()
            .Bind(configuration.GetSection(EmbeddingOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EmbeddingOptions>, EmbeddingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // Per-attempt timeouts come from the options through TimeProvider, so the client itself has none.
        services.AddHttpClient(RemoteEmbeddingModelFactory.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddSingleton<RemoteEmbeddingModelFactory>();

        // The single models are created once (keyed by id) so the ensemble shares their loaded sessions.
        foreach (var spec in LocalModels.All)
        {
            services.AddKeyedSingleton(spec.Info.Id, (sp, _) =>
            {
                // Read at load time: reading options here would validate them, and validation resolves the models.
                var monitor = sp.GetRequiredService<IOptionsMonitor<EmbeddingOptions>>();
                var generator = new OnnxEmbeddingGenerator(spec, () => monitor.CurrentValue.IntraOpThreads, sp.GetRequiredService<ILogger<OnnxEmbeddingGenerator>>());
                return new EmbeddingModel(spec.Info, generator);
            });
            services.AddSingleton(sp => sp.GetRequiredKeyedService<EmbeddingModel>(spec.Info.Id));
        }

        services.AddSingleton(sp => EmbeddingModel.Concatenation(
            LocalModels.Ensemble,
            [sp.GetRequiredKeyedService<EmbeddingModel>(LocalModels.ArcticXsId), sp.GetRequiredKeyedService<EmbeddingModel>(LocalModels.MiniLmL6V2Id)]));

        services.TryAddSingleton<IEmbeddingModelRegistry, EmbeddingModelRegistry>();
        return services;
    }
}

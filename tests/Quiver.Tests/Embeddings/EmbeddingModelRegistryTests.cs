using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Quiver.Core.Embeddings;

namespace Quiver.Tests.Embeddings;

public sealed class EmbeddingModelRegistryTests
{
    private static readonly EmbeddingModelInfo FakeInfo = new("test:fake", "test", "fake", 8, 512, 64, 400, 100);

    private static ServiceProvider Build(Dictionary<string, string?> config, bool addFake = false)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection().AddLogging().AddQuiverEmbeddings(configuration);
        if (addFake)
        {
            services.AddSingleton(new EmbeddingModel(FakeInfo, new FakeEmbeddingGenerator(FakeInfo.Dimensions)));
        }

        return services.BuildServiceProvider(validateScopes: true);
    }

    [Fact]
    public void Auto_resolves_to_arctic_by_default_and_local_models_stay_unloaded()
    {
        using var provider = Build([]);
        var registry = provider.GetRequiredService<IEmbeddingModelRegistry>();

        Assert.Equal(LocalModels.ArcticXsId, registry.Default.Id);
        Assert.True(registry.TryResolve("auto", out var model));
        Assert.Same(model, registry.Get(LocalModels.ArcticXsId));
        Assert.Equal([LocalModels.ArcticXsId, LocalModels.MiniLmL6V2Id, LocalModels.EnsembleId], registry.Models.Select(m => m.Id));
        Assert.All(
            provider.GetServices<EmbeddingModel>().Where(m => m.Generator is not ConcatenatedEmbeddingGenerator),
            m => Assert.False(((OnnxEmbeddingGenerator)m.Generator).IsLoaded));
    }

    [Fact]
    public async Task The_ensemble_runs_on_the_registered_single_models()
    {
        using var provider = Build([]);
        var registry = provider.GetRequiredService<IEmbeddingModelRegistry>();

        var vector = await registry.Get(LocalModels.EnsembleId).EmbedQueryAsync("hello", TestContext.Current.CancellationToken);

        Assert.Equal(768, vector.Length);
        Assert.True(((OnnxEmbeddingGenerator)registry.Get(LocalModels.ArcticXsId).Generator).IsLoaded);
        Assert.True(((OnnxEmbeddingGenerator)registry.Get(LocalModels.MiniLmL6V2Id).Generator).IsLoaded);
    }

    [Fact]
    public async Task A_registered_fake_model_can_be_the_default()
    {
        using var provider = Build(new() { ["Quiver:Embeddings:Default"] = "test:fake" }, addFake: true);
        var registry = provider.GetRequiredService<IEmbeddingModelRegistry>();

        Assert.Equal("test:fake", registry.Default.Id);
        Assert.Equal("test:fake", registry.Models[0].Id);
        var model = registry.Get("AUTO");
        var vector = await model.EmbedQueryAsync("hello", TestContext.Current.CancellationToken);
        Assert.Equal(8, vector.Length);
        Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(vector), 4);
        Assert.Equal(vector, await registry.Get("test:fake").EmbedQueryAsync("hello", TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Unknown_id_is_not_resolved()
    {
        using var provider = Build([]);
        var registry = provider.GetRequiredService<IEmbeddingModelRegistry>();

        Assert.False(registry.TryResolve("openai:nope", out _));
        Assert.False(registry.TryResolve("", out _));
        var ex = Assert.Throws<KeyNotFoundException>(() => registry.Get("openai:nope"));
        Assert.Contains(LocalModels.ArcticXsId, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ids_are_case_insensitive()
    {
        using var provider = Build([]);
        var registry = provider.GetRequiredService<IEmbeddingModelRegistry>();

        Assert.True(registry.TryResolve("LOCAL:All-MiniLM-L6-v2", out var model));
        Assert.Equal(LocalModels.MiniLmL6V2Id, model.Info.Id);
    }

    [Fact]
    public void Remote_models_come_from_configuration()
    {
        using var provider = Build(new()
        {
            ["Quiver:Embeddings:Remote:0:Id"] = "openai:text-embedding-3-small",
            ["Quiver:Embeddings:Remote:0:ApiKey"] = "sk-test",
            ["Quiver:Embeddings:Remote:1:Id"] = "openai:nomic",
            ["Quiver:Embeddings:Remote:1:BaseUrl"] = "http://localhost:11434/v1",
            ["Quiver:Embeddings:Remote:1:Model"] = "nomic-embed-text",
            ["Quiver:Embeddings:Remote:1:Dimensions"] = "768",
            ["Quiver:Embeddings:Default"] = "openai:nomic",
        });
        var registry = provider.GetRequiredService<IEmbeddingModelRegistry>();

        var small = registry.Get("openai:text-embedding-3-small").Info;
        Assert.Equal(("openai", "text-embedding-3-small", 1536, 800, 400), (small.Provider, small.Model, small.Dimensions, small.AutoChunkTokens, small.AutoOverlapTokens));
        Assert.Equal(("nomic-embed-text", 768), (registry.Default.Model, registry.Default.Dimensions));
        Assert.IsType<OpenAIEmbeddingGenerator>(registry.Get("auto").Generator);
    }

    [Fact]
    public void Unknown_default_fails_validation_naming_the_config_path()
    {
        using var provider = Build(new() { ["Quiver:Embeddings:Default"] = "local:nope" });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EmbeddingOptions>>().Value);

        Assert.Contains("Quiver:Embeddings:Default", ex.Message, StringComparison.Ordinal);
        Assert.Contains(LocalModels.ArcticXsId, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_remote_entry_fails_validation_naming_the_config_path()
    {
        using var provider = Build(new()
        {
            ["Quiver:Embeddings:Remote:0:Id"] = "openai:custom-model",
            ["Quiver:Embeddings:Remote:0:BaseUrl"] = "not a url",
            ["Quiver:Embeddings:Remote:1:Id"] = "custom",
            ["Quiver:Embeddings:Remote:1:Dimensions"] = "8",
        });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EmbeddingOptions>>().Value);

        Assert.Contains("Quiver:Embeddings:Remote:0:Dimensions", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Quiver:Embeddings:Remote:0:BaseUrl", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Quiver:Embeddings:Remote:1:Id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Document_embeddings_are_normalised_and_dimension_checked()
    {
        var wrong = new EmbeddingModel(FakeInfo with { Dimensions = 4 }, new FakeEmbeddingGenerator(8));

        var ex = await Assert.ThrowsAsync<EmbeddingException>(() => wrong.EmbedDocumentsAsync(["x"], TestContext.Current.CancellationToken));

        Assert.False(ex.IsTransient);
        Assert.Empty(await wrong.EmbedDocumentsAsync([], TestContext.Current.CancellationToken));
        IEmbeddingGenerator<string, Embedding<float>> generator = wrong.Generator;
        Assert.NotNull(generator);
    }
}

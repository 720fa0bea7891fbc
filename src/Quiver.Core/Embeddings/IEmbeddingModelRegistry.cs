namespace Quiver.Core.Embeddings;

/// <summary>The embedding models this process can use, by id, and which one <c>auto</c> means.</summary>
internal interface IEmbeddingModelRegistry
{
    /// <summary>The model <c>auto</c> resolves to (<c>Quiver:Embeddings:Default</c>).</summary>
    EmbeddingModelInfo Default { get; }

    /// <summary>All registered models, default first, then in registration order.</summary>
    IReadOnlyList<EmbeddingModelInfo> Models { get; }

    /// <summary>Finds a model by id (case-insensitive) or <c>auto</c>; false if there is none.</summary>
    bool TryResolve(string idOrAuto, out EmbeddingModel model);

    /// <summary>Finds a model by id or <c>auto</c>.</summary>
    /// <exception cref="KeyNotFoundException">No model has that id; the message lists the known ids.</exception>
    EmbeddingModel Get(string id);
}

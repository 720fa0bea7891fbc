using Microsoft.Extensions.Options;

namespace Quiver.Core.Embeddings;

/// <summary>
/// Built from every <see cref="EmbeddingModel"/> registered in DI (the local models, plus whatever a
/// host or test adds) and one remote model per <c>Quiver:Embeddings:Remote</c> entry. A later DI
/// registration with the same id replaces an earlier one, and DI registrations win over remote
/// entries, so tests and hosts can override any model.
/// </summary>
internal sealed class EmbeddingModelRegistry : IEmbeddingModelRegistry
{
    private readonly Dictionary<string, EmbeddingModel> _byId = new(StringComparer.OrdinalIgnoreCase);
    private readonly EmbeddingModel _default;

    public EmbeddingModelRegistry(IEnumerable<EmbeddingModel> models, IOptions<EmbeddingOptions> options, RemoteEmbeddingModelFactory remoteFactory)
    {
        var order = new List<string>();
        foreach (var model in models)
        {
            if (!_byId.ContainsKey(model.Info.Id))
            {
                order.Add(model.Info.Id);
            }

            _byId[model.Info.Id] = model;
        }

        foreach (var remote in options.Value.Remote)
        {
            if (!_byId.ContainsKey(remote.Id))
            {
                order.Add(remote.Id);
                _byId[remote.Id] = remoteFactory.Create(remote);
            }
        }

        var defaultId = options.Value.Default;
        if (!_byId.TryGetValue(defaultId, out var defaultModel))
        {
            throw new OptionsValidationException(
                EmbeddingOptions.Section,
                typeof(EmbeddingOptions),
                [EmbeddingOptionsValidator.UnknownDefaultMessage(defaultId, order)]);
        }

        _default = defaultModel;
        Default = defaultModel.Info;
        Models = [Default, .. order.Where(id => !string.Equals(id, Default.Id, StringComparison.OrdinalIgnoreCase)).Select(id => _byId[id].Info)];
    }

    /// <inheritdoc/>
    public EmbeddingModelInfo Default { get; }

    /// <inheritdoc/>
    public IReadOnlyList<EmbeddingModelInfo> Models { get; }

    /// <inheritdoc/>
    public bool TryResolve(string idOrAuto, out EmbeddingModel model)
    {
        if (string.Equals(idOrAuto, EmbeddingDefaults.AutoId, StringComparison.OrdinalIgnoreCase))
        {
            model = _default;
            return true;
        }

        return _byId.TryGetValue(idOrAuto ?? "", out model!);
    }

    /// <inheritdoc/>
    public EmbeddingModel Get(string id)
        => TryResolve(id, out var model)
            ? model
            : throw new KeyNotFoundException(
                $"Unknown embedding model '{id}'. Use 'auto' or one of: {string.Join(", ", Models.Select(m => m.Id))}.");
}

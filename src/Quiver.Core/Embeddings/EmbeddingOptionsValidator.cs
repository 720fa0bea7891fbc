using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Quiver.Core.Embeddings;

/// <summary>
/// Validates <c>Quiver:Embeddings</c> at startup. The default model is checked against the remote
/// entries and the <see cref="EmbeddingModel"/>s registered in DI (so a test's fake model can be the
/// default); the DI models are resolved only after the fields pass, and none of them reads these
/// options while being built, so there is no cycle.
/// </summary>
internal sealed class EmbeddingOptionsValidator(IServiceProvider services) : IValidateOptions<EmbeddingOptions>
{
    private const string Path = EmbeddingOptions.Section;

    public ValidateOptionsResult Validate(string? name, EmbeddingOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Default))
        {
            errors.Add($"{Path}:Default is required: a model id such as '{EmbeddingDefaults.DefaultModelId}'.");
        }

        if (options.IntraOpThreads < 0)
        {
            errors.Add($"{Path}:IntraOpThreads must be 0 (processor count) or positive; got {options.IntraOpThreads}.");
        }

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Remote.Count; i++)
        {
            ValidateRemote($"{Path}:Remote:{i}", options.Remote[i], ids, errors);
        }

        if (errors.Count == 0)
        {
            var models = services.GetServices<EmbeddingModel>().Select(m => m.Info.Id).Concat(options.Remote.Select(r => r.Id)).ToList();
            if (!models.Contains(options.Default, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(UnknownDefaultMessage(options.Default, models));
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static string UnknownDefaultMessage(string defaultId, IEnumerable<string> known)
        => $"{Path}:Default is '{defaultId}', which is not a registered embedding model; use one of: {string.Join(", ", known)}.";

    private static void ValidateRemote(string path, RemoteEmbeddingOptions remote, HashSet<string> ids, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(remote.Id) || !remote.Id.StartsWith(EmbeddingDefaults.OpenAIIdPrefix, StringComparison.OrdinalIgnoreCase)
            || remote.Id.Length == EmbeddingDefaults.OpenAIIdPrefix.Length)
        {
            errors.Add($"{path}:Id must look like 'openai:<model>'; got '{remote.Id}'.");
        }
        else if (!ids.Add(remote.Id))
        {
            errors.Add($"{path}:Id '{remote.Id}' is configured more than once.");
        }

        if (!Uri.TryCreate(remote.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{path}:BaseUrl must be an absolute http(s) URL such as '{EmbeddingDefaults.OpenAIBaseUrl}'; got '{remote.BaseUrl}'.");
        }

        if (remote.ResolvedDimensions is not > 0)
        {
            errors.Add($"{path}:Dimensions is required for model '{remote.ResolvedModel}' and must be positive.");
        }

        Positive(path, "MaxBatchSize", remote.MaxBatchSize, errors);
        Positive(path, "MaxBatchTokens", remote.MaxBatchTokens, errors);
        Positive(path, "MaxInputTokens", remote.MaxInputTokens, errors);
        Positive(path, "MaxAttempts", remote.MaxAttempts, errors);
        Positive(path, "TimeoutSeconds", remote.TimeoutSeconds, errors);
        if (remote.MaxInputTokens > remote.MaxBatchTokens)
        {
            errors.Add($"{path}:MaxInputTokens ({remote.MaxInputTokens}) cannot exceed MaxBatchTokens ({remote.MaxBatchTokens}).");
        }
    }

    private static void Positive(string path, string key, int value, List<string> errors)
    {
        if (value <= 0)
        {
            errors.Add($"{path}:{key} must be positive; got {value}.");
        }
    }
}

using Microsoft.Extensions.AI;

namespace Quiver.Core.Embeddings;

/// <summary>The <see cref="IEmbeddingGenerator.GetService"/> contract shared by Quiver's generators.</summary>
internal static class GeneratorServices
{
    /// <summary>Unkeyed requests only: the generator's metadata, or the generator itself when it is of the requested type.</summary>
    public static object? Get(IEmbeddingGenerator generator, EmbeddingGeneratorMetadata metadata, Type serviceType, object? serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return metadata;
        }

        return serviceType.IsInstanceOfType(generator) ? generator : null;
    }
}

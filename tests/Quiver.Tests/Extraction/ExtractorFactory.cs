using Microsoft.Extensions.Logging.Abstractions;
using Quiver.Core.Extraction;

namespace Quiver.Tests.Extraction;

internal static class ExtractorFactory
{
    public static DocumentExtractor Create(ExtractionOptions? options = null) =>
        new(Microsoft.Extensions.Options.Options.Create(options ?? new ExtractionOptions()), NullLogger<DocumentExtractor>.Instance);
}

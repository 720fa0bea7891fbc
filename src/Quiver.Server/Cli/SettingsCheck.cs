using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Options;
using Quiver.Core;
using Quiver.Core.Embeddings;
using Quiver.Core.Extraction;
using Quiver.Core.Ingestion;
using Quiver.Core.Keys;
using Quiver.Core.Search;
using Quiver.Server.Hosting;

namespace Quiver.Server.Cli;

/// <summary>
/// Refuses a setting under <c>Quiver:</c> that nothing reads. Configuration ignores unknown keys, so a mistyped
/// <c>--Quiver:Ingestion:Workrs=4</c> or <c>Quiver__Search__HnswMinChunk=…</c> would otherwise start a server that
/// silently runs on the default. Known keys are the properties of the options classes bound to their sections,
/// and the few keys read directly from configuration (<see cref="ReadDirectly"/>); both must grow with a new setting.
/// </summary>
internal static class SettingsCheck
{
    private static readonly (string Section, Type Options)[] BoundSections =
    [
        (IngestionOptions.Section, typeof(IngestionOptions)),
        (ExtractionOptions.Section, typeof(ExtractionOptions)),
        (SearchOptions.Section, typeof(SearchOptions)),
        (EmbeddingOptions.Section, typeof(EmbeddingOptions)),
        (AuthOptions.Section, typeof(AuthOptions)),
        (HttpLimitsOptions.Section, typeof(HttpLimitsOptions)),
        (QuiverOptions.Section, typeof(QuiverOptions)),
    ];

    /// <summary>Settings read with <c>configuration["…"]</c> rather than through an options class.</summary>
    private static readonly string[] ReadDirectly =
    [
        "Quiver:Storage:Provider", "Quiver:Storage:Blobs", "Quiver:Storage:BlobPath",
        "Quiver:Telemetry:Metrics", "Quiver:Telemetry:OtlpEndpoint",
    ];

    /// <summary>Throws <see cref="OptionsValidationException"/> (one plain start-up line) naming the first unknown setting.</summary>
    public static void ThrowIfUnknown(IConfiguration configuration)
    {
        foreach (var (key, value) in configuration.GetSection(QuiverOptions.Section).AsEnumerable())
        {
            // Sections have no value; an empty one (the test host's "--Quiver=") sets nothing.
            if (string.IsNullOrEmpty(value) || IsKnown(key))
            {
                continue;
            }

            var closest = KnownLeafKeys().MinBy(known => Distance(known, key));
            var hint = closest is not null && Distance(closest, key) <= 3 ? $" Did you mean {closest}?" : "";
            throw new OptionsValidationException(key, typeof(QuiverOptions),
                [$"unknown setting {key}: nothing reads it, so it would be ignored.{hint} Settings are listed in docs/deployment.md."]);
        }
    }

    internal static bool IsKnown(string key)
    {
        if (ReadDirectly.Contains(key, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        // The most specific bound section first: Quiver:Search:X belongs to SearchOptions, not QuiverOptions.
        foreach (var (section, type) in BoundSections)
        {
            if (key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase))
            {
                return Resolves(type, key[(section.Length + 1)..].Split(':'));
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="key"/> is a section holding known settings (Quiver:Http), not a setting itself.</summary>
    internal static bool IsSection(string key) =>
        KnownLeafKeys().Any(known => known.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether the path names a settable property of <paramref name="type"/>, through list indexes and nested classes.</summary>
    private static bool Resolves(Type type, ReadOnlySpan<string> path)
    {
        if (path.IsEmpty)
        {
            return true;
        }

        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null || !property.CanWrite && !IsCollection(property.PropertyType))
        {
            return false;
        }

        var rest = path[1..];
        var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (IsCollection(propertyType))
        {
            // A list is bound from index keys: Remote:0:BaseUrl.
            if (rest.IsEmpty || !int.TryParse(rest[0], out _))
            {
                return rest.IsEmpty;
            }

            var element = propertyType.IsArray ? propertyType.GetElementType()! : propertyType.GetGenericArguments()[0];
            return IsScalar(element) ? rest.Length == 1 : Resolves(element, rest[1..]);
        }

        return IsScalar(propertyType) ? rest.IsEmpty : Resolves(propertyType, rest);
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri);

    private static IEnumerable<string> KnownLeafKeys() =>
        ReadDirectly.Concat(BoundSections.SelectMany(b => LeafKeys(b.Options).Select(leaf => $"{b.Section}:{leaf}")));

    private static IEnumerable<string> LeafKeys(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .SelectMany(p =>
            {
                var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
                return IsScalar(t) || IsCollection(t) ? [p.Name] : LeafKeys(t).Select(leaf => $"{p.Name}:{leaf}");
            });

    /// <summary>Edit distance, case-insensitive, for the "did you mean" hint.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var same = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]);
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (same ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

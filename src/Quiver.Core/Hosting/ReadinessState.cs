using System.Collections.Concurrent;

namespace Quiver.Core.Hosting;

/// <summary>
/// What <c>/readyz</c> reports: every component that must be running (storage migrated, workers
/// started) registers itself as required and marks itself ready once it is.
/// </summary>
public sealed class ReadinessState
{
    private readonly ConcurrentDictionary<string, bool> _components = new(StringComparer.Ordinal);

    /// <summary>Declares a component that must be ready before the service is.</summary>
    public void Require(string component) => _components.TryAdd(component, false);

    /// <summary>Marks a component ready (or not, e.g. while stopping).</summary>
    public void Set(string component, bool ready) => _components[component] = ready;

    /// <summary>Components not ready yet; empty when the service is ready.</summary>
    public IReadOnlyList<string> NotReady() =>
        [.. _components.Where(c => !c.Value).Select(c => c.Key).Order(StringComparer.Ordinal)];
}

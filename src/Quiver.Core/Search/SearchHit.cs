namespace Quiver.Core.Search;

/// <summary>A chunk (by its store-internal key) and a score; higher is better.</summary>
public readonly record struct SearchHit(long Key, float Score);

namespace Quiver.Core.Search;

/// <summary>One ranked result list (best first) and its weight w_l in reciprocal rank fusion.</summary>
internal readonly record struct RankedList(IReadOnlyList<SearchHit> Hits, double Weight = 1.0);

namespace Quiver.Core.Paging;

/// <summary>Sort direction of a list by <c>created_at</c> (ties by id).</summary>
public enum SortOrder
{
    Desc,
    Asc,
}

/// <summary>A validated keyset page request (D13): cursors are object ids, never offsets.</summary>
public sealed record ListRequest(int Limit, SortOrder Order, string? After, string? Before);

/// <summary>One page of a list and whether more items lie beyond it in the requested direction.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, bool HasMore);

namespace Quiver.Core.Search;

/// <summary>The comparison operators of a filter leaf; the wire names are the lower-case member names.</summary>
internal enum FilterOperator
{
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Nin,
}

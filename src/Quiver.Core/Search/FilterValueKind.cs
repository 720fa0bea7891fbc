namespace Quiver.Core.Search;

/// <summary>The JSON kinds an attribute or filter value may have; values of different kinds never compare.</summary>
internal enum FilterValueKind
{
    String,
    Number,
    Boolean,
}

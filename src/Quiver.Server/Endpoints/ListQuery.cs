using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Quiver.Core;
using Quiver.Core.Errors;
using Quiver.Core.Paging;

namespace Quiver.Server.Endpoints;

/// <summary>
/// The query shape shared by every list route (D13). Bound as strings so that a bad value gets
/// our own 400 naming the parameter, then validated in one place.
/// </summary>
public sealed record ListQuery(
    [property: FromQuery(Name = "limit")] string? Limit,
    [property: FromQuery(Name = "order")] string? Order,
    [property: FromQuery(Name = "after")] string? After,
    [property: FromQuery(Name = "before")] string? Before)
{
    /// <summary>Validates against the vector-store list limits (1..100, default 20).</summary>
    public ListRequest Validate() => Validate(Limits.MaxListLimit, Limits.DefaultListLimit);

    /// <summary>Validates with a route-specific limit range.</summary>
    public ListRequest Validate(int maxLimit, int defaultLimit)
    {
        var limit = defaultLimit;
        if (Limit is not null)
        {
            if (!int.TryParse(Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit)
            {
                throw ApiErrors.BadRequest(
                    $"Invalid 'limit': '{ApiErrors.Truncate(Limit)}'. Expected an integer from 1 to {maxLimit}.", "limit", "invalid_value");
            }
        }

        var order = Order switch
        {
            null or "desc" => SortOrder.Desc,
            "asc" => SortOrder.Asc,
            _ => throw ApiErrors.BadRequest(
                $"Invalid 'order': '{ApiErrors.Truncate(Order)}'. Expected 'asc' or 'desc'.", "order", "invalid_value"),
        };

        return new ListRequest(limit, order, Cursor(After, "after"), Cursor(Before, "before"));
    }

    /// <summary>
    /// A cursor is an object id: up to 128 ASCII letters, digits, '_' and '-'. Anything else cannot name an object,
    /// and is refused here rather than sent to the database (a NUL there is a 500 on PostgreSQL).
    /// </summary>
    private static string? Cursor(string? value, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (value.Length > 128 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw ApiErrors.BadRequest(
                $"Invalid '{name}': '{ApiErrors.Truncate(value)}'. Expected the id of an object from a previous page.", name, "invalid_value");
        }

        return value;
    }
}

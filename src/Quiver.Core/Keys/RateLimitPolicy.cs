using System.Globalization;
using Quiver.Core.Errors;

namespace Quiver.Core.Keys;

/// <summary>One fixed window of a key's rate limit: at most <see cref="Limit"/> requests per <see cref="Seconds"/>.</summary>
public readonly record struct RateLimitWindow(long Limit, int Seconds)
{
    /// <summary>The window's unit as written in a spec (<c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>).</summary>
    public string Unit => Seconds switch
    {
        1 => "s",
        60 => "m",
        3600 => "h",
        _ => "d",
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Limit}/{Unit}");

    /// <summary>In words: <c>10 requests per second</c>.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Limit} request{(Limit == 1 ? "" : "s")} per {Seconds switch { 1 => "second", 60 => "minute", 3600 => "hour", _ => "day" }}");
}

/// <summary>
/// A key's rate limit: any combination of per-second, per-minute, per-hour and per-day windows
/// (MKA1 §1.4), written <c>10/s,5000/h</c>. A request passes only when every window has room.
/// Windows are fixed and aligned to the Unix epoch (days start at 00:00 UTC).
/// </summary>
public sealed class RateLimitPolicy : IEquatable<RateLimitPolicy>
{
    /// <summary>Largest accepted limit per window.</summary>
    public const long MaxLimit = 1_000_000_000;

    /// <summary>Longest accepted spec string.</summary>
    public const int MaxSpecLength = 200;

    private RateLimitPolicy(IReadOnlyList<RateLimitWindow> windows) => Windows = windows;

    /// <summary>No limit.</summary>
    public static RateLimitPolicy None { get; } = new([]);

    /// <summary>The windows, shortest first.</summary>
    public IReadOnlyList<RateLimitWindow> Windows { get; }

    /// <summary>True when the policy limits nothing.</summary>
    public bool IsNone => Windows.Count == 0;

    /// <summary>
    /// Parses a spec: comma-separated <c>COUNT/UNIT</c> items, unit one of <c>s</c>/<c>sec</c>/<c>second</c>,
    /// <c>m</c>/<c>min</c>/<c>minute</c>, <c>h</c>/<c>hr</c>/<c>hour</c>, <c>d</c>/<c>day</c> (plurals accepted),
    /// each unit at most once. Null, empty or <c>none</c> is no limit.
    /// </summary>
    /// <exception cref="ApiException">InvalidRequest naming <paramref name="param"/> when the spec is malformed.</exception>
    public static RateLimitPolicy Parse(string? spec, string param = "rate_limit")
    {
        if (TryParse(spec, out var policy, out var error))
        {
            return policy;
        }

        throw ApiErrors.BadRequest(
            $"Invalid '{param}': {error} Write windows as COUNT/UNIT separated by commas, e.g. '10/s,5000/h' (units s, m, h, d).",
            param, "invalid_rate_limit");
    }

    /// <summary>Parses a spec (see <see cref="Parse"/>); on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? spec, out RateLimitPolicy policy, out string error)
    {
        policy = None;
        error = "";
        if (spec is null || string.IsNullOrWhiteSpace(spec) || spec.Trim().Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (spec.Length > MaxSpecLength)
        {
            error = $"the spec is {spec.Length} characters long; at most {MaxSpecLength} are accepted.";
            return false;
        }

        var windows = new List<RateLimitWindow>();
        foreach (var raw in spec.Split(','))
        {
            var item = raw.Trim();
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == item.Length - 1)
            {
                error = $"'{ApiErrors.Truncate(item, 40)}' is not of the form COUNT/UNIT.";
                return false;
            }

            var countText = item[..slash].Trim();
            if (!long.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > MaxLimit)
            {
                error = $"the count '{ApiErrors.Truncate(countText, 40)}' must be a whole number from 1 to {MaxLimit}.";
                return false;
            }

            if (UnitSeconds(item[(slash + 1)..].Trim()) is not { } seconds)
            {
                error = $"the unit '{ApiErrors.Truncate(item[(slash + 1)..].Trim(), 40)}' is not one of s, m, h, d.";
                return false;
            }

            if (windows.Any(w => w.Seconds == seconds))
            {
                error = $"the window '{new RateLimitWindow(limit, seconds).Unit}' is given twice.";
                return false;
            }

            windows.Add(new RateLimitWindow(limit, seconds));
        }

        policy = new RateLimitPolicy([.. windows.OrderBy(w => w.Seconds)]);
        return true;
    }

    /// <summary>Reads a spec written by <see cref="ToString"/> (from the database): never throws, malformed is no limit.</summary>
    public static RateLimitPolicy FromStored(string? spec) => TryParse(spec, out var policy, out _) ? policy : None;

    private static int? UnitSeconds(string unit) => unit.ToLowerInvariant() switch
    {
        "s" or "sec" or "secs" or "second" or "seconds" => 1,
        "m" or "min" or "mins" or "minute" or "minutes" => 60,
        "h" or "hr" or "hrs" or "hour" or "hours" => 3600,
        "d" or "day" or "days" => 86_400,
        _ => null,
    };

    /// <summary>The canonical spec, shortest window first (<c>10/s,5000/h</c>); empty for no limit.</summary>
    public override string ToString() => string.Join(',', Windows);

    public bool Equals(RateLimitPolicy? other) => other is not null && Windows.SequenceEqual(other.Windows);

    public override bool Equals(object? obj) => Equals(obj as RateLimitPolicy);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}

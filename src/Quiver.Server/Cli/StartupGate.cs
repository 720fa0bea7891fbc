namespace Quiver.Server.Cli;

/// <summary>
/// Keeps the host's and Kestrel's own error logs (with their stack traces) quiet while the server starts,
/// because a failed start is reported once, as one plain line, by <see cref="StartupFailure"/>. Once the
/// server listens, <see cref="Open"/> lets every log through as configured.
/// </summary>
internal sealed class StartupGate
{
    private static readonly string[] HostCategories =
        ["Microsoft.Extensions.Hosting", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    private volatile bool _starting = true;

    public void Open() => _starting = false;

    /// <summary>
    /// Adds the gate to every filter rule. The logging system applies the single most specific rule per
    /// category, so a rule of our own could be outranked by configuration; wrapping each rule cannot.
    /// </summary>
    public void Attach(ILoggingBuilder logging) =>
        logging.Services.PostConfigure<LoggerFilterOptions>(options =>
        {
            var rules = options.Rules.Select(rule => new LoggerFilterRule(rule.ProviderName, rule.CategoryName, rule.LogLevel, Gate(rule.Filter))).ToList();
            options.Rules.Clear();
            options.Rules.Add(new LoggerFilterRule(null, null, options.MinLevel, Gate(null)));
            foreach (var rule in rules)
            {
                options.Rules.Add(rule);
            }
        });

    private Func<string?, string?, LogLevel, bool> Gate(Func<string?, string?, LogLevel, bool>? inner) =>
        (provider, category, level) =>
            !(_starting && level >= LogLevel.Error && category is not null && HostCategories.Any(c => category.StartsWith(c, StringComparison.Ordinal)))
            && (inner is null || inner(provider, category, level));
}

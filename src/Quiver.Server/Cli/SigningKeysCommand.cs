using System.CommandLine;
using System.Globalization;
using Quiver.Core.Keys;

namespace Quiver.Server.Cli;

/// <summary>
/// <c>signing-keys list|rotate</c>: the key ring that signs exchanged access tokens. Rotation makes a new key
/// sign from now on; tokens signed by the old one stay valid until they expire (docs/authentication.md).
/// </summary>
internal static class SigningKeysCommand
{
    public static Command Create(IReadOnlyList<string> configuration)
    {
        var list = new Command("list", "List the signing keys that still verify tokens, the active one first.");
        list.SetAction((parsed, ct) => KeysCommand.RunWithStorageAsync<SigningKeyRing>(parsed, configuration, async ring =>
        {
            Console.WriteLine($"{"KID",-40} {"ALGORITHM",-10} {"CREATED (UTC)",-20} {"RETIRED (UTC)",-20} VERIFIES UNTIL (UTC)");
            foreach (var key in await ring.ListAsync(ct))
            {
                Console.WriteLine($"{key.Kid,-40} {key.Algorithm,-10} {Format(key.CreatedAt),-20} {(key.RetiredAt is { } r ? Format(r) : "- (active)"),-20} "
                    + (key.VerifiesUntil is { } until ? Format(until) : "-"));
            }

            return QuiverCli.ExitOk;
        }));

        var rotate = new Command("rotate", "Make a new signing key active; the previous one keeps verifying the tokens it signed until they expire.");
        rotate.SetAction((parsed, ct) => KeysCommand.RunWithStorageAsync<SigningKeyRing>(parsed, configuration, async ring =>
        {
            var key = await ring.RotateAsync(ct);
            Console.WriteLine($"Rotated: {key.Kid} signs new tokens from now on (every server picks it up within {SigningKeyRing.RefreshInterval.TotalSeconds:0} s).");
            return QuiverCli.ExitOk;
        }));

        return new Command("signing-keys", "List and rotate the keys that sign exchanged access tokens.") { list, rotate };
    }

    private static string Format(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}

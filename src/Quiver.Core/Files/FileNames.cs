using Quiver.Core.Errors;

namespace Quiver.Core.Files;

/// <summary>
/// Rules for client-supplied file names. Bytes are stored under the file id, so a name never
/// reaches the file system; the rules keep names safe to echo in headers and listings.
/// </summary>
public static class FileNames
{
    /// <summary>Returns the name or throws an invalid-request error with <c>param: "file"</c> saying what is wrong.</summary>
    public static string Validate(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw ApiErrors.BadRequest("The uploaded file has no filename. Send it as a multipart part with a filename.", "file", "invalid_filename");
        }

        if (name.Length > Limits.MaxFilenameLength)
        {
            throw ApiErrors.BadRequest($"The filename is {name.Length} characters long; the maximum is {Limits.MaxFilenameLength}.", "file", "invalid_filename");
        }

        foreach (var c in name)
        {
            if (char.IsControl(c) || c is '/' or '\\')
            {
                throw ApiErrors.BadRequest("The filename must not contain control characters or path separators ('/' or '\\'). Send the base name only.", "file", "invalid_filename");
            }

            if (c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F' or '\u061C')
            {
                // "invoice\u202Efdp.exe" shows as "invoiceexe.pdf": bidirectional controls only disguise a name.
                throw ApiErrors.BadRequest("The filename must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C).", "file", "invalid_filename");
            }
        }

        if (name is "." or "..")
        {
            throw ApiErrors.BadRequest("The filename must not be '.' or '..'.", "file", "invalid_filename");
        }

        return name;
    }
}

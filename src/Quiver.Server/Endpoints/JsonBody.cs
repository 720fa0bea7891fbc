using System.Text.Json;
using Microsoft.Extensions.Options;
using Quiver.Core.Errors;
using Quiver.Server.Hosting;

namespace Quiver.Server.Endpoints;

/// <summary>
/// Reads JSON request bodies and their fields with exact, parameter-named errors. A body is read as a
/// <see cref="JsonElement"/>, not bound to its contract record, and the record's static <c>Parse</c>
/// (in <c>Contracts/</c>) reads it field by field through these helpers and returns the validated form
/// the handler passes on. Binding could not tell "missing", "null" and "wrong type" apart, nor name the
/// offending field in an OpenAI-shaped error (<c>param</c>, <c>code</c> such as <c>missing_required_parameter</c>
/// or <c>invalid_type</c>), nor accept unions such as a string or an array of strings; the records
/// themselves describe the accepted shape in the OpenAPI document.
/// </summary>
internal static class JsonBody
{
    /// <summary>
    /// The body as a JSON object; an empty body is <c>{}</c> when <paramref name="allowEmpty"/>. At most
    /// <c>Quiver:Http:MaxJsonBodyBytes</c> (413 otherwise, before more than that is read).
    /// </summary>
    public static Task<JsonElement> ReadObjectAsync(HttpRequest request, bool allowEmpty, CancellationToken ct) =>
        ReadObjectAsync(request, allowEmpty, Limits(request).MaxJsonBodyBytes, ct);

    /// <summary>Like <see cref="ReadObjectAsync(HttpRequest, bool, CancellationToken)"/> for the routes that carry many items (file batches, embeddings): at most <c>Quiver:Http:MaxLargeJsonBodyBytes</c>.</summary>
    public static Task<JsonElement> ReadLargeObjectAsync(HttpRequest request, CancellationToken ct) =>
        ReadObjectAsync(request, allowEmpty: false, Limits(request).MaxLargeJsonBodyBytes, ct);

    private static HttpLimitsOptions Limits(HttpRequest request) =>
        request.HttpContext.RequestServices.GetRequiredService<IOptions<HttpLimitsOptions>>().Value;

    private static async Task<JsonElement> ReadObjectAsync(HttpRequest request, bool allowEmpty, long maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        // JSON bodies are small (bounded above); buffering tells "empty" apart from "invalid".
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0 || IsWhitespace(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
        {
            return allowEmpty ? Empty() : throw ApiErrors.BadRequest("The request body is empty. Send a JSON object.", code: "invalid_json");
        }

        // JsonDocument checks structure but not the bytes inside strings: invalid UTF-8 there would only fail when
        // a field is read (an InvalidOperationException, i.e. a 500). Found by fuzzing (fuzz/crashes/filter).
        if (!System.Text.Unicode.Utf8.IsValid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
        {
            throw ApiErrors.BadRequest("The request body is not valid UTF-8. Send a JSON object encoded as UTF-8.", code: "invalid_json");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            throw ApiErrors.BadRequest("We could not parse the JSON body of your request. Send a valid JSON object.", code: "invalid_json");
        }

        using (document)
        {
            try
            {
                RequireStorableStrings(document.RootElement);
            }
            catch (InvalidOperationException)
            {
                throw ApiErrors.BadRequest("The JSON body holds a string with an unpaired UTF-16 surrogate escape. Send valid Unicode text.", code: "invalid_json");
            }

            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.Clone()
                : throw ApiErrors.BadRequest("The request body must be a JSON object.", code: "invalid_json");
        }
    }

    /// <summary>
    /// Every property name and string value, once, before any handler reads one: an escaped lone surrogate
    /// (<c>"\ud800"</c>) is valid JSON but throws when read as a string (a 500), and U+0000 cannot be stored in
    /// PostgreSQL text (a 500 there, silently kept on SQLite). Found by the hostile-request test.
    /// </summary>
    private static void RequireStorableStrings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    RequireStorable(property.Name);
                    RequireStorableStrings(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    RequireStorableStrings(item);
                }

                break;
            case JsonValueKind.String:
                RequireStorable(element.GetString()); // throws InvalidOperationException on a lone surrogate
                break;
        }
    }

    private static void RequireStorable(string? text)
    {
        if (text is not null && text.Contains('\0', StringComparison.Ordinal))
        {
            throw ApiErrors.BadRequest("The JSON body holds a NUL character (\\u0000), which no field accepts.", code: "invalid_json");
        }
    }

    private static ApiException TooLarge(long maxBytes) =>
        ApiErrors.PayloadTooLarge($"The JSON body is larger than this route's maximum of {maxBytes} bytes.");

    private static bool IsWhitespace(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept(" \t\r\n"u8) < 0;

    private static JsonElement Empty()
    {
        using var empty = JsonDocument.Parse("{}");
        return empty.RootElement.Clone();
    }

    /// <summary>The property if present (even when null).</summary>
    public static JsonElement? Get(this JsonElement body, string name) => body.TryGetProperty(name, out var value) ? value : null;

    /// <summary>An optional string (null and absent both give null), at most <paramref name="maxLength"/> characters.</summary>
    public static string? OptionalString(this JsonElement body, string name, int maxLength)
    {
        if (body.Get(name) is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw InvalidType(name, "a string", value);
        }

        var text = value.GetString()!;
        return text.Length <= maxLength
            ? text
            : throw ApiErrors.BadRequest($"Invalid '{name}': string too long. Expected at most {maxLength} characters, got {text.Length}.", name, "string_above_max_length");
    }

    /// <summary>A required non-empty string.</summary>
    public static string RequiredString(this JsonElement body, string name, int maxLength) =>
        body.OptionalString(name, maxLength) is { Length: > 0 } value
            ? value
            : throw ApiErrors.BadRequest($"Missing required parameter: '{name}'.", name, "missing_required_parameter");

    /// <summary>An optional boolean.</summary>
    public static bool? OptionalBool(this JsonElement body, string name) =>
        body.Get(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Null } => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            { } other => throw InvalidType(name, "a boolean", other),
        };

    /// <summary>An optional array of strings (null when absent or null).</summary>
    public static IReadOnlyList<string>? OptionalStringArray(this JsonElement body, string name)
    {
        if (body.Get(name) is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType(name, "an array of strings", value);
        }

        var items = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            items.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw InvalidType($"{name}[{items.Count}]", "a string", item));
        }

        return items;
    }

    /// <summary>An optional <c>expires_after</c>: <c>(present, days or null)</c>.</summary>
    public static (bool Present, int? Days) ExpiresAfter(this JsonElement body, int minDays, int maxDays)
    {
        const string name = "expires_after";
        if (body.Get(name) is not { } value)
        {
            return (false, null);
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            return (true, null);
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw InvalidType(name, "an object", value);
        }

        if (value.Get("anchor") is not { ValueKind: JsonValueKind.String } anchor || anchor.GetString() != "last_active_at")
        {
            throw ApiErrors.BadRequest("Invalid 'expires_after.anchor': expected 'last_active_at'.", name, "invalid_value");
        }

        if (value.Get("days") is not { ValueKind: JsonValueKind.Number } days || !days.TryGetInt32(out var n) || n < minDays || n > maxDays)
        {
            throw ApiErrors.BadRequest($"Invalid 'expires_after.days': expected an integer from {minDays} to {maxDays}.", name, "invalid_value");
        }

        return (true, n);
    }

    public static ApiException InvalidType(string name, string expected, JsonElement actual) =>
        ApiErrors.BadRequest($"Invalid type for '{name}': expected {expected}, but got {Describe(actual.ValueKind)}.", name.Split('[', '.')[0], "invalid_type");

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => "an unknown value",
    };
}

using System.Text;
using System.Text.Json;

namespace Quiver.Core.Extraction;

/// <summary>
/// Renders JSON and JSON Lines as one <c>path: value</c> line per scalar (<c>address.city: London</c>),
/// so both keys and values are searchable and every line keeps its context after chunking.
/// Each top-level record (root array element or JSON Lines line) becomes its own paragraph.
/// The document is read with a streaming reader, never loaded as a DOM.
/// </summary>
internal static class JsonTextExtractor
{
    private const int InitialBufferBytes = 64 * 1024;

    /// <summary>Returns false when the content is not valid JSON; <paramref name="sink"/> is then left empty.</summary>
    public static bool TryExtract(Stream stream, BoundedTextBuilder sink, CancellationToken ct)
    {
        stream.Position = 0;
        try
        {
            Render(stream, sink, ct);
            return true;
        }
        catch (JsonException)
        {
            sink.Clear();
            return false;
        }
    }

    private static void Render(Stream stream, BoundedTextBuilder sink, CancellationToken ct)
    {
        var options = new JsonReaderOptions
        {
            AllowMultipleValues = true, // JSON Lines
            AllowTrailingCommas = true,
            CommentHandling = JsonCommentHandling.Skip,
            MaxDepth = 256,
        };
        var state = new JsonReaderState(options);
        var renderer = new Renderer(sink);
        var buffer = new byte[InitialBufferBytes];
        var length = 0;
        var final = false;
        var first = true;

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (!final)
            {
                var read = stream.Read(buffer, length, buffer.Length - length);
                final = read == 0;
                length += read;
            }

            var offset = 0;
            if (first && length >= 3 && buffer.AsSpan(0, 3).SequenceEqual((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                offset = 3; // Utf8JsonReader rejects a BOM.
            }

            first = false;
            var reader = new Utf8JsonReader(buffer.AsSpan(offset, length - offset), final, state);
            while (reader.Read())
            {
                renderer.Handle(ref reader);
            }

            if (final)
            {
                return;
            }

            var consumed = offset + (int)reader.BytesConsumed;
            state = reader.CurrentState;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
            length -= consumed;

            if (length == buffer.Length)
            {
                // One token larger than the buffer: grow, but not past what the text limit allows.
                if ((long)buffer.Length * 2 > (long)sink.MaxCharacters * 4)
                {
                    throw BoundedTextBuilder.TooLarge(sink.MaxCharacters);
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }

    private sealed class Renderer(BoundedTextBuilder sink)
    {
        private readonly List<string> _path = [];
        private readonly Stack<(bool IsArray, bool Named)> _containers = new();
        private string? _pendingName;

        public void Handle(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    var named = _pendingName is not null;
                    if (named)
                    {
                        _path.Add(_pendingName!);
                        _pendingName = null;
                    }

                    _containers.Push((reader.TokenType == JsonTokenType.StartArray, named));
                    break;

                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    var (_, wasNamed) = _containers.Pop();
                    if (wasNamed)
                    {
                        _path.RemoveAt(_path.Count - 1);
                    }

                    if (_containers.Count == 0 || (_containers.Count == 1 && _containers.Peek().IsArray))
                    {
                        sink.AppendParagraphBreak();
                    }

                    break;

                case JsonTokenType.PropertyName:
                    _pendingName = reader.GetString();
                    break;

                case JsonTokenType.String:
                    EmitValue(reader.GetString());
                    break;

                case JsonTokenType.Number:
                    // The raw token keeps the number exactly as written (no float round-trip).
                    EmitValue(Encoding.UTF8.GetString(reader.ValueSpan));
                    break;

                case JsonTokenType.True:
                    EmitValue("true");
                    break;

                case JsonTokenType.False:
                    EmitValue("false");
                    break;

                case JsonTokenType.Null:
                    // Nulls carry no searchable information.
                    _pendingName = null;
                    break;

                default:
                    break;
            }
        }

        private void EmitValue(string? value)
        {
            var name = _pendingName;
            _pendingName = null;
            if (string.IsNullOrWhiteSpace(value))
            {
                return;
            }

            var wrotePrefix = false;
            foreach (var segment in _path)
            {
                sink.Append(wrotePrefix ? "." : null).Append(segment);
                wrotePrefix = true;
            }

            if (name is not null)
            {
                sink.Append(wrotePrefix ? "." : null).Append(name);
                wrotePrefix = true;
            }

            if (wrotePrefix)
            {
                sink.Append(": ");
            }

            sink.Append(value).AppendLine();
            if (_containers.Count == 0)
            {
                // A bare scalar at the top level (or one JSON Lines line) is a record of its own.
                sink.AppendLine();
            }
        }
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quiver.Client;

/// <summary>The kind of an <see cref="AttributeValue"/>.</summary>
public enum AttributeKind
{
    /// <summary>A JSON string.</summary>
    String,

    /// <summary>A JSON number.</summary>
    Number,

    /// <summary>A JSON boolean.</summary>
    Boolean,
}

/// <summary>
/// A metadata or attribute value: a string, a number or a boolean (MKA1 reference §1.7).
/// Converts implicitly from <see cref="string"/>, <see cref="double"/>, <see cref="long"/>, <see cref="int"/> and <see cref="bool"/>.
/// </summary>
[JsonConverter(typeof(AttributeValueConverter))]
public readonly struct AttributeValue : IEquatable<AttributeValue>
{
    private readonly string? _string;
    private readonly double _number;
    private readonly bool _boolean;

    private AttributeValue(AttributeKind kind, string? s, double n, bool b)
    {
        Kind = kind;
        _string = s;
        _number = n;
        _boolean = b;
    }

    /// <summary>Which of the three kinds this value is.</summary>
    public AttributeKind Kind { get; }

    /// <summary>A string value.</summary>
    public static AttributeValue FromString(string value) => new(AttributeKind.String, value ?? throw new ArgumentNullException(nameof(value)), 0, false);

    /// <summary>A number value.</summary>
    public static AttributeValue FromNumber(double value) => new(AttributeKind.Number, null, value, false);

    /// <summary>A boolean value.</summary>
    public static AttributeValue FromBoolean(bool value) => new(AttributeKind.Boolean, null, 0, value);

    /// <summary>The string; throws if this is not a string.</summary>
    public string AsString() => Kind == AttributeKind.String ? _string! : throw new InvalidOperationException($"The value is a {Kind}, not a String.");

    /// <summary>The number; throws if this is not a number.</summary>
    public double AsNumber() => Kind == AttributeKind.Number ? _number : throw new InvalidOperationException($"The value is a {Kind}, not a Number.");

    /// <summary>The boolean; throws if this is not a boolean.</summary>
    public bool AsBoolean() => Kind == AttributeKind.Boolean ? _boolean : throw new InvalidOperationException($"The value is a {Kind}, not a Boolean.");

    /// <summary>Implicit string value.</summary>
    public static implicit operator AttributeValue(string value) => FromString(value);

    /// <summary>Implicit number value.</summary>
    public static implicit operator AttributeValue(double value) => FromNumber(value);

    /// <summary>Implicit number value.</summary>
    public static implicit operator AttributeValue(long value) => FromNumber(value);

    /// <summary>Implicit number value.</summary>
    public static implicit operator AttributeValue(int value) => FromNumber(value);

    /// <summary>Implicit boolean value.</summary>
    public static implicit operator AttributeValue(bool value) => FromBoolean(value);

    /// <summary>Equality of kind and value.</summary>
    public static bool operator ==(AttributeValue left, AttributeValue right) => left.Equals(right);

    /// <summary>Inequality of kind or value.</summary>
    public static bool operator !=(AttributeValue left, AttributeValue right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(AttributeValue other) => Kind == other.Kind && Kind switch
    {
        AttributeKind.String => string.Equals(_string, other._string, StringComparison.Ordinal),
        AttributeKind.Number => _number.Equals(other._number),
        _ => _boolean == other._boolean,
    };

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is AttributeValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Kind switch
    {
        AttributeKind.String => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(_string ?? "")),
        AttributeKind.Number => HashCode.Combine(Kind, _number),
        _ => HashCode.Combine(Kind, _boolean),
    };

    /// <summary>The value as text: the string itself, an invariant-culture number, or <c>true</c>/<c>false</c>.</summary>
    public override string ToString() => Kind switch
    {
        AttributeKind.String => _string ?? "",
        AttributeKind.Number => _number.ToString("R", CultureInfo.InvariantCulture),
        _ => _boolean ? "true" : "false",
    };

    internal void WriteTo(Utf8JsonWriter writer)
    {
        switch (Kind)
        {
            case AttributeKind.String:
                writer.WriteStringValue(_string);
                break;
            case AttributeKind.Number:
                writer.WriteNumberValue(_number);
                break;
            default:
                writer.WriteBooleanValue(_boolean);
                break;
        }
    }

    internal static AttributeValue Read(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => FromString(reader.GetString()!),
        JsonTokenType.Number => FromNumber(reader.GetDouble()),
        JsonTokenType.True => FromBoolean(true),
        JsonTokenType.False => FromBoolean(false),
        _ => throw new JsonException($"An attribute value must be a string, number or boolean, not {reader.TokenType}."),
    };
}

/// <summary>JSON converter of <see cref="AttributeValue"/>.</summary>
public sealed class AttributeValueConverter : JsonConverter<AttributeValue>
{
    /// <inheritdoc />
    public override AttributeValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => AttributeValue.Read(ref reader);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, AttributeValue value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        value.WriteTo(writer);
    }
}

using System.Runtime.InteropServices;

namespace Quiver.Core.Storage;

/// <summary>Vectors stored as little-endian float32 BLOBs (every supported platform is little-endian).</summary>
internal static class VectorBlobs
{
    public static byte[] ToBytes(ReadOnlySpan<float> vector) => MemoryMarshal.AsBytes(vector).ToArray();

    public static float[] FromBytes(ReadOnlySpan<byte> bytes) => MemoryMarshal.Cast<byte, float>(bytes).ToArray();
}

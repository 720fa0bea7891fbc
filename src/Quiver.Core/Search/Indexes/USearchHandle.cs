using Microsoft.Win32.SafeHandles;

namespace Quiver.Core.Search.Indexes;

/// <summary>Owns a native <c>usearch_index_t</c>; <c>usearch_free</c> runs exactly once, even on finalisation.</summary>
internal sealed class USearchHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public USearchHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        var error = IntPtr.Zero;
        USearchNative.usearch_free(handle, ref error);
        return error == IntPtr.Zero;
    }
}

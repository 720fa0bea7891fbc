using System.Runtime.InteropServices;

namespace Quiver.Core.Search.Indexes;

/// <summary>
/// P/Invoke declarations for the USearch C API (<c>c/usearch.h</c>) in the native library shipped by the
/// <c>Cloud.Unum.USearch</c> package (<c>runtimes/*/native/libusearch_c</c>). The package's managed binding lacks
/// filtered search, reserve and a search-width setter, so the index talks to the C API directly. All signatures
/// are blittable (spans pass as <c>ref</c> to their first element, pinned for the call), so no unsafe code is needed.
/// Every function reports failure through <c>error</c>: a pointer to a static, null-terminated message. The library
/// only writes it on failure (several functions never write it), so it is <c>ref</c>, not <c>out</c>: callers must pass
/// a variable zeroed for that call, never one left over from an earlier call.
/// </summary>
/// <remarks>
/// Checked against <c>c/usearch.h</c> / <c>c/lib.cpp</c> of USearch 2.x and the shipped 2.26.6 binary: the
/// <c>usearch_init_options_t</c> field offsets are 0, 8, 16, 24, 32, 40, 48, 56 on x64, as mirrored below.
/// Thread contexts: <c>usearch_reserve(capacity)</c> builds <c>index_limits_t(capacity)</c>, whose thread counts are
/// <c>std::thread::hardware_concurrency()</c>, and it refills the context pool with that many — it silently undoes
/// <c>usearch_change_threads_*</c>. With more concurrent add/search calls than pooled contexts, the 2.26.6
/// <c>thread_lock_</c> hands out no context (it returns <c>any_thread()</c> unengaged, no error), so callers must keep
/// concurrency within the pool and re-apply the thread counts after every reserve.
/// </remarks>
internal static class USearchNative
{
    private const string Library = "libusearch_c";

    /// <summary><c>usearch_metric_cos_k</c>: distance = 1 − cos.</summary>
    public const int MetricCos = 1;

    /// <summary><c>usearch_scalar_f32_k</c>.</summary>
    public const int ScalarF32 = 1;

    /// <summary>
    /// <c>usearch_filtered_search</c> callback: non-zero keeps the key. Called on the searching thread, possibly for
    /// many candidates per search; it must not throw across the native frame.
    /// </summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate int FilterCallback(ulong key, IntPtr state);

    /// <summary>Mirror of <c>usearch_init_options_t</c> (natural C layout: enum, pointer, enum, 4 × size_t, bool).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InitOptions
    {
        public int MetricKind;
        public IntPtr Metric;
        public int Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi;
    }

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr usearch_init(ref InitOptions options, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_free(IntPtr index, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_save(IntPtr index, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_load(IntPtr index, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_view(IntPtr index, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_metadata([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref InitOptions options, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern nuint usearch_size(IntPtr index, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern nuint usearch_capacity(IntPtr index, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern nuint usearch_dimensions(IntPtr index, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern nuint usearch_expansion_search(IntPtr index, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_reserve(IntPtr index, nuint capacity, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_change_expansion_search(IntPtr index, nuint expansion, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_change_threads_search(IntPtr index, nuint threads, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_change_threads_add(IntPtr index, nuint threads, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void usearch_add(IntPtr index, ulong key, ref float vector, int vectorKind, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool usearch_contains(IntPtr index, ulong key, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern nuint usearch_remove(IntPtr index, ulong key, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern nuint usearch_search(IntPtr index, ref float query, int queryKind, nuint count, ref ulong keys, ref float distances, ref IntPtr error);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern nuint usearch_filtered_search(IntPtr index, ref float query, int queryKind, nuint count, IntPtr filter, IntPtr filterState, ref ulong keys, ref float distances, ref IntPtr error);

    /// <summary>Throws when a call reported an error; the message is the library's own text.</summary>
    public static void Check(IntPtr error, string operation)
    {
        if (error != IntPtr.Zero)
        {
            throw new InvalidOperationException($"USearch {operation} failed: {Marshal.PtrToStringUTF8(error)}");
        }
    }
}

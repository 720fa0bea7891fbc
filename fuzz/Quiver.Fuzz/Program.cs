using Quiver.Fuzz;

// quiver-fuzz TARGET                  run under afl-fuzz (input on stdin, out-of-process forkserver)
// quiver-fuzz replay TARGET PATH...   run the target once per file (seeds, crashes) and report failures
if (args is [var target] && FuzzTargets.All.TryGetValue(target, out var run))
{
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        run(buffer.ToArray());
    });
    return 0;
}

if (args is ["replay", var name, .. var paths] && FuzzTargets.All.TryGetValue(name, out var replay))
{
    var failures = 0;
    foreach (var file in paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p) : [p]))
    {
        try
        {
            replay(File.ReadAllBytes(file));
        }
        catch (Exception e)
        {
            failures++;
            Console.Error.WriteLine($"{file}: {e.GetType().Name}: {e.Message}");
        }
    }

    return failures == 0 ? 0 : 1;
}

Console.Error.WriteLine($"usage: quiver-fuzz TARGET | quiver-fuzz replay TARGET PATH...\ntargets: {string.Join(", ", FuzzTargets.All.Keys)}");
return 2;

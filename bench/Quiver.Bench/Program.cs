using Quiver.Bench;

switch (args.Length > 0 ? args[0] : "")
{
    case "ingest":
        return await IngestBenchmark.RunAsync(args[1..]);
    case "cancel":
        return await CancelBenchmark.RunAsync(args[1..]);
    case "cancel-notify":
        return await CancelNotifyBenchmark.RunAsync(args[1..]);
    case "retrieval":
        return await RetrievalBenchmark.RunAsync(args[1..]);
    case "vectors":
        return VectorIndexBenchmark.Run(args[1..]);
    case "embedder":
        return await EmbedderBenchmark.RunAsync(args[1..]);
    case "backends":
        return await BackendsBenchmark.RunAsync(args[1..]);
    case "load":
        return await LoadBenchmark.RunAsync(args[1..]);
    case "access":
        return await AccessBenchmark.RunAsync(args[1..]);
    default:
        Console.Error.WriteLine("Usage: Quiver.Bench <benchmark> [options]. Benchmarks: ingest, cancel, cancel-notify, retrieval, embedder, vectors, backends, load, access.");
        return 2;
}

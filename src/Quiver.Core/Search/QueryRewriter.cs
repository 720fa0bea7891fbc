namespace Quiver.Core.Search;

/// <summary>
/// Deterministic rewrite for <c>rewrite_query: true</c> (D10): fold the text (<see cref="QueryText.Fold"/>:
/// lower-case, compatibility forms), split into words (punctuation dropped), remove conversational filler
/// phrases ("can you", "what is", "how do i", …) and English stop words ("the", "please", …), and keep the
/// remaining words in order, joined by single spaces. Negations (no, not, without) and when/where/why are
/// kept because they change what is relevant. Never empty: if nothing survives it returns the folded words
/// of the input, and if the input has no words at all, the trimmed input.
/// </summary>
internal static class QueryRewriter
{
    // Multi-word fillers, matched on whole words before single stop words are removed.
    private static readonly string[][] FillerPhrases =
    [
        .. new[]
        {
            "can you", "could you", "would you", "will you", "can i", "could i",
            "tell me", "show me", "give me", "help me", "let me know", "i want to", "i would like to",
            "id like to", "i need to", "i need", "how do i", "how can i", "how do you", "how to",
            "what is", "what are", "whats", "is there", "are there", "do you know",
        }.Select(p => p.Split(' ')).OrderByDescending(p => p.Length),
    ];

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "please", "kindly", "thanks", "thank", "hi", "hello", "hey",
        "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did",
        "of", "to", "in", "on", "at", "for", "with", "by", "from", "about", "into", "as", "and", "or",
        "i", "me", "my", "we", "us", "our", "you", "your", "it", "its", "this", "that", "these", "those",
        "there", "here", "what", "which", "who", "whom", "whose", "how",
        "can", "could", "would", "should", "will", "shall", "may", "might", "must",
        "some", "any", "just", "also", "so", "then", "very", "really", "im", "ive", "id",
    };

    public static string Rewrite(string query)
    {
        var words = QueryText.Words(QueryText.Fold(query));
        var kept = new List<string>(words.Count);
        var i = 0;
        while (i < words.Count)
        {
            var phrase = MatchPhrase(words, i);
            if (phrase > 0)
            {
                i += phrase;
                continue;
            }

            if (!StopWords.Contains(words[i]))
            {
                kept.Add(words[i]);
            }

            i++;
        }

        if (kept.Count > 0)
        {
            return string.Join(' ', kept);
        }

        return words.Count > 0 ? string.Join(' ', words) : query.Trim();
    }

    private static int MatchPhrase(List<string> words, int at)
    {
        foreach (var phrase in FillerPhrases)
        {
            if (at + phrase.Length > words.Count)
            {
                continue;
            }

            var match = true;
            for (var j = 0; j < phrase.Length && match; j++)
            {
                match = string.Equals(words[at + j], phrase[j], StringComparison.Ordinal);
            }

            if (match)
            {
                return phrase.Length;
            }
        }

        return 0;
    }
}

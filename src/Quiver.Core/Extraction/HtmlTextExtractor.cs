using System.Collections.Frozen;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Quiver.Core.Extraction;

/// <summary>
/// Extracts the visible text of an HTML document with AngleSharp. Only the body is read: head,
/// script, style, noscript, template and other non-rendered content never reach the index.
/// Block elements and <c>&lt;br&gt;</c> become line breaks so paragraphs survive for chunking.
/// </summary>
internal static class HtmlTextExtractor
{
    /// <summary>Elements whose content is never rendered as text.</summary>
    private static readonly FrozenSet<string> Skipped = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
        "canvas", "audio", "video", "select", "datalist", "button", "input", "textarea", "map");

    /// <summary>Blocks that start a new paragraph.</summary>
    private static readonly FrozenSet<string> ParagraphBlocks = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "section",
        "article", "aside", "header", "footer", "main", "nav", "figure", "hr", "details", "fieldset", "form", "address");

    /// <summary>Blocks that start a new line.</summary>
    private static readonly FrozenSet<string> LineBlocks = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "div", "li", "tr", "dt", "dd", "caption", "figcaption", "summary", "legend", "tbody", "thead", "tfoot", "option");

    public static void Extract(Stream stream, BoundedTextBuilder sink, CancellationToken ct)
    {
        // The parser honours a BOM or <meta charset>, which a plain StreamReader would ignore.
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument(stream);
        ct.ThrowIfCancellationRequested();

        var root = (INode?)document.Body ?? document.DocumentElement;
        if (root is not null)
        {
            var walker = new Walker(sink, ct);
            walker.Visit(root);
        }
    }

    private sealed class Walker(BoundedTextBuilder sink, CancellationToken ct)
    {
        private int _preDepth;
        private int _visited;

        // Breaks are held back until the next text, so the end of one block and the start of the
        // next yield one break (the stronger of the two), not two.
        private Break _pending;
        private bool _wroteText;

        public void Visit(INode node)
        {
            if (++_visited % 1_024 == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            switch (node)
            {
                case IText text:
                    AppendText(text.Data);
                    return;
                case IElement element:
                    VisitElement(element);
                    return;
                default:
                    return;
            }
        }

        private void VisitElement(IElement element)
        {
            var name = element.LocalName;
            if (Skipped.Contains(name) || element.HasAttribute("hidden")
                || string.Equals(element.GetAttribute("aria-hidden"), "true", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            if (string.Equals(name, "br", StringComparison.OrdinalIgnoreCase))
            {
                // Consecutive <br>s are deliberate spacing, so they add up instead of merging.
                FlushPending();
                sink.AppendLine();
                return;
            }

            var paragraph = ParagraphBlocks.Contains(name);
            var line = !paragraph && LineBlocks.Contains(name);
            var cell = name is "td" or "th";
            var pre = string.Equals(name, "pre", StringComparison.OrdinalIgnoreCase);

            if (paragraph || line)
            {
                Request(paragraph ? Break.Paragraph : Break.Line);
            }
            else if (cell && element.PreviousElementSibling is not null)
            {
                // Cells of a row stay on one line, kept apart so neighbouring values don't merge.
                FlushPending();
                sink.Append(" | ");
            }

            if (pre)
            {
                _preDepth++;
            }

            if (string.Equals(name, "img", StringComparison.OrdinalIgnoreCase))
            {
                // Alt text is what a reader sees in place of the image.
                AppendText(element.GetAttribute("alt"));
            }

            for (var child = element.FirstChild; child is not null; child = child.NextSibling)
            {
                Visit(child);
            }

            if (pre)
            {
                _preDepth--;
            }

            if (paragraph || line)
            {
                Request(paragraph ? Break.Paragraph : Break.Line);
            }
        }

        private void Request(Break kind)
        {
            if (kind > _pending)
            {
                _pending = kind;
            }
        }

        private void FlushPending()
        {
            if (_wroteText)
            {
                if (_pending == Break.Paragraph)
                {
                    sink.AppendParagraphBreak();
                }
                else if (_pending == Break.Line)
                {
                    sink.AppendLine();
                }
            }

            _pending = Break.None;
            _wroteText = true;
        }

        private void AppendText(string? data)
        {
            if (string.IsNullOrEmpty(data))
            {
                return;
            }

            if (_preDepth == 0 && string.IsNullOrWhiteSpace(data))
            {
                // Whitespace between inline elements separates words; between blocks the pending
                // break already does.
                if (_pending == Break.None && _wroteText)
                {
                    sink.Append(' ');
                }

                return;
            }

            FlushPending();
            if (_preDepth > 0)
            {
                sink.Append(data);
                return;
            }

            // Outside <pre>, source line breaks and indentation are layout, not content.
            var span = data.AsSpan();
            var start = 0;
            for (var i = 0; i < span.Length; i++)
            {
                if (span[i] is '\n' or '\r' or '\t' or '\f')
                {
                    sink.Append(span[start..i]).Append(' ');
                    start = i + 1;
                }
            }

            sink.Append(span[start..]);
        }
    }

    private enum Break
    {
        None,
        Line,
        Paragraph,
    }
}

//! Slack `mrkdwn` text: escaping (so an alert title cannot mention `@channel` or forge a link),
//! links, mentions, and Markdown (the host's summaries, knowledge-base solutions) turned into
//! mrkdwn, which has its own syntax (`*bold*`, `_italic_`, `<url|label>`, no headings).

use nightowl_plugin_sdk_channel::Responder;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::PLUGIN_ID;

/// Text as mrkdwn shows it literally: Slack's three control characters escaped.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<url|label>`; the label is escaped, and the characters that would end the link early are
/// percent-encoded in the URL.
pub fn link(url: &str, label: &str) -> String {
    format!("<{}|{}>", safe_url(url), escape(label))
}

fn safe_url(url: &str) -> String {
    url.trim()
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('|', "%7C")
        .replace(' ', "%20")
}

/// A person as mrkdwn: a mention (`<@U123>`, which Slack shows as their name and notifies) when
/// NightOwl knows their Slack member id, else their name.
pub fn person(r: &Responder) -> String {
    match r.identity(PLUGIN_ID) {
        Some(id) => format!("<@{id}>"),
        None => escape(&r.name),
    }
}

/// At most `max` characters, with `…` when cut (Slack refuses texts over a block's limit).
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// CommonMark (with strikethrough) as mrkdwn: `**b**` → `*b*`, `_i_` → `_i_`, `~~s~~` → `~s~`,
/// `[t](u)` → `<u|t>`, headings → bold lines, list items → `•` lines, code as code; text escaped.
pub fn from_markdown(markdown: &str) -> String {
    let mut out = String::new();
    // Ordered lists' next numbers, one per open list (None for bullets).
    let mut lists: Vec<Option<u64>> = Vec::new();
    // Open links: where their label starts in `out`, and their URL.
    let mut links: Vec<(usize, String)> = Vec::new();
    let mut quote = 0usize;
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str(&"> ".repeat(quote)),
                Tag::Heading { .. } | Tag::Strong => out.push('*'),
                Tag::Emphasis => out.push('_'),
                Tag::Strikethrough => out.push('~'),
                Tag::BlockQuote(_) => quote += 1,
                Tag::CodeBlock(_) => out.push_str("```\n"),
                Tag::List(start) => {
                    if lists.is_empty() && out.ends_with("\n\n") {
                        // A list hugs the line that introduces it ("3 alerts:\n• ...").
                        out.pop();
                    } else if !lists.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    lists.push(start);
                }
                Tag::Item => {
                    out.push_str(&"    ".repeat(lists.len().saturating_sub(1)));
                    match lists.last_mut() {
                        Some(Some(n)) => {
                            out.push_str(&format!("{n}. "));
                            *n += 1;
                        }
                        _ => out.push_str("• "),
                    }
                }
                Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                    links.push((out.len(), dest_url.to_string()));
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => block_end(&mut out, lists.is_empty()),
                TagEnd::Heading(_) => {
                    out.push('*');
                    block_end(&mut out, true);
                }
                TagEnd::Strong => out.push('*'),
                TagEnd::Emphasis => out.push('_'),
                TagEnd::Strikethrough => out.push('~'),
                TagEnd::BlockQuote(_) => quote = quote.saturating_sub(1),
                TagEnd::CodeBlock => {
                    if !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str("```");
                    block_end(&mut out, true);
                }
                TagEnd::List(_) => {
                    lists.pop();
                    if lists.is_empty() {
                        block_end(&mut out, true);
                    }
                }
                TagEnd::Item if !out.ends_with('\n') => out.push('\n'),
                TagEnd::Link | TagEnd::Image => {
                    if let Some((at, url)) = links.pop() {
                        // The label is mrkdwn already (escaped, maybe bold): not `link`'s plain text.
                        let label = out.split_off(at);
                        let label = if label.is_empty() { escape(&url) } else { label };
                        out.push_str(&format!("<{}|{label}>", safe_url(&url)));
                    }
                }
                _ => {}
            },
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&escape(&t)),
            Event::Code(t) => {
                out.push('`');
                out.push_str(&escape(&t));
                out.push('`');
            }
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Rule => {
                out.push_str("――――――――");
                block_end(&mut out, true);
            }
            _ => {}
        }
    }
    out.trim_end().to_string()
}

/// Ends a block: a blank line after it at the top level, a line break inside a list item.
fn block_end(out: &mut String, top_level: bool) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if top_level {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_defuses_mentions_and_links() {
        assert_eq!(
            escape("<!channel> & <https://evil|click>"),
            "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"
        );
    }

    #[test]
    fn links_cannot_be_broken_out_of() {
        assert_eq!(
            link("https://x.test/a?b=1|2>", "a <b>"),
            "<https://x.test/a?b=1%7C2%3E|a &lt;b&gt;>"
        );
    }

    #[test]
    fn the_hosts_shift_summary_reads_as_mrkdwn() {
        let summary = "**Shift summary for Payments** (2025-01-13T09:00:00+00:00 to 2025-01-14T09:00:00+00:00)\n\n\
                       2 alert(s) raised during your shift:\n- [critical] Disk full (firing)\n- [major] CPU <high> (resolved)\n\n\
                       1 alert(s) still open, handed over to Bob.\n";
        assert_eq!(
            from_markdown(summary),
            "*Shift summary for Payments* (2025-01-13T09:00:00+00:00 to 2025-01-14T09:00:00+00:00)\n\n\
             2 alert(s) raised during your shift:\n• [critical] Disk full (firing)\n• [major] CPU &lt;high&gt; (resolved)\n\n\
             1 alert(s) still open, handed over to Bob."
        );
    }

    #[test]
    fn markdown_emphasis_links_headings_and_code_become_mrkdwn() {
        assert_eq!(
            from_markdown(
                "# Fix\nRun `df -h`, then *restart* the [runbook](https://rb.test/x) ~~now~~.\n\n1. one\n2. two"
            ),
            "*Fix*\n\nRun `df -h`, then _restart_ the <https://rb.test/x|runbook> ~now~.\n1. one\n2. two"
        );
    }

    #[test]
    fn quotes_and_nested_lists_keep_their_shape() {
        assert_eq!(
            from_markdown("> quoted\n\n- a\n  - b\n- c"),
            "> quoted\n• a\n    • b\n• c"
        );
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("äöü", 3), "äöü");
        assert_eq!(truncate("äöüß", 3), "äö…");
    }
}

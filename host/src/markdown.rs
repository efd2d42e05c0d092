//! Knowledge-base markdown rendered for the browser: pulldown-cmark parses it, then ammonia keeps
//! only formatting. Raw HTML in the text is shown as the text it is (a `<script>` becomes words on the
//! page), images become links (nothing loads on its own), headings start at `h3` (the page owns `h1`
//! and `h2`), and links keep only `http(s):`, `mailto:` and relative addresses.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// The elements and attributes rendered markdown may hold.
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "p",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "pre",
        "code",
        "em",
        "strong",
        "del",
        "blockquote",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "hr",
        "br",
        "a",
        "input",
    ]
    .into();
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(tags)
        .add_tag_attributes("a", ["href", "title"])
        .add_tag_attributes("ol", ["start"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .url_schemes(["http", "https", "mailto"].into())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        .filter_style_properties(["text-align"].into());
    builder
});

/// `text` as sanitized HTML.
pub fn to_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(text, options).map(|event| match event {
        // Raw HTML is text to show, never markup.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: shifted(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(shifted(level))),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        Event::InlineMath(t) | Event::DisplayMath(t) => Event::Text(t),
        Event::FootnoteReference(t) => Event::Text(CowStr::from(format!("[{t}]"))),
        other => other,
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    CLEANER.clean(&html).to_string()
}

fn shifted(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn formatting_renders_and_links_keep_safe_addresses() {
        let html = to_html(
            "# Fix\n\nRun `kubectl rollout restart` **now**.\n\n- [runbook](https://r.example/x)\n- [local](/incidents)\n",
        );
        assert!(html.contains("<h3>Fix</h3>"), "{html}");
        assert!(html.contains("<code>kubectl rollout restart</code>"), "{html}");
        assert!(html.contains("<strong>now</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://r.example/x" rel="noopener noreferrer nofollow">runbook</a>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<a href="/incidents" rel="noopener noreferrer nofollow">local</a>"#),
            "{html}"
        );
    }

    /// The element name of every tag in `html` (`a` for both `<a href=..>` and `</a>`).
    fn tag_names(html: &str) -> Vec<String> {
        tags(html)
            .iter()
            .map(|tag| {
                tag.trim_start_matches('/')
                    .split([' ', '/'])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    /// Every piece of markup in `html` (text cannot hold a raw `<`: it is escaped).
    fn tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap_or_default().to_lowercase())
            .collect()
    }

    #[test]
    fn raw_html_scripts_handlers_and_bad_schemes_never_survive() {
        let allowed = [
            "p",
            "h3",
            "h4",
            "h5",
            "h6",
            "ul",
            "ol",
            "li",
            "pre",
            "code",
            "em",
            "strong",
            "del",
            "blockquote",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "hr",
            "br",
            "a",
            "input",
        ];
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "text <iframe src=https://evil.example></iframe>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "![pixel](https://tracker.example/p.gif)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "```\n</code></pre><script>alert(1)</script>\n```",
            "[a](https://x.example \"title\" onclick=alert(1))",
        ] {
            let html = to_html(hostile);
            for name in tag_names(&html) {
                assert!(allowed.contains(&name.as_str()), "{hostile:?} → {html}");
            }
            for tag in tags(&html) {
                assert!(!tag.contains(" on"), "{hostile:?} → {html}");
                assert!(
                    !tag.contains("javascript:") && !tag.contains("data:") && !tag.contains("src="),
                    "{hostile:?} → {html}"
                );
            }
        }
        // And, whatever the allow-list becomes, these never come out as markup.
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x>",
            "<iframe src=https://evil.example></iframe>",
            "<svg><a href=javascript:alert(1)>x</a></svg>",
            "<style>body{display:none}</style>",
            "<object data=x></object><embed src=x><form action=x><input name=q></form>",
            "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
            "<base href=https://evil.example/><meta http-equiv=refresh content=0>",
        ] {
            let html = to_html(hostile);
            let denied = [
                "script", "img", "iframe", "svg", "style", "object", "embed", "form", "math", "base", "meta",
                "link",
            ];
            for name in tag_names(&html) {
                assert!(!denied.contains(&name.as_str()), "{hostile:?} → {html}");
            }
        }
        // Raw HTML is kept as visible text.
        assert!(to_html("<script>alert(1)</script>").contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // An image becomes a link to it.
        assert!(
            to_html("![pixel](https://tracker.example/p.gif)")
                .contains(r#"<a href="https://tracker.example/p.gif""#)
        );
    }
}

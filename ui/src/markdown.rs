//! Markdown as the knowledge base writes it (symptoms, root causes, fixes), rendered into DOM nodes
//! one by one from pulldown-cmark's events: never through `innerHTML`. Raw HTML in the text shows as
//! the text it is (a `<script>` is words on the page, never a script), links keep only web, mail and
//! same-site addresses, and images become links (no request leaves the page on its own).

use leptos::prelude::*;
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use wasm_bindgen::JsCast;
use web_sys::{Document, Node};

/// Markdown text, rendered; an empty text shows `empty` instead.
#[component]
pub fn Markdown(#[prop(into)] text: Signal<String>, #[prop(optional)] empty: &'static str) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let text = text.get();
        if let Some(host) = host.get() {
            host.set_text_content(None);
            if text.trim().is_empty() {
                host.set_text_content(Some(empty));
            } else {
                render(&host, &text);
            }
        }
    });
    view! { <div class="markdown" node_ref=host></div> }
}

fn document() -> Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

/// Appends `text`, rendered, to `root`.
fn render(root: &Node, text: &str) {
    let doc = document();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // The open elements, innermost last; text goes into the last one.
    let mut open: Vec<Node> = vec![root.clone()];
    let append = |open: &Vec<Node>, node: &Node| {
        if let Some(parent) = open.last() {
            let _ = parent.append_child(node);
        }
    };
    let mut table_head = false;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(tag) => {
                let element = start(&doc, &tag, table_head);
                append(&open, &element);
                if matches!(tag, Tag::TableHead) {
                    // The head's cells come without a row of their own.
                    table_head = true;
                    let row = element_in(&element, &doc, "tr");
                    open.push(row);
                } else {
                    open.push(element);
                }
            }
            Event::End(end) => {
                if matches!(end, TagEnd::TableHead) {
                    table_head = false;
                }
                if open.len() > 1 {
                    open.pop();
                }
            }
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => {
                append(&open, &doc.create_text_node(&t));
            }
            Event::Code(t) => {
                let code = element(&doc, "code");
                code.set_text_content(Some(&t));
                append(&open, &code);
            }
            Event::SoftBreak => append(&open, &doc.create_text_node("\n")),
            Event::HardBreak => append(&open, &element(&doc, "br")),
            Event::Rule => append(&open, &element(&doc, "hr")),
            Event::TaskListMarker(done) => {
                let mark = doc.create_text_node(if done { "☑ " } else { "☐ " });
                append(&open, &mark);
            }
            // Not enabled: math and footnotes read as their text.
            Event::InlineMath(t) | Event::DisplayMath(t) | Event::FootnoteReference(t) => {
                append(&open, &doc.create_text_node(&t));
            }
        }
    }
}

fn element_in(parent: &Node, doc: &Document, name: &str) -> Node {
    let child = element(doc, name);
    let _ = parent.append_child(&child);
    child
}

fn element(doc: &Document, name: &str) -> Node {
    doc.create_element(name).expect("an element").unchecked_into()
}

fn start(doc: &Document, tag: &Tag<'_>, in_head: bool) -> Node {
    let node = |name: &str| element(doc, name);
    match tag {
        Tag::Paragraph => node("p"),
        // The page has its own h1 and h2: the text's headings start below them.
        Tag::Heading { level, .. } => node(match level {
            HeadingLevel::H1 => "h3",
            HeadingLevel::H2 => "h4",
            HeadingLevel::H3 => "h5",
            _ => "h6",
        }),
        Tag::BlockQuote(_) => node("blockquote"),
        Tag::CodeBlock(kind) => {
            let pre = node("pre");
            if let CodeBlockKind::Fenced(lang) = kind
                && !lang.is_empty()
            {
                set(&pre, "data-lang", lang);
            }
            pre
        }
        Tag::List(Some(first)) => {
            let ol = node("ol");
            if *first != 1 {
                set(&ol, "start", &first.to_string());
            }
            ol
        }
        Tag::List(None) => node("ul"),
        Tag::Item => node("li"),
        Tag::Emphasis => node("em"),
        Tag::Strong => node("strong"),
        Tag::Strikethrough => node("del"),
        Tag::Table(_) => node("table"),
        Tag::TableHead => node("thead"),
        Tag::TableRow => node("tr"),
        Tag::TableCell => node(if in_head { "th" } else { "td" }),
        Tag::Link { dest_url, title, .. } | Tag::Image { dest_url, title, .. } => match safe_href(dest_url) {
            Some(href) => {
                let a = node("a");
                set(&a, "href", href);
                set(&a, "rel", "noopener noreferrer nofollow");
                if !title.is_empty() {
                    set(&a, "title", title);
                }
                a
            }
            None => node("span"),
        },
        _ => node("span"),
    }
}

fn set(node: &Node, name: &str, value: &str) {
    if let Some(e) = node.dyn_ref::<web_sys::Element>() {
        let _ = e.set_attribute(name, value);
    }
}

/// The address a link may keep: web and mail addresses, and paths and anchors of this site.
/// Anything else (`javascript:`, `data:`, `vbscript:`, other schemes) is dropped.
pub fn safe_href(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let allowed = ["https://", "http://", "mailto:"]
        .iter()
        .any(|p| lower.starts_with(p))
        || (url.starts_with('/') && !url.starts_with("//"))
        || url.starts_with('#');
    (allowed && !url.chars().any(|c| c.is_control())).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::safe_href;

    #[test]
    fn only_web_mail_and_local_links_survive() {
        for ok in [
            "https://x.example/a",
            "HTTP://x",
            "mailto:a@b",
            "/alerts/1",
            "#top",
        ] {
            assert_eq!(safe_href(ok), Some(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:x",
            "data:text/html,x",
            "//evil",
            "vbscript:x",
            "ftp://x",
            "java\nscript:x",
        ] {
            assert_eq!(safe_href(bad), None, "{bad}");
        }
    }
}

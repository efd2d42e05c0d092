//! Knowledge-base markdown (symptoms, root causes, fixes) as the server renders it: `POST
//! /api/v1/markdown` answers sanitized HTML (pulldown-cmark, then ammonia: formatting only, raw HTML
//! as text, no images, links to web, mail and same-site addresses only). Rendering on the server
//! keeps the markdown parser out of the browser's bundle; the page's CSP (no inline script, no
//! handlers) stands behind the sanitizer.

use leptos::prelude::*;

use crate::api;
use crate::app::ErrorNote;

/// Markdown text, rendered; an empty text shows `empty` instead. A text that changes (the editor's
/// preview) is rendered again once typing pauses; an answer to an older text is dropped.
#[component]
pub fn Markdown(#[prop(into)] text: Signal<String>, #[prop(optional)] empty: &'static str) -> impl IntoView {
    let html = RwSignal::new(String::new());
    // Busy from the start when there is something to render (no "empty" flash before the answer).
    let pending = RwSignal::new(!text.with_untracked(|t| t.trim().is_empty()));
    let failed = RwSignal::new(None::<api::ApiError>);
    let sequence = StoredValue::new(0u32);
    // The render waiting for typing to pause: a newer keystroke replaces it.
    let waiting = StoredValue::new(None::<TimeoutHandle>);
    on_cleanup(move || {
        if let Some(handle) = waiting.try_get_value().flatten() {
            handle.clear();
        }
    });
    Effect::new(move |previous: Option<()>| {
        let text = text.get();
        let n = sequence.get_value() + 1;
        sequence.set_value(n);
        if let Some(handle) = waiting.get_value() {
            handle.clear();
        }
        if text.trim().is_empty() {
            html.set(String::new());
            pending.set(false);
            return;
        }
        pending.set(true);
        let render = move || {
            leptos::task::spawn_local(async move {
                // A newer text was typed meanwhile (its own render will answer), or the component is
                // gone (its values are disposed: `try_` reads say so instead of panicking).
                if sequence.try_get_value() != Some(n) {
                    return;
                }
                let rendered = api::render_markdown(&text).await;
                if sequence.try_get_value() == Some(n) {
                    match rendered {
                        Ok(h) => {
                            html.set(h);
                            failed.set(None);
                        }
                        Err(e) => failed.set(Some(e)),
                    }
                    pending.set(false);
                }
            })
        };
        // The first render is at once; later ones (typing) wait for a pause.
        if previous.is_none() {
            render();
        } else {
            waiting.set_value(set_timeout_with_handle(render, std::time::Duration::from_millis(250)).ok());
        }
    });
    view! {
        <div class="markdown" aria-busy=move || pending.get().to_string()>
            {move || {
                (html.with(String::is_empty) && !pending.get()).then(|| view! { <p class="empty">{empty}</p> })
            }}
            {move || failed.get().map(|e| view! { <ErrorNote error=e/> })}
            // The server's sanitized rendering (see the module's note).
            <div inner_html=move || html.get()></div>
        </div>
    }
}

//! How values read on screen: times in the viewer's zone (the UTC instant on hover), severities as
//! words with a colour, never colour alone.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A time in the browser's zone, e.g. `04 Dec 16:20:05`, with the UTC instant as its title.
#[component]
pub fn Time(at: DateTime<Utc>) -> impl IntoView {
    let local = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
    let shown = String::from(local.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED));
    let utc = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    view! { <time datetime=at.to_rfc3339() title=utc>{shown}</time> }
}

/// A severity badge: the word, and a colour class for it.
#[component]
pub fn SeverityBadge(severity: String) -> impl IntoView {
    let class = format!("badge severity-{severity}");
    view! { <span class=class>{severity}</span> }
}

/// A status badge.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let class = format!("badge status-{status}");
    view! { <span class=class>{status}</span> }
}

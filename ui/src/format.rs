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

/// The time now in an IANA time zone, e.g. `Fri 18:20`; the zone's name alone when the browser does
/// not know it.
pub fn zoned_now(zone: &str) -> String {
    use js_sys::{Array, Function, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let options = Object::new();
    for (k, v) in [
        ("timeZone", zone),
        ("weekday", "short"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
    ] {
        let _ = Reflect::set(&options, &k.into(), &v.into());
    }
    // Constructed through Reflect: an unknown zone is an error to handle, not an exception that stops
    // the page.
    let format = Reflect::get(&js_sys::global(), &"Intl".into())
        .and_then(|intl| Reflect::get(&intl, &"DateTimeFormat".into()))
        .and_then(|ctor| {
            Reflect::construct(
                ctor.unchecked_ref::<Function>(),
                &Array::of2(&JsValue::from_str("en-GB"), &options),
            )
        });
    match format {
        Ok(f) => f
            .unchecked_into::<js_sys::Intl::DateTimeFormat>()
            .format()
            .call1(&JsValue::UNDEFINED, &js_sys::Date::new_0())
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| zone.to_owned()),
        Err(_) => zone.to_owned(),
    }
}

//! How values read on screen: times in the viewer's zone (the UTC instant on hover), severities as
//! words with a colour, never colour alone.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A time in the browser's zone, e.g. `04/12/2026, 16:20:05`, with the UTC instant as its title.
/// Formatted by the browser (`Date`), which keeps chrono's formatting out of the bundle.
#[component]
pub fn Time(at: DateTime<Utc>) -> impl IntoView {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
    let shown = String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED));
    let iso = String::from(date.to_iso_string());
    let utc = format!("{} UTC", iso.trim_end_matches('Z').replace('T', " "));
    view! { <time datetime=iso title=utc>{shown}</time> }
}

/// A JSON value as a line of text: strings as they are, numbers and booleans written out, lists
/// joined with commas; anything deeper is summarised rather than serialized (no JSON writer in the
/// bundle).
pub fn value_text(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(map) => format!("({} fields)", map.len()),
    }
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
    intl(&js_sys::Date::new_0(), Some(zone), false).unwrap_or_else(|| zone.to_owned())
}

/// An instant on the wall clock of `zone` (the viewer's when `None`), e.g. `Sat 28 Mar, 09:00`.
pub fn zoned(at: DateTime<Utc>, zone: Option<&str>) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
    intl(&date, zone, true).unwrap_or_else(|| String::from(date.to_iso_string()))
}

/// The viewer's IANA time zone, as the browser knows it.
pub fn viewer_zone() -> String {
    let options =
        js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|z| z.as_string())
        .unwrap_or_else(|| "UTC".to_owned())
}

/// `date` formatted by `Intl.DateTimeFormat` in `zone`: weekday and time, with the day and month
/// when `with_date`. Constructed through Reflect: an unknown zone is `None`, not an exception that
/// stops the page.
fn intl(date: &js_sys::Date, zone: Option<&str>, with_date: bool) -> Option<String> {
    use js_sys::{Array, Function, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let options = Object::new();
    let mut fields = vec![("weekday", "short"), ("hour", "2-digit"), ("minute", "2-digit")];
    if with_date {
        fields.extend([("day", "numeric"), ("month", "short")]);
    }
    if let Some(zone) = zone {
        fields.push(("timeZone", zone));
    }
    for (k, v) in fields {
        let _ = Reflect::set(&options, &k.into(), &v.into());
    }
    let format = Reflect::get(&js_sys::global(), &"Intl".into())
        .and_then(|intl| Reflect::get(&intl, &"DateTimeFormat".into()))
        .and_then(|ctor| {
            Reflect::construct(
                ctor.unchecked_ref::<Function>(),
                &Array::of2(&JsValue::from_str("en-GB"), &options),
            )
        })
        .ok()?;
    format
        .unchecked_into::<js_sys::Intl::DateTimeFormat>()
        .format()
        .call1(&JsValue::UNDEFINED, date)
        .ok()
        .and_then(|s| s.as_string())
}

/// A date as `YYYY-MM-DD` (what date inputs and the API take), without chrono's formatter.
pub fn ymd(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// `YYYY-MM-DD` (or `YYYY-MM`, the first of the month) as a date.
pub fn parse_ymd(s: &str) -> Option<chrono::NaiveDate> {
    let mut parts = s.split('-').map(|p| p.parse::<u32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next().unwrap_or(Some(1))?);
    chrono::NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// Today on the viewer's calendar.
pub fn today() -> chrono::NaiveDate {
    let now = js_sys::Date::new_0();
    chrono::NaiveDate::from_ymd_opt(now.get_full_year() as i32, now.get_month() + 1, now.get_date())
        .unwrap_or_default()
}

/// An instant as a `datetime-local` value on the viewer's clock.
pub fn local_input(at: DateTime<Utc>) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// A `datetime-local` value (the viewer's clock) as an instant; `None` when empty or not a time.
pub fn from_local_input(value: &str) -> Option<DateTime<Utc>> {
    if value.trim().is_empty() {
        return None;
    }
    let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
    (!ms.is_nan())
        .then(|| DateTime::from_timestamp_millis(ms as i64))
        .flatten()
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

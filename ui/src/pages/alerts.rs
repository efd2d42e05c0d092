//! The alert list: filters in the URL (a shared link opens the same view), newest first, a page at a
//! time.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use nightowl_api::alerts::Alert;

use crate::api::{self, AlertFilter};
use crate::app::{ErrorNote, use_unauthorized};
use crate::format::{SeverityBadge, StatusBadge, Time};

const STATUSES: [(&str, &str); 5] = [
    ("open", "Open"),
    ("firing", "Firing"),
    ("acknowledged", "Acknowledged"),
    ("resolved", "Resolved"),
    ("", "Any"),
];
const SEVERITIES: [(&str, &str); 5] = [
    ("", "Any"),
    ("critical", "Critical"),
    ("major", "Major"),
    ("warning", "Warning"),
    ("info", "Info"),
];

const RANGES: [(&str, &str); 5] = [
    ("", "Any time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
];
const SORTS: [(&str, &str); 3] = [
    ("", "Newest first"),
    ("oldest", "Oldest first"),
    ("last_fired", "Last fired first"),
];

/// The alert list.
#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let on_error = use_unauthorized();
    let filter = Memo::new(move |_| {
        let q = query.get();
        AlertFilter {
            status: q.get("status"),
            severity: q.get("severity"),
            service: q.get("service"),
            source: q.get("source"),
            range: q.get("range"),
            sort: q.get("sort"),
            cursor: q.get("cursor"),
        }
    });
    let page = LocalResource::new(move || {
        let filter = filter.get();
        let on_error = on_error.clone();
        async move {
            let result = api::alerts(&filter).await;
            if let Err(e) = &result {
                on_error(e);
            }
            result
        }
    });
    live_updates(move || page.refetch());
    // A changed filter is a new URL (and starts from the first page).
    let set = move |key: &'static str, value: String| {
        let mut f = filter.get_untracked();
        f.cursor = None;
        let slot = match key {
            "status" => &mut f.status,
            "severity" => &mut f.severity,
            "source" => &mut f.source,
            "range" => &mut f.range,
            "sort" => &mut f.sort,
            _ => &mut f.service,
        };
        *slot = Some(value);
        navigate(&format!("/alerts?{}", f.query()), Default::default());
    };
    let set_status = set.clone();
    let set_severity = set.clone();
    let set_service = set.clone();
    let set_source = set.clone();
    let set_range = set.clone();
    let set_sort = set;
    view! {
        <h1>"Alerts"</h1>
        <form class="filters" on:submit=|ev| ev.prevent_default()>
            <label for="f-status">"Status"</label>
            <select id="f-status" on:change=move |ev| set_status("status", event_target_value(&ev))
                prop:value=move || filter.get().status.unwrap_or_default()>
                {STATUSES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
            </select>
            <label for="f-severity">"Severity"</label>
            <select id="f-severity" on:change=move |ev| set_severity("severity", event_target_value(&ev))
                prop:value=move || filter.get().severity.unwrap_or_default()>
                {SEVERITIES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
            </select>
            <label for="f-service">"Service"</label>
            <input id="f-service" type="search" placeholder="any"
                prop:value=move || filter.get().service.unwrap_or_default()
                on:change=move |ev| set_service("service", event_target_value(&ev))/>
            <label for="f-source">"Source"</label>
            <input id="f-source" type="search" placeholder="any"
                prop:value=move || filter.get().source.unwrap_or_default()
                on:change=move |ev| set_source("source", event_target_value(&ev))/>
            <label for="f-range">"Created"</label>
            <select id="f-range" on:change=move |ev| set_range("range", event_target_value(&ev))
                prop:value=move || filter.get().range.unwrap_or_default()>
                {RANGES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
            </select>
            <label for="f-sort">"Order"</label>
            <select id="f-sort" on:change=move |ev| set_sort("sort", event_target_value(&ev))
                prop:value=move || filter.get().sort.unwrap_or_default()>
                {SORTS.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
            </select>
        </form>
        {move || match page.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading alerts…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(page)) if page.items.is_empty() => {
                view! { <p class="empty">"No alerts match these filters."</p> }.into_any()
            }
            Some(Ok(page)) => {
                let next = page.next_cursor.clone().map(|c| {
                    let mut f = filter.get_untracked();
                    f.cursor = Some(c);
                    format!("/alerts?{}", f.query())
                });
                view! {
                    <table class="alerts">
                        <thead><tr>
                            <th scope="col" aria-sort=sorted(&filter.get_untracked(), "")>
                                <a href=sort_href(&filter.get_untracked(), "#")>"#"</a>
                            </th>
                            <th scope="col">"Severity"</th>
                            <th scope="col">"Title"</th><th scope="col">"Service"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" aria-sort=sorted(&filter.get_untracked(), "last_fired")>
                                <a href=sort_href(&filter.get_untracked(), "last_fired")>"Last fired"</a>
                            </th>
                        </tr></thead>
                        <tbody>{page.items.into_iter().map(row).collect_view()}</tbody>
                    </table>
                    {next.map(|href| {
                    let label = match filter.get_untracked().sort.as_deref() {
                        Some("oldest") => "Newer alerts",
                        Some("last_fired") => "Fired earlier",
                        _ => "Older alerts",
                    };
                    view! { <a class="more" href=href>{label}</a> }
                })}
                }.into_any()
            }
        }}
    }
}

/// The column's `aria-sort`: how the list is ordered by it, if it is.
fn sorted(f: &AlertFilter, column: &str) -> &'static str {
    match (f.sort.as_deref().unwrap_or(""), column) {
        ("" | "newest", "") | ("last_fired", "last_fired") => "descending",
        ("oldest", "") => "ascending",
        _ => "none",
    }
}

/// The link a column header makes: order by it; the number column toggles newest and oldest first.
fn sort_href(f: &AlertFilter, column: &str) -> String {
    let mut f = f.clone();
    f.cursor = None;
    f.sort = match column {
        "last_fired" => Some("last_fired".to_owned()),
        _ if sorted(&f, "") == "descending" => Some("oldest".to_owned()),
        _ => None,
    };
    format!("/alerts?{}", f.query())
}

fn row(a: Alert) -> impl IntoView {
    let href = format!("/alerts/{}", a.number);
    view! {
        <tr>
            <td>{format!("#{}", a.number)}</td>
            <td><SeverityBadge severity=a.severity.to_string()/></td>
            <td><a href=href>{a.title}</a></td>
            <td>{a.service.unwrap_or_default()}</td>
            <td><StatusBadge status=a.status.to_string()/></td>
            <td><Time at=a.last_fired_at/></td>
        </tr>
    }
}

/// Calls `changed` whenever an alert of the tenant is created, acknowledged or resolved (the API's
/// event stream; the browser reconnects it after a drop), until the page goes away.
fn live_updates(changed: impl Fn() + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(source) = web_sys::EventSource::new("/api/v1/alerts/events") else {
        return;
    };
    let on_event = Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| changed());
    for name in ["alert", "lagged"] {
        let _ = source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
    }
    let source = send_wrapper::SendWrapper::new(source);
    let on_event = send_wrapper::SendWrapper::new(on_event);
    on_cleanup(move || {
        source.close();
        drop(on_event);
    });
}

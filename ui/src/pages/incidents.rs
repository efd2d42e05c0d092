//! The knowledge base: search (matches marked in the text), filters in the URL, and the list of what
//! changed lately when nothing is searched.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use nightowl_api::incidents::{Fragment, Incident, SearchHit};

use crate::api::{self, IncidentFilter};
use crate::app::{ErrorNote, use_unauthorized};
use crate::format::{SeverityBadge, Time};

const PAGE: u32 = 25;

/// What the page shows: search hits, or the plain list with its total.
#[derive(Clone)]
enum Found {
    Hits(Vec<SearchHit>),
    List {
        items: Vec<Incident>,
        total: i64,
        offset: i64,
    },
}

/// The knowledge-base page.
#[component]
pub fn IncidentsPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let on_error = use_unauthorized();
    let filter = Memo::new(move |_| {
        let q = query.get();
        IncidentFilter {
            q: q.get("q"),
            severity: q.get("severity"),
            category: q.get("category"),
            service: q.get("service"),
            tags: q.get("tags"),
            offset: q.get("offset"),
        }
    });
    let found = LocalResource::new(move || {
        let filter = filter.get();
        let on_error = on_error.clone();
        async move {
            let searching = filter.q.as_deref().is_some_and(|q| !q.trim().is_empty());
            let result = if searching {
                api::search_incidents(&filter, PAGE).await.map(Found::Hits)
            } else {
                api::incidents(&filter, PAGE).await.map(|p| Found::List {
                    items: p.items,
                    total: p.total,
                    offset: p.offset,
                })
            };
            if let Err(e) = &result {
                on_error(e);
            }
            result
        }
    });
    // The form's fields; submitting makes them the URL.
    let f = filter.get_untracked();
    let q = RwSignal::new(f.q.unwrap_or_default());
    let severity = RwSignal::new(f.severity.unwrap_or_default());
    let category = RwSignal::new(f.category.unwrap_or_default());
    let service = RwSignal::new(f.service.unwrap_or_default());
    let tags = RwSignal::new(f.tags.unwrap_or_default());
    // Back and forward change the URL without a submit: the fields follow it.
    Effect::new(move |_| {
        let f = filter.get();
        q.set(f.q.unwrap_or_default());
        severity.set(f.severity.unwrap_or_default());
        category.set(f.category.unwrap_or_default());
        service.set(f.service.unwrap_or_default());
        tags.set(f.tags.unwrap_or_default());
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let filter = IncidentFilter {
            q: Some(q.get_untracked()),
            severity: Some(severity.get_untracked()),
            category: Some(category.get_untracked()),
            service: Some(service.get_untracked()),
            tags: Some(tags.get_untracked()),
            offset: None,
        };
        navigate(&format!("/incidents?{}", filter.query()), Default::default());
    };
    view! {
        <div class="title-row">
            <h1>"Knowledge base"</h1>
            <a class="button" href="/incidents/new">"New incident"</a>
        </div>
        <form class="filters" role="search" on:submit=submit>
            <label for="kb-q">"Search"</label>
            <input id="kb-q" type="search" placeholder="e.g. disk full, OOMKilled, \"consumer lag\""
                bind:value=q/>
            <label for="kb-severity">"Severity"</label>
            <select id="kb-severity" bind:value=severity>
                <option value="">"Any"</option>
                {nightowl_api::incidents::INCIDENT_SEVERITIES.iter().rev().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
            </select>
            <label for="kb-category">"Category"</label>
            <input id="kb-category" placeholder="any" bind:value=category/>
            <label for="kb-service">"Service"</label>
            <input id="kb-service" placeholder="any" bind:value=service/>
            <label for="kb-tags">"Tags"</label>
            <input id="kb-tags" placeholder="a, b" bind:value=tags/>
            <button type="submit">"Search"</button>
        </form>
        {move || match found.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Searching…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(Found::Hits(hits))) if hits.is_empty() => {
                view! { <p class="empty">"Nothing in the knowledge base matches."</p> }.into_any()
            }
            Some(Ok(Found::Hits(hits))) => view! {
                <ol class="hits">{hits.into_iter().map(hit).collect_view()}</ol>
            }.into_any(),
            Some(Ok(Found::List { items, .. })) if items.is_empty() => {
                view! { <p class="empty">"No incidents match these filters."</p> }.into_any()
            }
            Some(Ok(Found::List { items, total, offset })) => {
                let shown = offset + items.len() as i64;
                let more = (shown < total).then(|| {
                    let mut f = filter.get_untracked();
                    f.offset = Some(shown.to_string());
                    format!("/incidents?{}", f.query())
                });
                view! {
                    <p class="meta">{format!("{}–{shown} of {total}, most recently changed first", offset + 1)}</p>
                    <ul class="incidents">{items.into_iter().map(row).collect_view()}</ul>
                    {more.map(|href| view! { <a class="more" href=href>"More"</a> })}
                }.into_any()
            }
        }}
    }
}

fn row(i: Incident) -> impl IntoView {
    view! {
        <li>
            <SeverityBadge severity=i.severity.to_string()/>" "
            <a href=format!("/incidents/{}", i.id)>{i.title}</a>
            {(!i.reviewed).then_some(view! { <span class="badge unreviewed-badge">"unreviewed"</span> })}
            <span class="meta">
                {i.category.map(|c| format!(" · {c}"))}
                {format!(" · resolved {} time(s) · changed ", i.resolution_count)}
                <Time at=i.updated_at/>
            </span>
        </li>
    }
}

fn hit(h: SearchHit) -> impl IntoView {
    let i = h.incident;
    view! {
        <li class="hit">
            <SeverityBadge severity=i.severity.to_string()/>" "
            <a class="hit-title" href=format!("/incidents/{}", i.id)><Marked fragments=h.highlights.title/></a>
            {(!i.reviewed).then_some(view! { <span class="badge unreviewed-badge">"unreviewed"</span> })}
            {(!h.highlights.symptoms.is_empty()).then(|| view! {
                <p class="excerpt"><span class="meta">"Symptoms: "</span><Marked fragments=h.highlights.symptoms/></p>
            })}
            {(!h.highlights.solution.is_empty()).then(|| view! {
                <p class="excerpt"><span class="meta">"Fix: "</span><Marked fragments=h.highlights.solution/></p>
            })}
        </li>
    }
}

/// Highlighted text: the matched pieces in `<mark>`, everything as text (never markup).
#[component]
pub fn Marked(fragments: Vec<Fragment>) -> impl IntoView {
    fragments
        .into_iter()
        .map(|f| {
            if f.highlighted {
                view! { <mark>{f.text}</mark> }.into_any()
            } else {
                f.text.into_any()
            }
        })
        .collect_view()
}

//! One knowledge-base incident: every field, its fixes rendered from markdown, the alerts linked to it,
//! how often it was resolved, what changed and who changed it; confirm it, edit it, or merge it into
//! another incident after seeing what the merged one will hold.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use nightowl_api::incidents::{HistoryEntry, Incident, LinkedAlert};

use crate::api::{self, ApiError, IncidentFilter};
use crate::app::{ErrorNote, use_unauthorized};
use crate::format::{SeverityBadge, StatusBadge, Time};
use crate::markdown::Markdown;

/// The incident page.
#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.get().get("id").unwrap_or_default());
    let on_error = use_unauthorized();
    let version = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        let id = id.get();
        version.track();
        let on_error = on_error.clone();
        async move {
            let result = api::incident(&id).await;
            if let Err(e) = &result {
                on_error(e);
            }
            result
        }
    });
    let outcome = RwSignal::new(None::<ApiError>);
    let review = move |incident: uuid::Uuid| {
        leptos::task::spawn_local(async move {
            match api::review_incident(incident).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(e) => outcome.set(Some(e)),
            }
        });
    };
    view! {
        {move || match detail.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading the incident…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(d)) => {
                let i = d.incident.clone();
                let id = i.id;
                view! {
                    <div class="title-row">
                        <h1>{i.title.clone()}</h1>
                        <a class="button" href=format!("/incidents/{id}/edit")>"Edit"</a>
                    </div>
                    <p class="meta">
                        <SeverityBadge severity=i.severity.to_string()/>" "
                        {if i.reviewed {
                            format!("reviewed by {}", i.reviewed_by.clone().unwrap_or_default())
                        } else {
                            "unreviewed".to_owned()
                        }}
                        {i.category.clone().map(|c| format!(" · category {c}"))}
                        {format!(" · created by {}", i.created_by.clone().unwrap_or_else(|| "unknown".into()))}
                    </p>
                    {(!i.reviewed).then(|| view! {
                        <p class="unreviewed" role="note">
                            "Unreviewed: an automated agent reported this; no engineer has confirmed it. "
                            <button type="button" on:click=move |_| review(id)>"I checked it: mark reviewed"</button>
                        </p>
                    })}
                    {move || outcome.get().map(|e| view! { <ErrorNote error=e/> })}
                    <Fields incident=i.clone()/>
                    <Stats incident=i.clone()/>
                    <Linked alerts=d.alerts.clone()/>
                    <History entries=d.history.clone()/>
                    <Merge source=d.incident/>
                }.into_any()
            }
        }}
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "–".to_owned()
    } else {
        items.join(", ")
    }
}

#[component]
fn Fields(incident: Incident) -> impl IntoView {
    let i = incident;
    view! {
        <dl class="fields">
            <dt>"Services"</dt><dd>{list(&i.services)}</dd>
            <dt>"Tags"</dt><dd>{list(&i.tags)}</dd>
            <dt>"Clusters"</dt><dd>{list(&i.clusters)}</dd>
            <dt>"Namespaces"</dt><dd>{list(&i.namespaces)}</dd>
            <dt>"Fingerprints"</dt>
            <dd class="fingerprints">{if i.fingerprints.is_empty() {
                "–".into_any()
            } else {
                view! { <ul>{i.fingerprints.iter().map(|f| view! { <li><code>{f.clone()}</code></li> }).collect_view()}</ul> }.into_any()
            }}</dd>
            <dt>"Error patterns"</dt>
            <dd>{if i.error_patterns.is_empty() {
                "–".into_any()
            } else {
                view! { <ul>{i.error_patterns.iter().map(|p| view! { <li><code>{p.clone()}</code></li> }).collect_view()}</ul> }.into_any()
            }}</dd>
        </dl>
        <section class="text">
            <h2>"Symptoms"</h2>
            <Markdown text=i.symptoms.clone().unwrap_or_default() empty="Not written down yet."/>
            <h2>"Root cause"</h2>
            <Markdown text=i.root_cause.clone().unwrap_or_default() empty="Not written down yet."/>
            <h2>"Solution"</h2>
            <div class="solution-text">
                <Markdown text=i.solution.clone().unwrap_or_default() empty="Not written down yet."/>
            </div>
        </section>
    }
}

#[component]
fn Stats(incident: Incident) -> impl IntoView {
    let i = incident;
    view! {
        <section>
            <h2>"Resolutions"</h2>
            <p class="stats">
                {format!("Resolved {} time(s)", i.resolution_count)}
                {i.avg_resolution_mins.map(|m| format!(", in {} min on average", m.round() as i64))}
                {i.last_resolved_at.map(|t| view! { "; last " <Time at=t/> })}
                {i.last_resolved_by.clone().map(|b| format!(" by {b}"))}
                "."
            </p>
            <p class="meta">"Created " <Time at=i.created_at/> " · changed " <Time at=i.updated_at/></p>
        </section>
    }
}

#[component]
fn Linked(alerts: Vec<LinkedAlert>) -> impl IntoView {
    view! {
        <section>
            <h2>"Linked alerts"</h2>
            {if alerts.is_empty() {
                view! { <p class="empty">"No alert has been linked to this incident."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr>
                            <th scope="col">"#"</th><th scope="col">"Severity"</th><th scope="col">"Title"</th>
                            <th scope="col">"Status"</th><th scope="col">"Fired"</th><th scope="col">"Resolved"</th>
                        </tr></thead>
                        <tbody>{alerts.into_iter().map(|a| view! {
                            <tr>
                                <td>{format!("#{}", a.number)}</td>
                                <td><SeverityBadge severity=a.severity.to_string()/></td>
                                <td><a href=format!("/alerts/{}", a.number)>{a.title}</a></td>
                                <td><StatusBadge status=a.status.to_string()/></td>
                                <td><Time at=a.first_fired_at/></td>
                                <td>{a.resolved_at.map(|t| view! { <Time at=t/> })}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn History(entries: Vec<HistoryEntry>) -> impl IntoView {
    let show = |v: &Option<serde_json::Value>| match v.as_ref().map(crate::format::value_text) {
        Some(text) if !text.is_empty() => short(&text),
        _ => "–".to_owned(),
    };
    view! {
        <section>
            <h2>"History"</h2>
            {if entries.is_empty() {
                view! { <p class="empty">"No recorded changes."</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline history">{entries.into_iter().rev().map(|e| {
                        let what = match e.field.as_deref() {
                            Some(field) => format!("{} {field}: {} → {}", e.change_type, show(&e.old_value), show(&e.new_value)),
                            None => e.change_type.to_string(),
                        };
                        view! {
                            <li><Time at=e.changed_at/>" "<strong>{e.changed_by.unwrap_or_default()}</strong>" "{what}</li>
                        }
                    }).collect_view()}</ol>
                }.into_any()
            }}
        </section>
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// Merging this incident into another: pick the target, see what it will hold, confirm.
#[component]
fn Merge(source: Incident) -> impl IntoView {
    let navigate = use_navigate();
    let open = RwSignal::new(false);
    let words = RwSignal::new(String::new());
    let candidates = RwSignal::new(None::<api::Result<Vec<Incident>>>);
    let target = RwSignal::new(None::<Incident>);
    let error = RwSignal::new(None::<ApiError>);
    let source_id = source.id;
    let find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let filter = IncidentFilter {
            q: Some(words.get_untracked()),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            let found = if filter.q.as_deref().is_some_and(|q| !q.trim().is_empty()) {
                api::search_incidents(&filter, 10)
                    .await
                    .map(|hits| hits.into_iter().map(|h| h.incident).collect::<Vec<_>>())
            } else {
                api::incidents(&filter, 10).await.map(|p| p.items)
            };
            candidates.set(Some(
                found.map(|list| list.into_iter().filter(|i| i.id != source_id).collect()),
            ));
        });
    };
    let confirm = move |_| {
        let Some(t) = target.get_untracked() else { return };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::merge_incidents(source_id, t.id).await {
                Ok(merged) => navigate(&format!("/incidents/{}", merged.id), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let source_for_preview = source.clone();
    view! {
        <section class="merge">
            <h2>"Merge"</h2>
            {move || (!open.get()).then(|| view! {
                <button type="button" on:click=move |_| open.set(true)>"Merge into another incident…"</button>
            })}
            {move || open.get().then(|| view! {
                <form class="filters" on:submit=find>
                    <label for="merge-q">"Find the incident to merge into"</label>
                    <input id="merge-q" type="search" bind:value=words/>
                    <button type="submit">"Find"</button>
                </form>
            })}
            {move || candidates.get().map(|c| match c {
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="empty">"No other incident matches."</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="candidates">{list.into_iter().map(|i| {
                        let title = i.title.clone();
                        view! {
                            <li><button type="button" class="link" on:click=move |_| target.set(Some(i.clone()))>{title}</button></li>
                        }
                    }).collect_view()}</ul>
                }.into_any(),
            })}
            {move || target.get().map(|t| {
                let preview = merged(&source_for_preview, &t);
                view! {
                    <div class="confirm merge-preview" role="dialog" aria-label="Confirm the merge">
                        <p>{format!("“{}” disappears into “{}”, which will hold:", source_for_preview.title, t.title)}</p>
                        <dl class="fields">
                            <dt>"Fingerprints"</dt><dd class="merged-fingerprints">{list(&preview.fingerprints)}</dd>
                            <dt>"Services"</dt><dd>{list(&preview.services)}</dd>
                            <dt>"Tags"</dt><dd>{list(&preview.tags)}</dd>
                            <dt>"Error patterns"</dt><dd>{list(&preview.error_patterns)}</dd>
                            <dt>"Resolutions"</dt><dd>{preview.resolution_count}</dd>
                            <dt>"Solution kept"</dt><dd>{preview.solution_from}</dd>
                        </dl>
                        <p class="meta">"The alerts linked to it will point at the target. This cannot be undone from here."</p>
                        <button type="button" class="primary" on:click=confirm.clone()>{format!("Merge into “{}”", t.title)}</button>
                        <button type="button" on:click=move |_| target.set(None)>"Cancel"</button>
                    </div>
                }
            })}
            {move || error.get().map(|e| view! { <ErrorNote error=e/> })}
        </section>
    }
}

/// What the target will hold after the merge, by the API's rule: lists unioned, resolutions summed,
/// the target's solution kept unless it has none or the source's was proven more often.
struct Merged {
    fingerprints: Vec<String>,
    services: Vec<String>,
    tags: Vec<String>,
    error_patterns: Vec<String>,
    resolution_count: i32,
    solution_from: &'static str,
}

fn merged(source: &Incident, target: &Incident) -> Merged {
    let union = |a: &[String], b: &[String]| {
        let mut out = a.to_vec();
        for x in b {
            if !out.contains(x) {
                out.push(x.clone());
            }
        }
        out
    };
    let source_solution = source.solution.as_deref().is_some_and(|s| !s.trim().is_empty());
    let target_solution = target.solution.as_deref().is_some_and(|s| !s.trim().is_empty());
    let from_source =
        source_solution && (!target_solution || source.resolution_count > target.resolution_count);
    Merged {
        fingerprints: union(&target.fingerprints, &source.fingerprints),
        services: union(&target.services, &source.services),
        tags: union(&target.tags, &source.tags),
        error_patterns: union(&target.error_patterns, &source.error_patterns),
        resolution_count: target.resolution_count + source.resolution_count,
        solution_from: if from_source {
            "this incident's"
        } else if target_solution {
            "the target's"
        } else {
            "none"
        },
    }
}

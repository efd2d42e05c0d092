//! One alert: what it is, what is known about it, who was paged, and the actions on it.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use nightowl_api::alerts::{Alert, AlertStatus};
use nightowl_api::escalation::AlertEscalation;
use nightowl_api::incidents::SimilarIncident;
use nightowl_api::notifications::NotificationView;

use crate::api::{self, ApiError};
use crate::app::{ErrorNote, use_unauthorized};
use crate::format::{SeverityBadge, StatusBadge, Time};
use crate::markdown::Markdown;

/// An action on the alert, asked to be confirmed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Acknowledge,
    Resolve,
    Escalate,
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Action::Acknowledge => "Acknowledge",
            Action::Resolve => "Resolve",
            Action::Escalate => "Escalate",
        }
    }
}

/// The alert page.
#[component]
pub fn AlertPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| params.get().get("id").unwrap_or_default());
    let on_error = use_unauthorized();
    let version = RwSignal::new(0u32);
    let alert = LocalResource::new(move || {
        let key = key.get();
        version.track();
        let on_error = on_error.clone();
        async move {
            let alert = api::alert(&key).await;
            let escalation = api::escalation(&key).await;
            let notifications = api::notifications(&key).await;
            let similar = api::similar_incidents(&key).await;
            if let Err(e) = &alert {
                on_error(e);
            }
            alert.map(|a| {
                (
                    a,
                    escalation.ok(),
                    notifications.unwrap_or_default(),
                    similar.unwrap_or_default(),
                )
            })
        }
    });
    let confirming = RwSignal::new(None::<Action>);
    // The confirmation takes the focus when it opens: Enter confirms, Tab reaches Cancel.
    let confirm_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    let outcome = RwSignal::new(None::<Result<String, ApiError>>);
    let run = move |action: Action| {
        let key = key.get_untracked();
        leptos::task::spawn_local(async move {
            let done = match action {
                Action::Acknowledge => api::acknowledge(&key).await.map(|_| "Acknowledged."),
                Action::Resolve => api::resolve(&key).await.map(|_| "Resolved."),
                Action::Escalate => api::escalate(&key).await.map(|_| "Escalated to the next tier."),
            };
            outcome.set(Some(done.map(str::to_owned)));
            confirming.set(None);
            version.update(|v| *v += 1);
        });
    };
    view! {
        {move || match alert.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading the alert…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok((a, escalation, notifications, similar))) => view! {
                <Detail alert=a.clone() escalation=escalation/>
                <Similar items=similar/>
                <Notifications items=notifications/>
                <section class="actions" aria-label="Actions">
                    {actions(&a).into_iter().map(|action| view! {
                        <button type="button" on:click=move |_| confirming.set(Some(action))>
                            {action.label()}
                        </button>
                    }).collect_view()}
                    {move || confirming.get().map(|action| view! {
                        <div class="confirm" role="dialog" aria-label="Confirm">
                            <p>{format!("{} alert #{}?", action.label(), a.number)}</p>
                            <button type="button" class="primary" node_ref=confirm_button
                                on:click=move |_| run(action)>{format!("Yes, {}", action.label().to_lowercase())}</button>
                            <button type="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                        </div>
                    })}
                    {move || outcome.get().map(|o| match o {
                        Ok(m) => view! { <p class="ok" role="status">{m}</p> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    })}
                    // What fixed it is worth keeping: a resolved alert no incident knows about offers
                    // a new one, filled in from the alert.
                    {(a.status == AlertStatus::Resolved && a.matched_incident_id.is_none()).then(|| view! {
                        <p class="add-kb">
                            "Nothing in the knowledge base describes this alert. "
                            <a class="button" href=format!("/incidents/new?alert={}", a.number)>"Add to knowledge base"</a>
                        </p>
                    })}
                </section>
            }.into_any(),
        }}
    }
}

/// What may be done to an alert in its state.
fn actions(a: &Alert) -> Vec<Action> {
    match a.status {
        AlertStatus::Firing => vec![Action::Acknowledge, Action::Resolve, Action::Escalate],
        AlertStatus::Acknowledged => vec![Action::Resolve, Action::Escalate],
        AlertStatus::Resolved => vec![],
    }
}

#[component]
fn Detail(alert: Alert, escalation: Option<AlertEscalation>) -> impl IntoView {
    let a = alert;
    let suggested = a.suggested_solution.clone().map(|s| {
        let unreviewed = a.solution_reviewed == Some(false);
        view! {
            <section class="solution">
                <h2>"Suggested fix"</h2>
                {unreviewed.then(|| view! {
                    <p class="unreviewed" role="note">
                        "Unreviewed: reported by an automated agent, not confirmed by an engineer. Check before running."
                    </p>
                })}
                <Markdown text=s/>
                {a.matched_incident_id.map(|id| view! {
                    <p class="meta"><a href=format!("/incidents/{id}")>"The incident it comes from"</a></p>
                })}
            </section>
        }
    });
    view! {
        <h1>{format!("#{} ", a.number)}{a.title.clone()}</h1>
        <p class="meta">
            <SeverityBadge severity=a.severity.to_string()/>" "
            <StatusBadge status=a.status.to_string()/>" "
            {a.service.clone().map(|s| format!("service {s} · "))}
            {format!("fired {} time(s) · source {}", a.occurrence_count, a.source)}
        </p>
        <dl class="times">
            <dt>"First fired"</dt><dd><Time at=a.first_fired_at/></dd>
            <dt>"Last fired"</dt><dd><Time at=a.last_fired_at/></dd>
            {a.acknowledged_at.map(|t| view! { <dt>"Acknowledged"</dt><dd><Time at=t/>" by "{a.acknowledged_by.clone().unwrap_or_default()}</dd> })}
            {a.resolved_at.map(|t| view! { <dt>"Resolved"</dt><dd><Time at=t/>" by "{a.resolved_by.clone().unwrap_or_default()}</dd> })}
        </dl>
        {a.description.clone().map(|d| view! { <p class="description">{d}</p> })}
        {suggested}
        {(!a.links.is_empty()).then(|| view! {
            <section>
                <h2>"Links"</h2>
                <ul class="links">{a.links.iter().map(|l| match crate::format::safe_href(l) {
                    Some(href) => view! { <li><a href=href.to_owned() rel="noopener noreferrer">{l.clone()}</a></li> }.into_any(),
                    None => view! { <li>{l.clone()}</li> }.into_any(),
                }).collect_view()}</ul>
            </section>
        })}
        <KeyValues title="Labels" value=a.labels.clone() empty="No labels."/>
        <KeyValues title="Annotations" value=a.annotations.clone() empty="No annotations."/>
        <section>
            <h2>"Escalation"</h2>
            {match escalation {
                None => view! { <p class="empty">"No escalation for this alert."</p> }.into_any(),
                Some(e) if e.events.is_empty() => view! { <p class="empty">"No steps yet."</p> }.into_any(),
                Some(e) => view! {
                    <ol class="timeline">
                        {e.events.into_iter().map(|ev| view! {
                            <li>
                                <Time at=ev.created_at/>" "
                                <strong>{ev.action.to_string()}</strong>
                                {ev.tier.map(|t| format!(" · tier {t}"))}
                                {ev.channel.map(|c| format!(" · {c}"))}
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any(),
            }}
        </section>
    }
}

/// Who was told what about the alert, through which channel, and what became of it.
#[component]
fn Notifications(items: Vec<NotificationView>) -> impl IntoView {
    view! {
        <section>
            <h2>"Notifications"</h2>
            {if items.is_empty() {
                view! { <p class="empty">"Nobody has been notified about this alert."</p> }.into_any()
            } else {
                view! {
                    <table class="notifications">
                        <thead><tr>
                            <th scope="col">"Queued"</th><th scope="col">"Kind"</th><th scope="col">"Channel"</th>
                            <th scope="col">"Tier"</th><th scope="col">"Status"</th><th scope="col">"Detail"</th>
                        </tr></thead>
                        <tbody>{items.into_iter().map(|n| {
                            let detail = match (&n.last_error, n.folded_into, n.covers.len()) {
                                (_, Some(_), _) => "went out folded into another page".to_owned(),
                                (_, None, more) if more > 0 => format!("also stood for {more} more alert(s)"),
                                (Some(e), _, _) => e.clone(),
                                _ => String::new(),
                            };
                            view! {
                                <tr>
                                    <td><Time at=n.created_at/></td>
                                    <td>{n.kind.to_string()}</td>
                                    <td>{n.channel}</td>
                                    <td>{n.tier.map(|t| t.to_string())}</td>
                                    <td><StatusBadge status=n.status.to_string()/></td>
                                    <td>{detail}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// Knowledge-base incidents like this alert: what fixed it before.
#[component]
fn Similar(items: Vec<SimilarIncident>) -> impl IntoView {
    view! {
        <section>
            <h2>"Similar incidents"</h2>
            {if items.is_empty() {
                view! { <p class="empty">"The knowledge base knows nothing like this alert yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="similar">{items.into_iter().map(|s| {
                        let how = if s.linked { "linked to this alert".to_owned() } else { format!("matched by {}", s.matched_by) };
                        let reviewed = if s.incident.reviewed { "" } else { " · unreviewed" };
                        view! {
                            <li>
                                <SeverityBadge severity=s.incident.severity.to_string()/>" "
                                <a href=format!("/incidents/{}", s.incident.id)><strong>{s.incident.title}</strong></a>
                                <span class="meta">{format!(" · {how}{reviewed}")}</span>
                                {s.incident.solution.map(|fix| view! { <Markdown text=fix/> })}
                            </li>
                        }
                    }).collect_view()}</ul>
                }.into_any()
            }}
        </section>
    }
}

/// A JSON object's keys and values (labels, annotations), values as text.
#[component]
fn KeyValues(title: &'static str, value: serde_json::Value, empty: &'static str) -> impl IntoView {
    let pairs: Vec<(String, String)> = value
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), crate::format::value_text(v)))
                .collect()
        })
        .unwrap_or_default();
    view! {
        <section>
            <h2>{title}</h2>
            {if pairs.is_empty() {
                view! { <p class="empty">{empty}</p> }.into_any()
            } else {
                view! { <dl class="labels">{pairs.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl> }.into_any()
            }}
        </section>
    }
}

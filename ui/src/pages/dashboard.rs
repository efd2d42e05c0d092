//! The dashboard: what is burning (open alerts by severity, each a link to the list), who is on call,
//! what the knowledge base learned lately, and how the last 30 days went (time to resolve, the alerts
//! that keep coming back). Every figure is the API's: the server counts, the page draws.

use leptos::prelude::*;
use nightowl_api::incidents::Incident;
use nightowl_api::rosters::RosterOnCallNow;
use nightowl_api::stats::{AlertStats, MttrDay, RecurringAlert};

use crate::api::{self, IncidentFilter};
use crate::app::{ErrorNote, use_unauthorized};
use crate::format::{SeverityBadge, Time, zoned_now};

const SEVERITIES: [&str; 4] = ["critical", "major", "warning", "info"];
const DAYS: u32 = 30;

/// The dashboard page.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let on_error = use_unauthorized();
    let data = LocalResource::new(move || {
        let on_error = on_error.clone();
        async move {
            let stats = api::alert_stats(DAYS).await;
            if let Err(e) = &stats {
                on_error(e);
            }
            let oncall = api::oncall_now().await;
            let latest = api::incidents(&IncidentFilter::default(), 5)
                .await
                .map(|p| p.items);
            (stats, oncall, latest)
        }
    });
    // A resource can answer after the page is gone (the person moved on while it loaded): the views
    // read resources with `try_get`, which treats a disposed one as still loading.
    view! {
        <h1>"Dashboard"</h1>
        {move || match data.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading the dashboard…"</p> }.into_any(),
            Some((stats, oncall, latest)) => view! {
                <div class="dashboard">
                    {match stats {
                        Ok(s) => view! { <Counters stats=s.clone()/><Mttr days=s.mttr/><Recurring items=s.top_recurring/> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }}
                    <OnCall result=oncall/>
                    <Latest result=latest/>
                </div>
            }.into_any(),
        }}
    }
}

/// Open alerts by severity; each count opens the list filtered to it.
#[component]
fn Counters(stats: AlertStats) -> impl IntoView {
    let count = |s: &str| stats.open_by_severity.get(s).copied().unwrap_or(0);
    view! {
        <section class="counters" aria-label="Open alerts" data-loaded="true">
            {SEVERITIES.iter().map(|s| {
                let n = count(s);
                view! {
                    <a class=format!("counter severity-{s}") data-severity=*s
                        href=format!("/alerts?status=open&severity={s}")>
                        <span class="count">{n}</span>
                        <span class="label">{format!("{s} open")}</span>
                    </a>
                }
            }).collect_view()}
            <a class="counter" data-severity="firing" href="/alerts?status=firing">
                <span class="count">{stats.firing}</span>
                <span class="label">"not acknowledged"</span>
            </a>
        </section>
    }
}

/// The mean time to resolve per day: one point per day that resolved something, joined by a line.
#[component]
fn Mttr(days: Vec<MttrDay>) -> impl IntoView {
    // Whole units of the view box: coordinates are written as integers (formatting floats would add
    // Rust's float printing to the bundle for no visible difference).
    const W: i64 = 600;
    const H: i64 = 160;
    const PAD: i64 = 24;
    let max = days
        .iter()
        .filter_map(|d| d.mttr_minutes)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let gaps = (days.len().max(2) - 1) as i64;
    let points: Vec<(i64, i64, &MttrDay)> = days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.mttr_minutes.map(|m| {
                let share = (m / max).clamp(0.0, 1.0);
                let rise = (share * (H - 2 * PAD) as f64).round() as i64;
                (PAD + i as i64 * (W - 2 * PAD) / gaps, H - PAD - rise, d)
            })
        })
        .collect();
    let line = points
        .iter()
        .map(|(x, y, _)| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(" ");
    let marks = points
        .iter()
        .map(|(x, y, d)| {
            let tip = format!("{}: {} min over {} resolved", d.day, minutes(d.mttr_minutes), d.resolved);
            view! { <circle class="point" cx=x.to_string() cy=y.to_string() r="4"><title>{tip}</title></circle> }
        })
        .collect_view();
    let resolved: i64 = days.iter().map(|d| d.resolved).sum();
    let first = days.first().map(|d| d.day.to_string()).unwrap_or_default();
    let last = days.last().map(|d| d.day.to_string()).unwrap_or_default();
    let summary = format!(
        "Mean time to resolve per day, {first} to {last}: {} days with resolved alerts, {resolved} resolved, peak {} min",
        points.len(),
        minutes(Some(max)),
    );
    view! {
        <section class="chart" aria-labelledby="mttr-title">
            <h2 id="mttr-title">"Time to resolve, last 30 days"</h2>
            {if points.is_empty() {
                view! { <p class="empty">"Nothing was resolved in the last 30 days."</p> }.into_any()
            } else {
                view! {
                    <svg class="mttr" viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary>
                        <line class="axis" x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD/>
                        <text class="tick" x=PAD y=PAD - 8>{format!("{} min", minutes(Some(max)))}</text>
                        <text class="tick" x=PAD y=H - 6>{first}</text>
                        <text class="tick end" x=W - PAD y=H - 6>{last}</text>
                        <polyline class="trend" points=line/>
                        {marks}
                    </svg>
                }.into_any()
            }}
        </section>
    }
}

fn minutes(m: Option<f64>) -> String {
    m.map(|m| (m.round() as i64).to_string())
        .unwrap_or_else(|| "–".into())
}

/// The alerts that fired most often: one bar each, longest first, each a link to its latest alert.
#[component]
fn Recurring(items: Vec<RecurringAlert>) -> impl IntoView {
    const W: i64 = 600;
    const ROW: i64 = 26;
    const LABEL: i64 = 260;
    let max = items.iter().map(|r| r.occurrences).max().unwrap_or(1).max(1);
    let height = ROW * items.len() as i64;
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let y = i as i64 * ROW;
            let width = ((W - LABEL - 50) * r.occurrences / max).max(2);
            let label = match &r.service {
                Some(s) => format!("{} ({s})", r.title),
                None => r.title.clone(),
            };
            let tip = format!("{label}: {} occurrences in {} alert(s)", r.occurrences, r.alerts);
            // The group makes the link an SVG link (a bare `<a>` would be HTML's, which SVG does not draw).
            view! {
                <g class="bar-row">
                    <a href=format!("/alerts/{}", r.last_number)>
                        <text class="bar-label" x="0" y=y + 17>{truncate(&label, 38)}</text>
                        <rect class="bar" x=LABEL y=y + 4 width=width height=ROW - 8><title>{tip}</title></rect>
                        <text class="bar-value" x=LABEL + width + 6 y=y + 17>{r.occurrences}</text>
                    </a>
                </g>
            }
        })
        .collect_view();
    view! {
        <section class="chart" aria-labelledby="recurring-title">
            <h2 id="recurring-title">"Top recurring alerts, last 30 days"</h2>
            {if items.is_empty() {
                view! { <p class="empty">"No alert fired in the last 30 days."</p> }.into_any()
            } else {
                view! {
                    <svg class="recurring" viewBox=format!("0 0 {W} {height}") role="img"
                        aria-label=format!("The {} alerts that fired most often", items.len())>
                        {bars}
                    </svg>
                }.into_any()
            }}
        </section>
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Who is on call now for each roster, with the roster's local time.
#[component]
fn OnCall(result: api::Result<Vec<RosterOnCallNow>>) -> impl IntoView {
    view! {
        <section class="oncall" aria-labelledby="oncall-title">
            <h2 id="oncall-title">"On call now"</h2>
            {match result {
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                Ok(rows) if rows.is_empty() => view! { <p class="empty">"No rosters yet."</p> }.into_any(),
                Ok(rows) => view! {
                    <table>
                        <thead><tr>
                            <th scope="col">"Roster"</th><th scope="col">"Primary"</th>
                            <th scope="col">"Secondary"</th><th scope="col">"Local time"</th>
                        </tr></thead>
                        <tbody>{rows.into_iter().map(|r| view! {
                            <tr>
                                <td>{r.roster}</td>
                                <td>{r.primary.map(|p| p.display_name).unwrap_or_else(|| "nobody".into())}</td>
                                <td>{r.secondary.map(|p| p.display_name).unwrap_or_default()}</td>
                                <td title=r.timezone.clone()>{zoned_now(&r.timezone)}" "<span class="meta">{r.timezone.clone()}</span></td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// The knowledge base's most recently changed incidents.
#[component]
fn Latest(result: api::Result<Vec<Incident>>) -> impl IntoView {
    view! {
        <section class="latest" aria-labelledby="latest-title">
            <h2 id="latest-title">"Latest in the knowledge base"</h2>
            {match result {
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                Ok(items) if items.is_empty() => view! { <p class="empty">"The knowledge base is empty."</p> }.into_any(),
                Ok(items) => view! {
                    <ul class="incidents">{items.into_iter().map(|i| view! {
                        <li>
                            <SeverityBadge severity=i.severity.to_string()/>" "
                            <a href=format!("/incidents/{}", i.id)>{i.title}</a>
                            <span class="meta">" · changed "<Time at=i.updated_at/></span>
                        </li>
                    }).collect_view()}</ul>
                }.into_any(),
            }}
        </section>
    }
}

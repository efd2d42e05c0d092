//! One roster: who is on call now (in the roster's zone and the viewer's), its calendar (week or
//! month, laid out by the server in either zone, so DST days come out 23 or 25 hours long exactly as
//! the on-call code decides), and its overrides and leave: add, remove, or swap a shift in two clicks.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use nightowl_api::Role;
use nightowl_api::admin::User;
use nightowl_api::rosters::{CalendarDay, CalendarShift, OverrideInput, Roster, RosterCalendar};
use uuid::Uuid;

use crate::api::{self, ApiError};
use crate::app::{ErrorNote, Session, use_unauthorized};
use crate::format::{from_local_input, local_input, parse_ymd, today, viewer_zone, ymd, zoned};
use crate::pages::rosters::rotation_summary;

/// What the calendar shows, as the URL carries it.
#[derive(Debug, Clone, PartialEq)]
struct View {
    month: bool,
    /// A date in the period shown.
    anchor: NaiveDate,
    /// Laid out in the viewer's zone rather than the roster's.
    mine: bool,
}

impl View {
    /// The first date shown and the number of days: whole weeks from Monday.
    fn range(&self) -> (NaiveDate, u32) {
        let monday = |d: NaiveDate| d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
        if self.month {
            let first = self.anchor.with_day(1).unwrap_or(self.anchor);
            let last = first
                .checked_add_months(chrono::Months::new(1))
                .map(|d| d.pred_opt().unwrap_or(d))
                .unwrap_or(first);
            let start = monday(first);
            let days = (last - start).num_days() + 1;
            (start, (days + 6) as u32 / 7 * 7)
        } else {
            (monday(self.anchor), 7)
        }
    }

    /// The period before or after.
    fn step(&self, forward: bool) -> NaiveDate {
        let sign = if forward { 1 } else { -1 };
        if self.month {
            let first = self.anchor.with_day(1).unwrap_or(self.anchor);
            if forward {
                first.checked_add_months(chrono::Months::new(1))
            } else {
                first.checked_sub_months(chrono::Months::new(1))
            }
            .unwrap_or(first)
        } else {
            self.anchor + chrono::Duration::days(7 * sign)
        }
    }

    /// The page showing `anchor`'s week or month, in the roster's zone or the viewer's.
    fn href(roster: &str, anchor: NaiveDate, month: bool, mine: bool) -> String {
        let mut href = format!(
            "/rosters/{roster}?view={}&date={}",
            if month { "month" } else { "week" },
            ymd(anchor)
        );
        if mine {
            href.push_str("&tz=mine");
        }
        href
    }
}

/// `minutes` as a shift length: `24 h`, `23 h`, `7 h 30 min`.
fn length(minutes: i64) -> String {
    match minutes % 60 {
        0 => format!("{} h", minutes / 60),
        m => format!("{} h {m} min", minutes / 60),
    }
}

/// The roster page.
#[component]
pub fn RosterPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let on_error = use_unauthorized();
    let session = expect_context::<Session>();
    let may_override = move || session.0.get().is_some_and(|i| i.role >= Role::Engineer);
    let id = Memo::new(move |_| params.get().get("id").unwrap_or_default());
    let view_of = Memo::new(move |_| {
        let q = query.get();
        View {
            month: q.get("view").as_deref() == Some("month"),
            anchor: q.get("date").as_deref().and_then(parse_ymd).unwrap_or_else(today),
            mine: q.get("tz").as_deref() == Some("mine"),
        }
    });
    let version = RwSignal::new(0u32);
    let on_roster_error = on_error.clone();
    let roster = LocalResource::new(move || {
        let id = id.get();
        version.track();
        let on_error = on_roster_error.clone();
        async move {
            let roster = api::roster(&id).await;
            if let Err(e) = &roster {
                on_error(e);
            }
            let now = api::roster_oncall(&id).await;
            (roster, now.ok())
        }
    });
    let calendar = LocalResource::new(move || {
        let (id, v) = (id.get(), view_of.get());
        version.track();
        async move {
            let (start, days) = v.range();
            let zone = v.mine.then(viewer_zone);
            api::roster_calendar(&id, &ymd(start), days, zone.as_deref()).await
        }
    });
    let config_id = id;
    let config = LocalResource::new(move || {
        let id = config_id.get();
        async move { api::roster(&id).await }
    });
    let users =
        LocalResource::new(move || async move { api::users().await.map(|p| p.items).unwrap_or_default() });
    // The override being written; "Swap" on a shift fills in its times.
    let form = OverrideForm::new();

    view! {
        {move || match roster.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading the roster…"</p> }.into_any(),
            Some((Err(e), _)) => view! { <ErrorNote error=e/> }.into_any(),
            Some((Ok(r), now)) => view! {
                <h1>{r.name.clone()}</h1>
                <p class="meta">{format!("{} · {} · ", rotation_summary(&r), r.timezone)}
                    {r.members.iter().map(|m| m.display_name.clone()).collect::<Vec<_>>().join(", ")}
                </p>
                <Now roster=r.clone() now=now/>
            }.into_any(),
        }}
        <section aria-labelledby="calendar-title">
            <div class="title-row">
                <h2 id="calendar-title">"Calendar"</h2>
                {move || {
                    let v = view_of.get();
                    let id = id.get();
                    view! {
                        <nav class="calendar-nav" aria-label="Calendar">
                            <a href=View::href(&id, v.step(false), v.month, v.mine)>{if v.month { "← Previous month" } else { "← Previous week" }}</a>
                            <a href=View::href(&id, today(), v.month, v.mine)>"Today"</a>
                            <a href=View::href(&id, v.step(true), v.month, v.mine)>{if v.month { "Next month →" } else { "Next week →" }}</a>
                            <a href=View::href(&id, v.anchor, !v.month, v.mine) aria-label=if v.month { "Show the week" } else { "Show the month" }>
                                {if v.month { "Week" } else { "Month" }}
                            </a>
                            <a class="zone-toggle" href=View::href(&id, v.anchor, v.month, !v.mine)>
                                {if v.mine { "Show in the roster's time zone" } else { "Show in my time zone" }}
                            </a>
                        </nav>
                    }
                }}
            </div>
            {move || match calendar.try_get().flatten() {
                None => view! { <p class="loading" aria-busy="true">"Loading the calendar…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
                Some(Ok(cal)) => view! {
                    <Calendar cal=cal month=view_of.get_untracked().month form=form may_swap=may_override()/>
                }.into_any(),
            }}
        </section>
        {move || may_override().then(|| view! {
            <Overrides roster=id form=form users=users calendar=calendar changed=move || version.update(|v| *v += 1)/>
        })}
        // Its own load of the roster, so saving it does not rebuild the form being typed in; its code
        // is a module of its own, fetched after the calendar is on screen.
        {move || config.try_get().flatten().and_then(Result::ok).map(|r| {
            let reload = Callback::new(move |()| version.update(|v| *v += 1));
            Suspend::new(send_wrapper::SendWrapper::new(crate::pages::roster_config_view(r, reload)))
        })}
    }
}

/// Who is on call now and until when, in the roster's zone and the viewer's.
#[component]
fn Now(roster: Roster, now: Option<nightowl_api::rosters::OnCallView>) -> impl IntoView {
    let zone = roster.timezone.clone();
    let mine = viewer_zone();
    view! {
        <section class="now" aria-labelledby="now-title">
            <h2 id="now-title">"On call now"</h2>
            {match now.filter(|n| n.primary.is_some()) {
                None => view! { <p class="empty">"Nobody is on call now."</p> }.into_any(),
                Some(n) => {
                    let until = n.shift_end.map(|end| {
                        let theirs = zoned(end, Some(&zone));
                        let ours = zoned(end, Some(&mine));
                        if zone == mine {
                            format!("until {theirs} ({zone})")
                        } else {
                            format!("until {theirs} ({zone}) · {ours} your time ({mine})")
                        }
                    });
                    view! {
                        <dl class="times">
                            <dt>"Primary"</dt>
                            <dd class="primary-now">
                                {n.primary.map(|p| p.display_name)}
                                {n.override_active.map(|_| " (covering by override)")}
                            </dd>
                            <dt>"Secondary"</dt>
                            <dd class="secondary-now">{n.secondary.map(|p| p.display_name).unwrap_or_else(|| "none".into())}</dd>
                            <dt>"Shift"</dt>
                            <dd class="until">{until.unwrap_or_else(|| "runs on".into())}</dd>
                        </dl>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// The days of the calendar: a week in a row or a month in weeks. Each day names its length when
/// clocks change, the handoffs (with the shift's whole length), the final schedule as a bar of
/// who answers when (covers and the partner's half of a follow-the-sun pair marked), and overrides.
#[component]
fn Calendar(cal: RosterCalendar, month: bool, form: OverrideForm, may_swap: bool) -> impl IntoView {
    let shown_month = cal
        .days
        .get(cal.days.len() / 2)
        .map(|d| d.date.month())
        .unwrap_or_default();
    let zone = cal.timezone.clone();
    let today = cal.today;
    view! {
        <p class="meta">{format!("Times in {zone}.")}</p>
        <div class="weekdays" aria-hidden="true">
            {["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map(|d| view! { <span>{d}</span> }).collect_view()}
        </div>
        <ol class=if month { "calendar month" } else { "calendar week" }>
            {cal.days.into_iter().map(|d| {
                let outside = month && d.date.month() != shown_month;
                day(d, today, outside, form, may_swap)
            }).collect_view()}
        </ol>
    }
}

fn day(d: CalendarDay, today: NaiveDate, outside: bool, form: OverrideForm, may_swap: bool) -> impl IntoView {
    let mut class = "day".to_owned();
    if d.date == today {
        class.push_str(" today");
    }
    if outside {
        class.push_str(" outside");
    }
    if d.hours != 24 {
        class.push_str(" dst");
    }
    let total = (d.ends_at - d.starts_at).num_minutes().max(1);
    view! {
        <li class=class data-date=ymd(d.date) aria-current=(d.date == today).then_some("date")>
            <div class="date">
                <span class="number">{format!("{} {}", weekday(d.date), d.date.day())}</span>
                {(d.hours != 24).then(|| view! { <span class="badge day-length">{format!("{} h day", d.hours)}</span> })}
                {(d.date == today).then_some(view! { <span class="badge today-badge">"today"</span> })}
            </div>
            <ul class="handoffs">
                {d.handoffs.into_iter().map(|s| handoff(s, form, may_swap)).collect_view()}
            </ul>
            <div class="bar" role="list" aria-label="Who is on call">
                {d.segments.into_iter().map(|s| {
                    let share = (s.ends_at - s.starts_at).num_minutes() * 1000 / total;
                    let who = s.primary.map(|p| p.display_name).unwrap_or_else(|| "nobody".into());
                    let mut class = "segment".to_owned();
                    if s.override_id.is_some() {
                        class.push_str(" cover");
                    }
                    if !s.active {
                        class.push_str(" inactive");
                    }
                    let note = match (s.override_id.is_some(), s.active) {
                        (_, false) => " (partner roster answers)",
                        (true, _) => " (override)",
                        _ => "",
                    };
                    let text = format!("{}–{} {who}{note}", s.from, s.to);
                    view! {
                        // Set through the CSSOM (`style:`), which the page's CSP allows; a style attribute it blocks.
                        <span class=class role="listitem" style:flex-grow=share.to_string() title=text.clone()>{text.clone()}</span>
                    }
                }).collect_view()}
            </div>
            {(!d.overrides.is_empty()).then(|| view! {
                <ul class="day-overrides">
                    {d.overrides.into_iter().map(|o| {
                        let what = if o.kind == nightowl_api::rosters::OverrideKind::Leave { "Leave" } else { "Covers" };
                        view! { <li class=format!("override-{}", o.kind)>{format!("{what}: {} {}–{}", o.person.display_name, o.from, o.to)}</li> }
                    }).collect_view()}
                </ul>
            })}
        </li>
    }
}

fn weekday(d: NaiveDate) -> &'static str {
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d.weekday().num_days_from_monday() as usize]
}

/// A handoff: the time, who takes the shift, how long it lasts; "Swap" lets someone else cover it.
fn handoff(s: CalendarShift, form: OverrideForm, may_swap: bool) -> impl IntoView {
    let len = s.minutes.map(|m| format!("({})", length(m))).unwrap_or_default();
    let (starts, ends) = (s.starts_at, s.ends_at);
    let name = s.primary.display_name.clone();
    view! {
        <li class="handoff">
            <span class="at">{s.at}</span>" "
            <strong class="primary">{s.primary.display_name}</strong>" "
            <span class="length">{len}</span>
            {(may_swap && ends.is_some()).then(|| view! {
                " "
                <button type="button" class="link swap" aria-label=format!("Swap {name}'s shift")
                    on:click=move |_| form.swap(starts, ends.unwrap_or(starts))>"Swap"</button>
            })}
        </li>
    }
}

/// The fields of a new override, shared by the form and the calendar's "Swap".
#[derive(Clone, Copy)]
struct OverrideForm {
    user: RwSignal<String>,
    kind: RwSignal<String>,
    starts: RwSignal<String>,
    ends: RwSignal<String>,
    reason: RwSignal<String>,
    /// Set by "Swap": the chooser of who covers is open for this shift.
    swapping: RwSignal<bool>,
}

impl OverrideForm {
    fn new() -> OverrideForm {
        OverrideForm {
            user: RwSignal::new(String::new()),
            kind: RwSignal::new("override".into()),
            starts: RwSignal::new(String::new()),
            ends: RwSignal::new(String::new()),
            reason: RwSignal::new(String::new()),
            swapping: RwSignal::new(false),
        }
    }

    fn swap(&self, starts: DateTime<Utc>, ends: DateTime<Utc>) {
        self.kind.set("override".into());
        self.starts.set(local_input(starts));
        self.ends.set(local_input(ends));
        self.reason.set("shift swap".into());
        self.swapping.set(true);
        if let Some(el) = leptos::prelude::document().get_element_by_id("overrides-title") {
            el.scroll_into_view();
        }
    }

    fn input(&self) -> Result<OverrideInput, String> {
        let user = self
            .user
            .get_untracked()
            .parse::<Uuid>()
            .map_err(|_| "Choose who covers or is away.".to_owned())?;
        let starts_at = from_local_input(&self.starts.get_untracked()).ok_or("Give a start.")?;
        let ends_at = from_local_input(&self.ends.get_untracked()).ok_or("Give an end.")?;
        let reason = Some(self.reason.get_untracked()).filter(|r| !r.trim().is_empty());
        Ok(OverrideInput {
            user_id: user,
            starts_at,
            ends_at,
            reason,
            kind: Some(self.kind.get_untracked()),
        })
    }
}

/// Overrides and leave: the form (times on the viewer's clock), and those in the period shown with a
/// Remove button. A refusal (an overlapping cover: 409) shows the API's message.
#[component]
fn Overrides(
    roster: Memo<String>,
    form: OverrideForm,
    users: LocalResource<Vec<User>>,
    calendar: LocalResource<Result<RosterCalendar, ApiError>>,
    changed: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let outcome = RwSignal::new(None::<Result<String, ApiError>>);
    let invalid = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_changed = changed.clone();
    let add = move || {
        let input = match form.input() {
            Ok(i) => i,
            Err(why) => {
                invalid.set(Some(why));
                return;
            }
        };
        invalid.set(None);
        busy.set(true);
        let changed = on_changed.clone();
        leptos::task::spawn_local(async move {
            let done = api::add_override(&roster.get_untracked(), &input).await;
            busy.set(false);
            if done.is_ok() {
                form.swapping.set(false);
                changed();
            }
            outcome.set(Some(done.map(|_| "Added.".to_owned())));
        });
    };
    let add_from_form = add.clone();
    let people = move || users.try_get().flatten().unwrap_or_default();
    let remove = move |id: Uuid| {
        let changed = changed.clone();
        let roster = roster.get_untracked();
        leptos::task::spawn_local(async move {
            let done = api::delete_override(&roster, id).await;
            if done.is_ok() {
                changed();
            }
            outcome.set(Some(done.map(|_| "Removed.".to_owned())));
        });
    };
    view! {
        <section aria-labelledby="overrides-title">
            <h2 id="overrides-title">"Overrides and leave"</h2>
            {move || form.swapping.get().then(|| {
                let add = add.clone();
                view! {
                    <div class="swap-chooser" role="group" aria-label="Who covers this shift">
                        <span>{format!("Who covers {} – {}?", form.starts.get(), form.ends.get())}</span>
                        {people().into_iter().filter(|u| u.is_active).map(|u| {
                            let add = add.clone();
                            let id = u.id.to_string();
                            view! {
                                <button type="button" class="cover-by" on:click=move |_| { form.user.set(id.clone()); add(); }>
                                    {u.display_name}
                                </button>
                            }
                        }).collect_view()}
                        <button type="button" class="link" on:click=move |_| form.swapping.set(false)>"Cancel"</button>
                    </div>
                }
            })}
            <form class="override-form filters" on:submit=move |ev| { ev.prevent_default(); add_from_form(); }>
                <label for="o-user">"Person"</label>
                <select id="o-user" bind:value=form.user>
                    <option value="">"Choose…"</option>
                    {move || people().into_iter().filter(|u| u.is_active).map(|u| view! {
                        <option value=u.id.to_string()>{u.display_name}</option>
                    }).collect_view()}
                </select>
                <label for="o-kind">"Kind"</label>
                <select id="o-kind" bind:value=form.kind>
                    <option value="override">"Covers (override)"</option>
                    <option value="leave">"Away (leave)"</option>
                </select>
                <label for="o-start">"From (your time)"</label>
                <input id="o-start" type="datetime-local" required bind:value=form.starts/>
                <label for="o-end">"Until (your time)"</label>
                <input id="o-end" type="datetime-local" required bind:value=form.ends/>
                <label for="o-reason">"Reason"</label>
                <input id="o-reason" maxlength="500" bind:value=form.reason/>
                <button type="submit" class="primary" disabled=move || busy.get()>"Add"</button>
            </form>
            {move || invalid.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            {move || outcome.get().map(|o| match o {
                Ok(m) => view! { <p class="ok" role="status">{m}</p> }.into_any(),
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
            })}
            {move || {
                let mut listed: Vec<nightowl_api::rosters::CalendarOverride> = Vec::new();
                if let Some(Ok(cal)) = calendar.try_get().flatten() {
                    for o in cal.days.into_iter().flat_map(|d| d.overrides) {
                        if !listed.iter().any(|x| x.id == o.id) {
                            listed.push(o);
                        }
                    }
                }
                if listed.is_empty() {
                    view! { <p class="empty">"No overrides or leave in the period shown."</p> }.into_any()
                } else {
                    view! {
                        <ul class="overrides">
                            {listed.into_iter().map(|o| {
                                let id = o.id;
                                let remove = remove.clone();
                                let what = if o.kind == nightowl_api::rosters::OverrideKind::Leave { "away" } else { "covers" };
                                view! {
                                    <li>
                                        {format!("{} {what}: {} – {}", o.person.display_name, zoned(o.starts_at, None), zoned(o.ends_at, None))}
                                        {o.reason.map(|r| format!(" ({r})"))}" "
                                        <button type="button" class="link remove" on:click=move |_| remove(id)>"Remove"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

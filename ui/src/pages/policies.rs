//! Escalation policies: the list (each with a one-line summary of its tiers and what uses it), the
//! editor (tiers added, removed and reordered; channels from the server's list, installed plugins
//! included; targets by kind, person or roster; the API's validation messages beside their fields),
//! and the dry run drawn as a timeline.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use nightowl_api::Role;
use nightowl_api::admin::User;
use nightowl_api::escalation::{ChannelOption, DryRun, DryRunInput, EscalationPolicy, PolicyInput, Tier};
use nightowl_api::rosters::Roster;
use uuid::Uuid;

use crate::api::{self, ApiError};
use crate::app::{ErrorNote, FieldError, Session, use_unauthorized};
use crate::format::{from_local_input, zoned};

/// A target as people read it: `on-call primary`, `Ada (person)`, `Platform's primary (roster)`.
fn target_label(target: &str, users: &[User], rosters: &[Roster]) -> String {
    match target {
        "oncall_primary" => "on-call primary".into(),
        "oncall_secondary" => "on-call secondary".into(),
        "team_lead" => "team lead".into(),
        _ => match target.split_once(':') {
            Some(("user", id)) => users
                .iter()
                .find(|u| u.id.to_string() == id)
                .map(|u| u.display_name.clone())
                .unwrap_or_else(|| target.to_owned()),
            Some(("roster", id)) => rosters
                .iter()
                .find(|r| r.id.to_string() == id)
                .map(|r| format!("{}'s primary", r.name))
                .unwrap_or_else(|| target.to_owned()),
            _ => target.to_owned(),
        },
    }
}

/// "1: 5 min → on-call primary via slack_dm · 2: ..." for a policy's tiers.
fn summary(p: &EscalationPolicy, users: &[User], rosters: &[Roster]) -> String {
    let tiers: Vec<String> = p
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let targets: Vec<String> = t
                .targets
                .iter()
                .map(|x| target_label(x, users, rosters))
                .collect();
            format!(
                "{}: {} via {}, {} min",
                i + 1,
                targets.join(" + "),
                t.notify_via.join("/"),
                t.timeout_minutes
            )
        })
        .collect();
    let repeat = match p.repeat_count {
        0 => String::new(),
        n => format!(" · repeated {n}×"),
    };
    format!("{}{repeat}", tiers.join(" → "))
}

/// Whether the signed-in person may change policies.
fn may_edit() -> impl Fn() -> bool + Copy {
    let session = expect_context::<Session>();
    move || session.0.get().is_some_and(|i| i.role >= Role::Manager)
}

/// The policy list.
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let on_error = use_unauthorized();
    let may_edit = may_edit();
    let data = LocalResource::new(move || {
        let on_error = on_error.clone();
        async move {
            let policies = api::policies().await;
            if let Err(e) = &policies {
                on_error(e);
            }
            let rosters = api::rosters().await.unwrap_or_default();
            let services = api::services().await.map(|p| p.items).unwrap_or_default();
            let users = api::users().await.map(|p| p.items).unwrap_or_default();
            (policies, rosters, services, users)
        }
    });
    view! {
        <div class="title-row">
            <h1>"Escalation policies"</h1>
            {move || may_edit().then(|| view! { <a class="button" href="/policies/new">"New policy"</a> })}
        </div>
        {move || match data.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading policies…"</p> }.into_any(),
            Some((Err(e), ..)) => view! { <ErrorNote error=e/> }.into_any(),
            Some((Ok(p), ..)) if p.is_empty() => view! { <p class="empty">"No escalation policies yet."</p> }.into_any(),
            Some((Ok(policies), rosters, services, users)) => view! {
                <ul class="policies">
                    {policies.into_iter().map(|p| {
                        let using: Vec<&Roster> = rosters.iter().filter(|r| r.escalation_policy_id == Some(p.id)).collect();
                        let service_names: Vec<String> = services
                            .iter()
                            .filter(|s| s.roster_id.is_some_and(|r| using.iter().any(|u| u.id == r)))
                            .map(|s| s.name.clone())
                            .collect();
                        let roster_names: Vec<String> = using.iter().map(|r| r.name.clone()).collect();
                        let used = match (roster_names.is_empty(), service_names.is_empty()) {
                            (true, _) => "Used by no roster.".to_owned(),
                            (false, true) => format!("Rosters: {}.", roster_names.join(", ")),
                            (false, false) => format!("Rosters: {}. Services: {}.", roster_names.join(", "), service_names.join(", ")),
                        };
                        view! {
                            <li class="policy">
                                <a href=format!("/policies/{}", p.id)><strong>{p.name.clone()}</strong></a>
                                <p class="summary">{summary(&p, &users, &rosters)}</p>
                                <p class="meta used-by">{used}</p>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
        }}
    }
}

/// A tier as the editor holds it: each field its own signal, so typing re-renders nothing else and
/// reordering moves the tier's elements instead of rebuilding them.
#[derive(Clone, Copy)]
struct TierDraft {
    key: u32,
    timeout: RwSignal<String>,
    via: RwSignal<Vec<String>>,
    targets: RwSignal<Vec<String>>,
}

impl TierDraft {
    fn new(key: u32, tier: &Tier) -> TierDraft {
        TierDraft {
            key,
            timeout: RwSignal::new(tier.timeout_minutes.to_string()),
            via: RwSignal::new(tier.notify_via.clone()),
            targets: RwSignal::new(tier.targets.clone()),
        }
    }

    fn tier(&self) -> Tier {
        Tier {
            // A number the API refuses (0) when the field is not a number: its message says why.
            timeout_minutes: self.timeout.get_untracked().trim().parse().unwrap_or(0),
            notify_via: self.via.get_untracked(),
            targets: self.targets.get_untracked(),
        }
    }
}

/// Creating (`/policies/new`) or editing (`/policies/:id`) a policy, with its dry run.
#[component]
pub fn PolicyPage() -> impl IntoView {
    let params = use_params_map();
    let navigate = use_navigate();
    let on_error = use_unauthorized();
    let may_edit = may_edit();
    let existing = params
        .get_untracked()
        .get("id")
        .and_then(|id| id.parse::<Uuid>().ok());
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let repeat = RwSignal::new("0".to_owned());
    let tiers = RwSignal::new(Vec::<TierDraft>::new());
    let next_key = StoredValue::new(0u32);
    let add_tier = move |tier: &Tier| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        tiers.update(|t| t.push(TierDraft::new(key, tier)));
    };
    let loaded = RwSignal::new(existing.is_none());
    let load_error = RwSignal::new(None::<ApiError>);
    let context = LocalResource::new(move || async move {
        let channels = api::channels().await.unwrap_or_default();
        let users = api::users().await.map(|p| p.items).unwrap_or_default();
        let rosters = api::rosters().await.unwrap_or_default();
        (channels, users, rosters)
    });
    let on_load_error = on_error.clone();
    leptos::task::spawn_local(async move {
        match existing {
            Some(id) => match api::policy(&id.to_string()).await {
                Ok(p) => {
                    name.set(p.name.clone());
                    description.set(p.description.clone().unwrap_or_default());
                    repeat.set(p.repeat_count.to_string());
                    for t in &p.tiers {
                        add_tier(t);
                    }
                    loaded.set(true);
                }
                Err(e) => {
                    on_load_error(&e);
                    load_error.set(Some(e));
                }
            },
            // The channels are the author's to choose: which ones deliver depends on the plugins.
            None => add_tier(&Tier {
                timeout_minutes: 15,
                notify_via: Vec::new(),
                targets: vec!["oncall_primary".into()],
            }),
        }
    });
    let error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(None::<EscalationPolicy>);
    let busy = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = PolicyInput {
            name: name.get_untracked().trim().to_owned(),
            description: Some(description.get_untracked()).filter(|d| !d.trim().is_empty()),
            tiers: tiers.get_untracked().iter().map(TierDraft::tier).collect(),
            repeat_count: repeat.get_untracked().trim().parse().unwrap_or(-1),
        };
        let navigate = navigate.clone();
        let on_error = on_error.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let done = match existing {
                Some(id) => api::update_policy(id, &input).await,
                None => api::create_policy(&input).await,
            };
            busy.set(false);
            match done {
                Ok(p) => {
                    error.set(None);
                    if existing.is_none() {
                        navigate(&format!("/policies/{}", p.id), Default::default());
                    }
                    saved.set(Some(p));
                }
                Err(e) => {
                    on_error(&e);
                    saved.set(None);
                    error.set(Some(e));
                }
            }
        });
    };
    let move_tier = move |index: usize, up: bool| {
        tiers.update(|t| {
            let other = if up { index.checked_sub(1) } else { Some(index + 1) };
            if let Some(other) = other.filter(|o| *o < t.len()) {
                t.swap(index, other);
            }
        });
    };
    let tier_rows = move || -> Vec<(usize, TierDraft)> { tiers.get().into_iter().enumerate().collect() };
    view! {
        <h1>{if existing.is_some() { "Escalation policy" } else { "New escalation policy" }}</h1>
        {move || load_error.get().map(|e| view! { <ErrorNote error=e/> })}
        {move || (!loaded.get() && load_error.with(Option::is_none)).then(|| view! { <p class="loading" aria-busy="true">"Loading…"</p> })}
        <form class="edit policy-form" on:submit=save hidden=move || !loaded.get()>
            <fieldset disabled=move || !may_edit()>
                <label for="p-name">"Name"</label>
                <input id="p-name" required maxlength="200" bind:value=name/>
                <FieldError error=error field="name"/>
                <label for="p-description">"Description"</label>
                <input id="p-description" maxlength="2000" bind:value=description/>
                <label for="p-repeat">"Repeat the tiers (0–10 more times)"</label>
                <input id="p-repeat" type="number" min="0" max="10" bind:value=repeat/>
                <FieldError error=error field="repeat_count"/>
                <h2>"Tiers"</h2>
                <FieldError error=error field="tiers"/>
                <ol class="tiers">
                    <For each=tier_rows
                        key=|(i, t)| (*i, t.key)
                        children=move |(index, tier)| {
                            let count = move || tiers.with(Vec::len);
                            let is_last = move || index + 1 == count();
                            let is_only = move || count() == 1;
                            view! {
                                <li class="tier" data-tier=index + 1>
                                    <div class="tier-head">
                                        <strong>{format!("Tier {}", index + 1)}</strong>
                                        <button type="button" class="link move-up" disabled=index == 0
                                            aria-label=format!("Move tier {} up", index + 1) on:click=move |_| move_tier(index, true)>"↑ Up"</button>
                                        <button type="button" class="link move-down" disabled=is_last
                                            aria-label=format!("Move tier {} down", index + 1) on:click=move |_| move_tier(index, false)>"↓ Down"</button>
                                        <button type="button" class="link remove-tier" disabled=is_only
                                            aria-label=format!("Remove tier {}", index + 1)
                                            on:click=move |_| tiers.update(|t| { t.remove(index); })>"Remove"</button>
                                    </div>
                                    <label for=format!("t{}-timeout", tier.key)>"Escalate after (minutes)"</label>
                                    <input id=format!("t{}-timeout", tier.key) class="timeout" type="number" min="1" max="1440" bind:value=tier.timeout/>
                                    <FieldError error=error field=format!("tiers[{index}].timeout_minutes")/>
                                    <TierChannels tier=tier context=context/>
                                    <FieldError error=error field=format!("tiers[{index}].notify_via")/>
                                    <TierTargets tier=tier context=context/>
                                    <FieldError error=error field=format!("tiers[{index}].targets")/>
                                </li>
                            }
                        }/>
                </ol>
                <button type="button" class="add-tier" on:click=move |_| add_tier(&Tier {
                    timeout_minutes: 15,
                    notify_via: Vec::new(),
                    targets: vec!["oncall_secondary".into()],
                })>"Add a tier"</button>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>"Save"</button>
                    <a href="/policies">"Back to policies"</a>
                </div>
            </fieldset>
            {move || saved.get().map(|_| view! { <p class="ok" role="status">"Saved."</p> })}
            {move || error.get().map(|e| view! { <ErrorNote error=e/> })}
        </form>
        {existing.map(|id| view! { <DryRunPanel policy=id context=context/> })}
    }
}

type Context = LocalResource<(Vec<ChannelOption>, Vec<User>, Vec<Roster>)>;

/// The channels of a tier: a checkbox per channel the server offers (plugins not installed shown,
/// and not choosable).
#[component]
fn TierChannels(tier: TierDraft, context: Context) -> impl IntoView {
    view! {
        <fieldset class="channels">
            <legend>"Notify through"</legend>
            {move || context.try_get().flatten().map(|(channels, ..)| channels.into_iter().map(|c| {
                let name = c.name.clone();
                let checked_name = name.clone();
                let id = format!("t{}-via-{}", tier.key, c.name);
                let label_for = id.clone();
                let note = if c.installed { String::new() } else { format!(" (plugin {} not installed)", c.plugin.unwrap_or_default()) };
                view! {
                    <label class="check" for=label_for title=c.description>
                        <input type="checkbox" id=id value=name.clone() disabled=!c.installed
                            prop:checked=move || tier.via.with(|v| v.contains(&checked_name))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                tier.via.update(|v| {
                                    v.retain(|x| *x != name);
                                    if on { v.push(name.clone()); }
                                });
                            }/>
                        {format!(" {}{note}", c.name)}
                    </label>
                }
            }).collect_view())}
        </fieldset>
    }
}

/// The targets of a tier: on-call primary, secondary and team lead as checkboxes; people and rosters
/// added from lists and shown with a remove button.
#[component]
fn TierTargets(tier: TierDraft, context: Context) -> impl IntoView {
    let toggle = move |target: &'static str, on: bool| {
        tier.targets.update(|t| {
            t.retain(|x| x != target);
            if on {
                t.push(target.to_owned());
            }
        });
    };
    let add = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if !value.is_empty() {
            tier.targets.update(|t| {
                if !t.contains(&value) {
                    t.push(value);
                }
            });
        }
    };
    view! {
        <fieldset class="targets">
            <legend>"Notify whom"</legend>
            {[("oncall_primary", "On-call primary"), ("oncall_secondary", "On-call secondary"), ("team_lead", "Team lead")]
                .map(|(target, label)| {
                    let id = format!("t{}-{target}", tier.key);
                    let label_for = id.clone();
                    view! {
                        <label class="check" for=label_for>
                            <input type="checkbox" id=id prop:checked=move || tier.targets.with(|t| t.iter().any(|x| x == target))
                                on:change=move |ev| toggle(target, event_target_checked(&ev))/>
                            {format!(" {label}")}
                        </label>
                    }
                }).collect_view()}
            {move || context.try_get().flatten().map(|(_, users, rosters)| {
                let chosen: Vec<String> = tier.targets.get().into_iter().filter(|t| t.contains(':')).collect();
                let person_id = format!("t{}-person", tier.key);
                let roster_id = format!("t{}-roster", tier.key);
                view! {
                    <ul class="chosen">
                        {chosen.into_iter().map(|t| {
                            let label = target_label(&t, &users, &rosters);
                            let aria = format!("Remove {label}");
                            view! {
                                <li>{label}" "
                                    <button type="button" class="link" aria-label=aria
                                        on:click=move |_| tier.targets.update(|x| x.retain(|y| *y != t))>"×"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <label for=person_id.clone()>"Add a person"</label>
                    <select id=person_id on:change=add prop:value="">
                        <option value="">"Choose…"</option>
                        {users.into_iter().filter(|u| u.is_active).map(|u| view! {
                            <option value=format!("user:{}", u.id)>{u.display_name}</option>
                        }).collect_view()}
                    </select>
                    <label for=roster_id.clone()>"Add a roster's primary"</label>
                    <select id=roster_id on:change=add prop:value="">
                        <option value="">"Choose…"</option>
                        {rosters.into_iter().map(|r| view! {
                            <option value=format!("roster:{}", r.id)>{r.name}</option>
                        }).collect_view()}
                    </select>
                }
            })}
        </fieldset>
    }
}

/// The dry run: a roster and a start, then the timeline of who would be notified when and how.
#[component]
fn DryRunPanel(policy: Uuid, context: Context) -> impl IntoView {
    let roster = RwSignal::new(String::new());
    let start = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<DryRun, ApiError>>);
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = DryRunInput {
            roster_id: roster.get_untracked().parse().ok(),
            start: from_local_input(&start.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            result.set(Some(api::dry_run(policy, &input).await));
        });
    };
    view! {
        <section class="dry-run" aria-labelledby="dry-run-title">
            <h2 id="dry-run-title">"Dry run"</h2>
            <p class="meta">"Who would be notified, when and how, for an alert that nobody acknowledges. Nobody is notified."</p>
            <form class="filters" on:submit=run>
                <label for="d-roster">"Roster"</label>
                <select id="d-roster" bind:value=roster>
                    <option value="">"The roster using this policy"</option>
                    {move || context.try_get().flatten().map(|(_, _, rosters)| rosters.into_iter().map(|r| view! {
                        <option value=r.id.to_string()>{r.name}</option>
                    }).collect_view())}
                </select>
                <label for="d-start">"Alert at (your time; empty: now)"</label>
                <input id="d-start" type="datetime-local" bind:value=start/>
                <button type="submit">"Run"</button>
            </form>
            {move || result.get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                Ok(run) => timeline(run).into_any(),
            })}
        </section>
    }
}

/// The dry run's steps on a line: each step placed by its minutes since the alert.
fn timeline(run: DryRun) -> impl IntoView {
    let last = run
        .steps
        .iter()
        .map(|s| s.after_minutes)
        .max()
        .unwrap_or(0)
        .max(1);
    view! {
        <ol class="timeline dry-run-steps" aria-label="Escalation timeline">
            {run.steps.into_iter().map(|s| {
                // Indented by its time since the alert, through the CSSOM (`style:`, which the page's CSP
                // allows; a style attribute it blocks).
                let at = format!("{}%", s.after_minutes * 60 / last);
                let recipients: Vec<String> = s.recipients.iter()
                    .map(|r| format!("{} via {}", r.display_name, r.channel))
                    .collect();
                view! {
                    <li class="step" data-tier=s.tier.get() data-after=s.after_minutes style:margin-left=at>
                        <span class="when">{format!("+{} min · {} · round {} · tier {}", s.after_minutes, zoned(s.at, None), s.round + 1, s.tier)}</span>
                        <span class="who">{if recipients.is_empty() { "nobody reachable".to_owned() } else { recipients.join(", ") }}</span>
                    </li>
                }
            }).collect_view()}
        </ol>
        <p class="meta">{format!("The policy is exhausted at {}.", zoned(run.exhausted_at, None))}</p>
    }
}

//! A roster's configuration: its settings (rotation, handoff, zone, dates, follow-the-sun partner,
//! escalation policy, team lead), its members in rotation order (reordered with buttons, so by
//! keyboard, or by dragging), and the iCal subscription link. Managers change them; others read them.

use chrono::{NaiveTime, Timelike};
use leptos::prelude::*;
use nightowl_api::Role;
use nightowl_api::admin::ApiKeyInput;
use nightowl_api::rosters::{Roster, RosterInput};
use uuid::Uuid;

use crate::api::{self, ApiError};
use crate::app::{ErrorNote, FieldError, Session};
use crate::format::{parse_ymd, ymd};

fn parse_hm(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    NaiveTime::from_hms_opt(h.parse().ok()?, m.get(..2)?.parse().ok()?, 0)
}

/// The configuration section of a roster page; `changed` reloads the page's data after a save.
#[component]
pub fn RosterConfig(roster: Roster, changed: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let session = expect_context::<Session>();
    let may_edit = move || session.0.get().is_some_and(|i| i.role >= Role::Manager);
    let is_admin = move || session.0.get().is_some_and(|i| i.role == Role::Admin);
    let id = roster.id;
    let text = |s: &str| RwSignal::new(s.to_owned());
    let name = text(&roster.name);
    let description = text(roster.description.as_deref().unwrap_or(""));
    let timezone = text(&roster.timezone);
    let rotation = text(roster.rotation_type.as_str());
    let length = text(&roster.rotation_length.to_string());
    let handoff = text(&format!(
        "{:02}:{:02}",
        roster.handoff_time.hour(),
        roster.handoff_time.minute()
    ));
    let start = text(&ymd(roster.start_date));
    let end = text(&roster.end_date.map(ymd).unwrap_or_default());
    let follow = RwSignal::new(roster.is_follow_the_sun);
    let partner = text(&roster.linked_roster_id.map(|u| u.to_string()).unwrap_or_default());
    let policy = text(
        &roster
            .escalation_policy_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
    );
    let lead = text(&roster.team_lead_id.map(|u| u.to_string()).unwrap_or_default());
    let members = RwSignal::new(
        roster
            .members
            .iter()
            .map(|m| (m.user_id, m.display_name.clone()))
            .collect::<Vec<_>>(),
    );
    let options = LocalResource::new(move || async move {
        let users = api::users().await.map(|p| p.items).unwrap_or_default();
        let rosters = api::rosters().await.unwrap_or_default();
        let policies = api::policies().await.unwrap_or_default();
        (users, rosters, policies)
    });
    let error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(None::<&'static str>);
    let uuid = |s: RwSignal<String>| s.get_untracked().parse::<Uuid>().ok();
    let on_saved = changed.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = RosterInput {
            name: name.get_untracked().trim().to_owned(),
            description: Some(description.get_untracked()).filter(|d| !d.trim().is_empty()),
            timezone: timezone.get_untracked().trim().to_owned(),
            rotation_type: rotation.get_untracked(),
            rotation_length: length.get_untracked().trim().parse().ok(),
            handoff_time: parse_hm(&handoff.get_untracked()).unwrap_or(NaiveTime::MIN),
            start_date: parse_ymd(&start.get_untracked()).unwrap_or_default(),
            end_date: parse_ymd(&end.get_untracked()),
            is_follow_the_sun: follow.get_untracked(),
            linked_roster_id: uuid(partner),
            escalation_policy_id: uuid(policy),
            team_lead_id: uuid(lead),
        };
        let changed = on_saved.clone();
        leptos::task::spawn_local(async move {
            match api::update_roster(id, &input).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(Some("Settings saved."));
                    changed();
                }
                Err(e) => {
                    saved.set(None);
                    error.set(Some(e));
                }
            }
        });
    };
    let save_members = move |_| {
        let ids: Vec<Uuid> = members.get_untracked().iter().map(|(u, _)| *u).collect();
        let changed = changed.clone();
        leptos::task::spawn_local(async move {
            match api::set_roster_members(id, &ids).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(Some("Members saved."));
                    changed();
                }
                Err(e) => {
                    saved.set(None);
                    error.set(Some(e));
                }
            }
        });
    };
    let shift = move |from: usize, to: usize| {
        members.update(|m| {
            if from < m.len() && to < m.len() {
                let moved = m.remove(from);
                m.insert(to, moved);
            }
        });
    };
    let dragging = StoredValue::new(None::<usize>);
    let feed = RwSignal::new(None::<String>);
    let roster_name = roster.name.clone();
    let make_feed = move |_| {
        let input = ApiKeyInput {
            name: format!("iCal: {roster_name}"),
            role: Role::Readonly,
            scopes: vec!["read".into()],
            expires_at: None,
        };
        leptos::task::spawn_local(async move {
            match api::create_api_key(&input).await {
                Ok(k) => {
                    let origin = leptos::prelude::window().location().origin().unwrap_or_default();
                    feed.set(Some(format!(
                        "{origin}/api/v1/rosters/{id}/export.ics?key={}",
                        k.key
                    )));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let copy_feed = move |_| {
        if let Some(url) = feed.get_untracked() {
            let _ = leptos::prelude::window().navigator().clipboard().write_text(&url);
            saved.set(Some("Link copied."));
        }
    };
    view! {
        <section class="roster-config" aria-labelledby="config-title">
            <h2 id="config-title">"Configuration"</h2>
            <form class="edit roster-settings" on:submit=save>
                <fieldset disabled=move || !may_edit()>
                    <label for="r-name">"Name"</label>
                    <input id="r-name" required bind:value=name/>
                    <FieldError error=error field="name"/>
                    <label for="r-description">"Description"</label>
                    <input id="r-description" bind:value=description/>
                    <label for="r-zone">"Time zone (IANA)"</label>
                    <input id="r-zone" bind:value=timezone/>
                    <FieldError error=error field="timezone"/>
                    <label for="r-rotation">"Rotation"</label>
                    <select id="r-rotation" bind:value=rotation>
                        <option value="daily">"Daily"</option>
                        <option value="weekly">"Weekly"</option>
                        <option value="custom">"Every n days"</option>
                    </select>
                    <Show when=move || rotation.get() == "custom">
                        <label for="r-length">"Days per shift"</label>
                        <input id="r-length" type="number" min="1" max="366" bind:value=length/>
                    </Show>
                    <FieldError error=error field="rotation_length"/>
                    <label for="r-handoff">"Handoff time (the roster's clock)"</label>
                    <input id="r-handoff" type="time" bind:value=handoff/>
                    <label for="r-start">"First shift on"</label>
                    <input id="r-start" type="date" bind:value=start/>
                    <label for="r-end">"Last day (empty: runs on)"</label>
                    <input id="r-end" type="date" bind:value=end/>
                    <FieldError error=error field="end_date"/>
                    <label class="check" for="r-follow">
                        <input id="r-follow" type="checkbox" bind:checked=follow/>" Follow-the-sun with a partner roster"
                    </label>
                    <label for="r-partner">"Partner roster"</label>
                    <select id="r-partner" bind:value=partner>
                        <option value="">"None"</option>
                        {move || options.try_get().flatten().map(|(_, rosters, _)| rosters.into_iter().filter(|r| r.id != id).map(|r| view! {
                            <option value=r.id.to_string()>{r.name}</option>
                        }).collect_view())}
                    </select>
                    <FieldError error=error field="linked_roster_id"/>
                    <label for="r-policy">"Escalation policy"</label>
                    <select id="r-policy" bind:value=policy>
                        <option value="">"None"</option>
                        {move || options.try_get().flatten().map(|(_, _, policies)| policies.into_iter().map(|p| view! {
                            <option value=p.id.to_string()>{p.name}</option>
                        }).collect_view())}
                    </select>
                    <label for="r-lead">"Team lead"</label>
                    <select id="r-lead" bind:value=lead>
                        <option value="">"None"</option>
                        {move || options.try_get().flatten().map(|(users, _, _)| users.into_iter().map(|u| view! {
                            <option value=u.id.to_string()>{u.display_name}</option>
                        }).collect_view())}
                    </select>
                    <div class="actions"><button type="submit" class="primary">"Save settings"</button></div>
                </fieldset>
            </form>
            <h3 id="members-title">"Members, in rotation order"</h3>
            <fieldset class="members-editor" disabled=move || !may_edit()>
                <ol class="members" aria-labelledby="members-title">
                    {move || {
                        let list = members.get();
                        let count = list.len();
                        list.into_iter().enumerate().map(|(i, (user, who))| {
                            let up = format!("Move {who} up");
                            let down = format!("Move {who} down");
                            let remove = format!("Remove {who}");
                            view! {
                                <li class="member" draggable=move || if may_edit() { "true" } else { "false" } data-user=user.to_string()
                                    on:dragstart=move |_| dragging.set_value(Some(i))
                                    on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                                    on:drop=move |ev: leptos::ev::DragEvent| {
                                        ev.prevent_default();
                                        if let Some(from) = dragging.get_value() {
                                            shift(from, i);
                                        }
                                        dragging.set_value(None);
                                    }>
                                    <span class="handle" aria-hidden="true">"⠿"</span>
                                    <span class="name">{who}</span>
                                    <button type="button" class="link" aria-label=up disabled=i == 0
                                        on:click=move |_| shift(i, i.saturating_sub(1))>"↑"</button>
                                    <button type="button" class="link" aria-label=down disabled=i + 1 == count
                                        on:click=move |_| shift(i, i + 1)>"↓"</button>
                                    <button type="button" class="link" aria-label=remove
                                        on:click=move |_| members.update(|m| { m.remove(i); })>"Remove"</button>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ol>
                <label for="r-add-member">"Add a member"</label>
                <select id="r-add-member" prop:value="" on:change=move |ev| {
                    let value = event_target_value(&ev);
                    let found = options.try_get().flatten().and_then(|(users, ..)| {
                        users.into_iter().find(|u| u.id.to_string() == value).map(|u| (u.id, u.display_name))
                    });
                    if let Some((user, who)) = found {
                        members.update(|m| if !m.iter().any(|(u, _)| *u == user) { m.push((user, who)); });
                    }
                }>
                    <option value="">"Choose…"</option>
                    {move || options.try_get().flatten().map(|(users, ..)| users.into_iter().filter(|u| u.is_active).map(|u| view! {
                        <option value=u.id.to_string()>{u.display_name}</option>
                    }).collect_view())}
                </select>
                <button type="button" class="primary save-members" on:click=save_members>"Save members"</button>
            </fieldset>
            {move || saved.get().map(|m| view! { <p class="ok" role="status">{m}</p> })}
            {move || error.get().map(|e| view! { <ErrorNote error=e/> })}
            <h3>"Calendar subscription"</h3>
            {move || match (feed.get(), is_admin()) {
                (Some(url), _) => view! {
                    <p class="feed"><code>{url}</code>" "<button type="button" on:click=copy_feed>"Copy"</button></p>
                    <p class="meta">"A read-only key in the link: anyone holding it can read the rosters. Revoke it under Admin → API keys."</p>
                }.into_any(),
                (None, true) => {
                    let make_feed = make_feed.clone();
                    view! {
                        <button type="button" class="make-feed" on:click=make_feed>"Create an iCal subscription link"</button>
                    }.into_any()
                }
                (None, false) => view! {
                    <p class="meta">"An admin can create an iCal subscription link (it holds a read-only key)."</p>
                }.into_any(),
            }}
        </section>
    }
}

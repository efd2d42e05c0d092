//! Administration: users, API keys, plugins and their settings, and the audit log. Every refusal
//! (the last admin, a 403) shows the API's message; secrets are shown only as "configured, ends in …"
//! and never come back to the browser.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use nightowl_api::Role;
use nightowl_api::admin::{ApiKeyInput, AuditRecord, PluginConfigInput, PluginSetting, User, UserInput};

use crate::api::{self, ApiError};
use crate::app::{ErrorNote, FieldError, Session, use_unauthorized};
use crate::format::{Time, from_local_input};

/// The admin pages' tabs.
#[component]
fn Tabs() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Administration">
            <a href="/admin/users">"Users"</a>
            <a href="/admin/api-keys">"API keys"</a>
            <a href="/admin/plugins">"Plugins"</a>
            <a href="/admin/audit">"Audit log"</a>
            <a href="/admin/settings">"Settings"</a>
        </nav>
    }
}

/// Whether the signed-in person is an admin (the only role the admin API answers): others see no form.
fn is_admin() -> impl Fn() -> bool + Copy {
    let session = expect_context::<Session>();
    move || session.0.get().is_some_and(|i| i.role == Role::Admin)
}

/// What an action came to: a confirmation or the API's error.
fn outcome_view(outcome: RwSignal<Option<Result<String, ApiError>>>) -> impl IntoView {
    move || {
        outcome.get().map(|o| match o {
            Ok(m) => view! { <p class="ok" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <ErrorNote error=e/> }.into_any(),
        })
    }
}

fn input_of(u: &User) -> UserInput {
    UserInput {
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        role: u.role,
        timezone: u.timezone.clone(),
        phone: u.phone.clone(),
        slack_user_id: u.slack_user_id.clone(),
        password: None,
        is_active: u.is_active,
    }
}

/// Users: create, change role, deactivate and activate.
#[component]
pub fn UsersPage() -> impl IntoView {
    let on_error = use_unauthorized();
    let version = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        version.track();
        let on_error = on_error.clone();
        async move {
            let users = api::users().await;
            if let Err(e) = &users {
                on_error(e);
            }
            users.map(|p| p.items)
        }
    });
    let outcome = RwSignal::new(None::<Result<String, ApiError>>);
    let done = move |result: Result<String, ApiError>| {
        if result.is_ok() {
            version.update(|v| *v += 1);
        }
        outcome.set(Some(result));
    };
    let (email, name, role, zone, phone, slack) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("engineer".to_owned()),
        RwSignal::new("UTC".to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    // The user being edited (their fields as they were), and the fields being typed.
    let editing = RwSignal::new(None::<(uuid::Uuid, UserInput)>);
    let (e_name, e_zone, e_phone, e_slack, e_password) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let edit = move |id: uuid::Uuid, input: UserInput| {
        e_name.set(input.display_name.clone());
        e_zone.set(input.timezone.clone());
        e_phone.set(input.phone.clone().unwrap_or_default());
        e_slack.set(input.slack_user_id.clone().unwrap_or_default());
        e_password.set(String::new());
        editing.set(Some((id, input)));
    };
    let save_edit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some((id, mut input)) = editing.get_untracked() else {
            return;
        };
        let optional =
            |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty());
        input.display_name = e_name.get_untracked().trim().to_owned();
        input.timezone = e_zone.get_untracked().trim().to_owned();
        input.phone = optional(e_phone);
        input.slack_user_id = optional(e_slack);
        input.password = Some(e_password.get_untracked()).filter(|p| !p.is_empty());
        leptos::task::spawn_local(async move {
            let result = api::update_user(id, &input).await;
            if result.is_ok() {
                editing.set(None);
            }
            done(result.map(|u| format!("{} was saved.", u.display_name)));
        });
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let optional =
            |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty());
        let input = UserInput {
            email: email.get_untracked().trim().to_owned(),
            display_name: name.get_untracked().trim().to_owned(),
            role: Role::parse(&role.get_untracked()).unwrap_or(Role::Readonly),
            timezone: zone.get_untracked().trim().to_owned(),
            phone: optional(phone),
            slack_user_id: optional(slack),
            password: None,
            is_active: true,
        };
        leptos::task::spawn_local(async move {
            let result = api::create_user(&input).await;
            if result.is_ok() {
                email.set(String::new());
                name.set(String::new());
            }
            done(result.map(|u| format!("{} was created.", u.display_name)));
        });
    };
    view! {
        <h1>"Users"</h1>
        <Tabs/>
        <Show when=is_admin()>
        <form class="filters create-user" on:submit=create>
            <label for="u-email">"E-mail"</label>
            <input id="u-email" type="email" required bind:value=email/>
            <label for="u-name">"Name"</label>
            <input id="u-name" required bind:value=name/>
            <label for="u-role">"Role"</label>
            <select id="u-role" bind:value=role>
                {Role::ALL.map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
            </select>
            <label for="u-zone">"Time zone"</label>
            <input id="u-zone" bind:value=zone/>
            <label for="u-phone">"Phone"</label>
            <input id="u-phone" placeholder="+4915112345678" bind:value=phone/>
            <label for="u-slack">"Slack id"</label>
            <input id="u-slack" placeholder="U0123ABC" bind:value=slack/>
            <button type="submit" class="primary">"Create user"</button>
        </form>
        </Show>
        {move || editing.get().map(|(_, was)| view! {
            <form class="edit edit-user" on:submit=save_edit aria-label=format!("Edit {}", was.email)>
                <h2>{format!("Edit {}", was.email)}</h2>
                <label for="e-name">"Name"</label>
                <input id="e-name" required bind:value=e_name/>
                <label for="e-zone">"Time zone (IANA)"</label>
                <input id="e-zone" bind:value=e_zone/>
                <label for="e-phone">"Phone (E.164)"</label>
                <input id="e-phone" bind:value=e_phone/>
                <label for="e-slack">"Slack member id"</label>
                <input id="e-slack" bind:value=e_slack/>
                <label for="e-password">"New password (empty: unchanged; at least 12 characters)"</label>
                <input id="e-password" type="password" autocomplete="new-password" bind:value=e_password/>
                <div class="actions">
                    <button type="submit" class="primary">"Save user"</button>
                    <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                </div>
            </form>
        })}
        {outcome_view(outcome)}
        {move || match users.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading users…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(list)) => {
                let admin = is_admin()();
                view! {
                <table class="users">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"E-mail"</th><th scope="col">"Role"</th>
                        <th scope="col">"Time zone"</th><th scope="col">"Phone"</th><th scope="col">"Slack"</th>
                        <th scope="col">"Status"</th><th scope="col">"Actions"</th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|u| {
                            let id = u.id;
                            let input = input_of(&u);
                            let role_id = format!("role-{id}");
                            let label = format!("Role of {}", u.display_name);
                            let action = if u.is_active { "Deactivate" } else { "Activate" };
                            let action_label = format!("{action} {}", u.display_name);
                            let activate = !u.is_active;
                            let name = u.display_name.clone();
                            view! {
                                <tr data-email=u.email.clone()>
                                    <td>{u.display_name.clone()}</td>
                                    <td>{u.email.clone()}</td>
                                    <td>
                                        {if !admin { u.role.as_str().into_any() } else { view! {
                                        <select id=role_id aria-label=label prop:value=u.role.as_str() on:change=move |ev| {
                                            let mut input = input.clone();
                                            input.role = Role::parse(&event_target_value(&ev)).unwrap_or(input.role);
                                            let name = input.display_name.clone();
                                            leptos::task::spawn_local(async move {
                                                let result = api::update_user(id, &input).await;
                                                done(result.map(|u| format!("{name} is now {}.", u.role)));
                                            });
                                        }>
                                            {Role::ALL.map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                                        </select>
                                        }.into_any() }}
                                    </td>
                                    <td>{u.timezone.clone()}</td>
                                    <td>{u.phone.clone().unwrap_or_default()}</td>
                                    <td>{u.slack_user_id.clone().unwrap_or_default()}</td>
                                    <td class="status">{if u.is_active { "active" } else { "deactivated" }}</td>
                                    <td>
                                        {admin.then(|| {
                                            let (input, label) = (input_of(&u), format!("Edit {}", u.display_name));
                                            view! {
                                                <button type="button" aria-label=label on:click=move |_| edit(id, input.clone())>"Edit"</button>" "
                                            }
                                        })}
                                        {admin.then(|| view! {
                                        <button type="button" aria-label=action_label on:click=move |_| {
                                            let name = name.clone();
                                            leptos::task::spawn_local(async move {
                                                let result = api::set_user_active(id, activate).await;
                                                let what = if activate { "activated" } else { "deactivated" };
                                                done(result.map(|_| format!("{name} was {what}.")));
                                            });
                                        }>{action}</button>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                }.into_any()
            }
        }}
    }
}

/// API keys: create (the key shown once, with a copy button), list, revoke.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let on_error = use_unauthorized();
    let version = RwSignal::new(0u32);
    let keys = LocalResource::new(move || {
        version.track();
        let on_error = on_error.clone();
        async move {
            let keys = api::api_keys().await;
            if let Err(e) = &keys {
                on_error(e);
            }
            keys.map(|p| p.items)
        }
    });
    let outcome = RwSignal::new(None::<Result<String, ApiError>>);
    let created = RwSignal::new(None::<String>);
    let (name, role, expires) = (
        RwSignal::new(String::new()),
        RwSignal::new("readonly".to_owned()),
        RwSignal::new(String::new()),
    );
    let scopes = RwSignal::new(Vec::<String>::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let expires_at = from_local_input(&expires.get_untracked());
        let input = ApiKeyInput {
            name: name.get_untracked().trim().to_owned(),
            role: Role::parse(&role.get_untracked()).unwrap_or(Role::Readonly),
            scopes: scopes.get_untracked(),
            expires_at,
        };
        leptos::task::spawn_local(async move {
            match api::create_api_key(&input).await {
                Ok(k) => {
                    created.set(Some(k.key));
                    name.set(String::new());
                    outcome.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => outcome.set(Some(Err(e))),
            }
        });
    };
    let copy = move |_| {
        if let Some(key) = created.get_untracked() {
            let clipboard = leptos::prelude::window().navigator().clipboard();
            let _ = clipboard.write_text(&key);
            outcome.set(Some(Ok("Copied to the clipboard.".into())));
        }
    };
    view! {
        <h1>"API keys"</h1>
        <Tabs/>
        <Show when=is_admin()>
        <form class="filters create-key" on:submit=create>
            <label for="k-name">"Name"</label>
            <input id="k-name" required maxlength="200" bind:value=name/>
            <label for="k-role">"Role"</label>
            <select id="k-role" bind:value=role>
                {Role::ALL.map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
            </select>
            <fieldset class="scopes">
                <legend>"Scopes"</legend>
                {nightowl_api::admin::API_KEY_SCOPES.map(|scope| {
                    let id = format!("k-scope-{scope}");
                    let label_for = id.clone();
                    view! {
                        <label class="check" for=label_for>
                            <input type="checkbox" id=id on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                scopes.update(|s| { s.retain(|x| x != scope); if on { s.push(scope.to_owned()); } });
                            }/>
                            {format!(" {scope}")}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <label for="k-expires">"Expires (your time; empty: never)"</label>
            <input id="k-expires" type="datetime-local" bind:value=expires/>
            <button type="submit" class="primary">"Create key"</button>
        </form>
        </Show>
        {move || created.get().map(|key| view! {
            <div class="new-key" role="status">
                <p>"The new key. Store it now: it is shown this once."</p>
                <code class="key">{key}</code>" "
                <button type="button" on:click=copy>"Copy"</button>
            </div>
        })}
        {outcome_view(outcome)}
        {move || match keys.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading keys…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p class="empty">"No API keys."</p> }.into_any(),
            Some(Ok(list)) => view! {
                <table class="api-keys">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Role"</th>
                        <th scope="col">"Scopes"</th><th scope="col">"Expires"</th><th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|k| {
                            let id = k.id;
                            let revoke_label = format!("Revoke {}", k.name);
                            let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                            view! {
                                <tr data-name=k.name.clone()>
                                    <td>{k.name.clone()}</td>
                                    <td><code>{format!("{}…", k.prefix)}</code></td>
                                    <td>{k.role.as_str()}</td>
                                    <td>{if scopes.is_empty() { "all".to_owned() } else { scopes.join(", ") }}</td>
                                    <td>{k.expires_at.map(|t| view! { <Time at=t/> }.into_any()).unwrap_or_else(|| "never".into_any())}</td>
                                    <td>{k.last_used_at.map(|t| view! { <Time at=t/> }.into_any()).unwrap_or_else(|| "never".into_any())}</td>
                                    <td>{match k.revoked_at {
                                        Some(t) => view! { "revoked "<Time at=t/> }.into_any(),
                                        None => view! {
                                            <button type="button" aria-label=revoke_label on:click=move |_| {
                                                leptos::task::spawn_local(async move {
                                                    let result = api::revoke_api_key(id).await;
                                                    if result.is_ok() {
                                                        version.update(|v| *v += 1);
                                                    }
                                                    outcome.set(Some(result.map(|k| format!("{} was revoked.", k.name))));
                                                });
                                            }>"Revoke"</button>
                                        }.into_any(),
                                    }}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// Installed plugins: id, version, kind, capabilities, faults, the webhook URL of sources; each one's
/// settings form.
#[component]
pub fn PluginsPage() -> impl IntoView {
    let on_error = use_unauthorized();
    let list = LocalResource::new(move || {
        let on_error = on_error.clone();
        async move {
            let list = api::plugins().await;
            if let Err(e) = &list {
                on_error(e);
            }
            list
        }
    });
    view! {
        <h1>"Plugins"</h1>
        <Tabs/>
        {move || match list.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading plugins…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(list)) => view! {
                <table class="plugins">
                    <thead><tr>
                        <th scope="col">"Plugin"</th><th scope="col">"Version"</th><th scope="col">"Kind"</th>
                        <th scope="col">"Capabilities"</th><th scope="col">"Faults"</th><th scope="col">"Webhook URL"</th>
                    </tr></thead>
                    <tbody>
                        {list.plugins.into_iter().map(|p| {
                            let faults: Vec<String> = p.faults.iter().map(|(k, n)| format!("{k} {n}")).collect();
                            view! {
                                <tr data-plugin=p.id.clone()>
                                    <td><a href=format!("/admin/plugins/{}", p.id)>{p.name.clone()}</a>
                                        <span class="meta">{format!(" ({})", p.id)}</span>
                                        {p.error.map(|e| view! { <p class="error">{e}</p> })}
                                    </td>
                                    <td>{p.version}</td>
                                    <td>{p.kind}</td>
                                    <td>{p.capabilities.join(", ")}</td>
                                    <td>{if faults.is_empty() { "none".to_owned() } else { faults.join(", ") }}</td>
                                    <td>{p.webhook_url.map(|u| view! { <code>{u}</code> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                {(!list.failed.is_empty()).then(|| view! {
                    <h2>"Did not load"</h2>
                    <ul>{list.failed.into_iter().map(|f| view! { <li><code>{f.directory}</code>": "{f.error}</li> }).collect_view()}</ul>
                })}
            }.into_any(),
        }}
    }
}

/// One plugin's settings, the form generated from its manifest. A secret shows only whether it is set
/// and how it ends; typing a new value replaces it, and the value never comes back.
#[component]
pub fn PluginSettingsPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.get_untracked().get("id").unwrap_or_default();
    let on_error = use_unauthorized();
    let version = RwSignal::new(0u32);
    let plugin = id.clone();
    let config = LocalResource::new(move || {
        version.track();
        let (plugin, on_error) = (plugin.clone(), on_error.clone());
        async move {
            let config = api::plugin_config(&plugin).await;
            if let Err(e) = &config {
                on_error(e);
            }
            config
        }
    });
    let outcome = RwSignal::new(None::<Result<String, ApiError>>);
    view! {
        <h1>{format!("Settings of {id}")}</h1>
        <Tabs/>
        {move || match config.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading settings…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(c)) if c.settings.is_empty() => view! { <p class="empty">"This plugin has no settings."</p> }.into_any(),
            Some(Ok(c)) => {
                let fields: Vec<(PluginSetting, RwSignal<String>)> = c
                    .settings
                    .into_iter()
                    .map(|s| {
                        let value = if s.secret { String::new() } else { s.value.clone().unwrap_or_default() };
                        (s, RwSignal::new(value))
                    })
                    .collect();
                let plugin = c.plugin.clone();
                let to_save = fields.clone();
                let save = move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    // Plain values as typed (empty clears); a secret only when a new one was typed.
                    let settings = to_save
                        .iter()
                        .filter_map(|(s, v)| {
                            let v = v.get_untracked();
                            match (s.secret, v.is_empty()) {
                                (true, true) => None,
                                (_, true) => Some((s.key.clone(), None)),
                                (_, false) => Some((s.key.clone(), Some(v))),
                            }
                        })
                        .collect();
                    let plugin = plugin.clone();
                    leptos::task::spawn_local(async move {
                        let result = api::set_plugin_config(&plugin, &PluginConfigInput { settings }).await;
                        if result.is_ok() {
                            version.update(|v| *v += 1);
                        }
                        outcome.set(Some(result.map(|_| "Saved.".to_owned())));
                    });
                };
                view! {
                    {(!c.missing.is_empty()).then(|| view! {
                        <p class="error">{format!("Required and not set: {}.", c.missing.join(", "))}</p>
                    })}
                    <form class="edit plugin-settings" on:submit=save>
                        {fields.into_iter().map(|(s, value)| {
                            let input_id = format!("s-{}", s.key);
                            let label_for = input_id.clone();
                            let status = s.status.clone().map(|st| match (st.configured, st.last4) {
                                (true, Some(last)) => format!("configured, ends in {last}"),
                                (true, None) => "configured".to_owned(),
                                _ => "not set".to_owned(),
                            });
                            let kind = if s.secret { "password" } else { "text" };
                            let placeholder = if s.secret { "type a new value to replace it" } else { s.default.as_deref().unwrap_or("") }.to_owned();
                            view! {
                                <label for=label_for>{s.label.clone()}{s.required.then_some(" (required)")}</label>
                                <input id=input_id type=kind autocomplete="off" placeholder=placeholder bind:value=value/>
                                {status.map(|st| view! { <p class="meta secret-status" data-key=s.key.clone()>{st}</p> })}
                                {(!s.description.is_empty()).then(|| view! { <p class="meta">{s.description.clone()}</p> })}
                            }
                        }).collect_view()}
                        <div class="actions"><button type="submit" class="primary">"Save settings"</button></div>
                    </form>
                }.into_any()
            }
        }}
        {outcome_view(outcome)}
    }
}

/// The audit log, filterable by actor, resource, action and time range (all in the URL).
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let on_error = use_unauthorized();
    let keys = ["q", "actor", "resource_type", "action", "since", "until"];
    let current = Memo::new(move |_| {
        let q = query.get();
        keys.map(|k| q.get(k).unwrap_or_default())
    });
    let records = LocalResource::new(move || {
        let values = current.get();
        let on_error = on_error.clone();
        async move {
            let pairs: Vec<(&str, Option<String>)> = keys
                .iter()
                .zip(values)
                .map(|(k, v)| {
                    // The range is typed on the viewer's clock; the API takes instants.
                    let v = if *k == "since" || *k == "until" {
                        let d = from_local_input(&v)
                            .map(|t| js_sys::Date::new(&(t.timestamp_millis() as f64).into()));
                        d.map(|d| String::from(d.to_iso_string()))
                    } else {
                        Some(v)
                    };
                    (*k, v)
                })
                .collect();
            let refs: Vec<(&str, &Option<String>)> = pairs.iter().map(|(k, v)| (*k, v)).collect();
            let result = api::audit_log(&api::query(&refs)).await;
            if let Err(e) = &result {
                on_error(e);
            }
            result
        }
    });
    let fields = keys.map(|_| RwSignal::new(String::new()));
    Effect::new(move |_| {
        for (field, value) in fields.iter().zip(current.get()) {
            field.set(value);
        }
    });
    let filter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let values: Vec<Option<String>> = fields.iter().map(|f| Some(f.get_untracked())).collect();
        let refs: Vec<(&str, &Option<String>)> = keys.iter().copied().zip(values.iter()).collect();
        navigate(&format!("/admin/audit?{}", api::query(&refs)), Default::default());
    };
    view! {
        <h1>"Audit log"</h1>
        <Tabs/>
        <form class="filters audit-filters" role="search" on:submit=filter>
            <label for="a-q">"Search"</label>
            <input id="a-q" type="search" placeholder="words in the entry" bind:value=fields[0]/>
            <label for="a-actor">"Actor"</label>
            <input id="a-actor" placeholder="e-mail or key:prefix" bind:value=fields[1]/>
            <label for="a-resource">"Resource"</label>
            <input id="a-resource" placeholder="e.g. users, rosters" bind:value=fields[2]/>
            <label for="a-action">"Action"</label>
            <input id="a-action" placeholder="e.g. create, update" bind:value=fields[3]/>
            <label for="a-since">"From"</label>
            <input id="a-since" type="datetime-local" bind:value=fields[4]/>
            <label for="a-until">"Until"</label>
            <input id="a-until" type="datetime-local" bind:value=fields[5]/>
            <button type="submit">"Filter"</button>
        </form>
        {move || match records.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading the audit log…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(page)) if page.items.is_empty() => view! { <p class="empty">"No entries match."</p> }.into_any(),
            Some(Ok(page)) => view! {
                <table class="audit">
                    <thead><tr>
                        <th scope="col">"When"</th><th scope="col">"Actor"</th><th scope="col">"Action"</th>
                        <th scope="col">"Resource"</th><th scope="col">"Change"</th>
                    </tr></thead>
                    <tbody>{page.items.into_iter().map(audit_row).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

fn audit_row(r: AuditRecord) -> impl IntoView {
    let resource = match &r.resource_id {
        Some(id) => format!("{} {id}", r.resource_type),
        None => r.resource_type.clone(),
    };
    view! {
        <tr class="audit-entry" data-action=r.action.clone() data-resource=r.resource_type.clone()>
            <td><Time at=r.created_at/></td>
            <td class="actor">{r.actor_label.clone().unwrap_or_else(|| r.actor_type.to_string())}</td>
            <td>{r.action.clone()}</td>
            <td>{resource}</td>
            <td>{r.diff.map(|d| view! { <Diff diff=d/> })}</td>
        </tr>
    }
}

/// A recorded change, readable: what was sent (secrets come redacted), one field per line; nested
/// objects one level down as `parent.field`.
#[component]
fn Diff(diff: serde_json::Value) -> impl IntoView {
    let text = crate::format::value_text;
    let mut rows: Vec<(String, String)> = Vec::new();
    match diff.as_object() {
        Some(map) => {
            for (k, v) in map {
                match v.as_object() {
                    Some(inner) if k == "request" => {
                        rows.extend(inner.iter().map(|(f, x)| (f.clone(), text(x))));
                    }
                    Some(inner) => {
                        rows.extend(inner.iter().map(|(f, x)| (format!("{k}.{f}"), text(x))));
                    }
                    None => rows.push((k.clone(), text(v))),
                }
            }
        }
        None => rows.push((String::new(), text(&diff))),
    }
    view! {
        <dl class="diff">
            {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
        </dl>
    }
}

/// The tenant's settings: default time zone and roster, retention, and the least interval between two
/// pages to one person per channel.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let on_error = use_unauthorized();
    let zone = RwSignal::new(String::new());
    let roster = RwSignal::new(String::new());
    let retention = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let sms = RwSignal::new(String::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(false);
    let rosters = LocalResource::new(move || async move { api::rosters().await.unwrap_or_default() });
    let fill = move |c: nightowl_api::admin::TenantConfig| {
        zone.set(c.default_timezone);
        roster.set(c.default_roster_id.map(|u| u.to_string()).unwrap_or_default());
        retention.set(c.retention_days.to_string());
        let interval = |k: &str| {
            c.page_interval_secs
                .get(k)
                .map(u32::to_string)
                .unwrap_or_default()
        };
        phone.set(interval("phone"));
        sms.set(interval("sms"));
        loaded.set(true);
    };
    leptos::task::spawn_local(async move {
        match api::tenant_config().await {
            Ok(c) => fill(c),
            Err(e) => {
                on_error(&e);
                error.set(Some(e));
            }
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut intervals = std::collections::BTreeMap::new();
        for (channel, value) in [("phone", phone), ("sms", sms)] {
            if let Ok(secs) = value.get_untracked().trim().parse::<u32>() {
                intervals.insert(channel.to_owned(), secs);
            }
        }
        let input = nightowl_api::admin::TenantConfigInput {
            default_timezone: zone.get_untracked().trim().to_owned(),
            retention_days: retention.get_untracked().trim().parse().unwrap_or(0),
            default_roster_id: roster.get_untracked().parse().ok(),
            page_interval_secs: intervals,
        };
        leptos::task::spawn_local(async move {
            match api::set_tenant_config(&input).await {
                Ok(c) => {
                    error.set(None);
                    saved.set(true);
                    fill(c);
                }
                Err(e) => {
                    saved.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <h1>"Settings"</h1>
        <Tabs/>
        <form class="edit tenant-settings" on:submit=save hidden=move || !loaded.get()>
            <label for="c-zone">"Default time zone (IANA)"</label>
            <input id="c-zone" bind:value=zone/>
            <FieldError error=error field="default_timezone"/>
            <label for="c-roster">"Default roster (alerts no service routes)"</label>
            <select id="c-roster" bind:value=roster>
                <option value="">"None"</option>
                {move || rosters.try_get().flatten().map(|list| list.into_iter().map(|r| view! {
                    <option value=r.id.to_string()>{r.name}</option>
                }).collect_view())}
            </select>
            <label for="c-retention">"Keep resolved alerts (days)"</label>
            <input id="c-retention" type="number" min="1" max="3650" bind:value=retention/>
            <FieldError error=error field="retention_days"/>
            <label for="c-phone">"Least seconds between two phone calls to one person"</label>
            <input id="c-phone" type="number" min="0" max="3600" bind:value=phone/>
            <label for="c-sms">"Least seconds between two text messages to one person"</label>
            <input id="c-sms" type="number" min="0" max="3600" bind:value=sms/>
            <FieldError error=error field="page_interval_secs"/>
            <div class="actions"><button type="submit" class="primary">"Save"</button></div>
        </form>
        {move || saved.get().then(|| view! { <p class="ok" role="status">"Saved."</p> })}
        {move || error.get().map(|e| view! { <ErrorNote error=e/> })}
    }
}

/// The pages of the admin area.
#[derive(Debug, Clone, Copy)]
pub enum AdminPage {
    Users,
    ApiKeys,
    Plugins,
    PluginSettings,
    Audit,
    Settings,
}

//! Sign in with a local password; back to the page the person came from (`?next=`).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use nightowl_api::admin::LoginInput;

use crate::api;
use crate::app::Session;

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let navigate = use_navigate();
    let tenant = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = LoginInput {
            tenant: tenant.get_untracked().trim().to_owned(),
            email: email.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        // Only a path of this app: `next` must not send the person elsewhere.
        let next = query
            .get_untracked()
            .get("next")
            .filter(|n| n.starts_with('/') && !n.starts_with("//"))
            .unwrap_or_else(|| "/alerts?status=open".to_owned());
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::login(&input).await {
                Ok(identity) => {
                    session.0.set(Some(identity));
                    error.set(None);
                    navigate(&next, Default::default());
                }
                Err(api::ApiError::Unauthorized) => {
                    error.set(Some("The tenant, e-mail or password is not right.".to_owned()))
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <main class="login">
            <h1>"NightOwl"</h1>
            <form on:submit=submit>
                <label for="tenant">"Tenant"</label>
                <input id="tenant" name="tenant" autocomplete="organization" required
                    bind:value=tenant/>
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" autocomplete="username" required
                    bind:value=email/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password"
                    required bind:value=password/>
                <button type="submit" disabled=move || busy.get()>"Sign in"</button>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </form>
        </main>
    }
}

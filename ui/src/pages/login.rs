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
    // Single sign-on, when the server offers it; an error it sent back here is shown.
    let methods = LocalResource::new(api::auth_methods);
    if let Some(code) = query.get_untracked().get("error") {
        error.set(Some(sso_error(&code)));
    }
    let next_param = move || {
        let next = query.get().get("next").unwrap_or_else(|| "/dashboard".to_owned());
        api::encode(&next)
    };
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
            .filter(|n| same_site_path(n))
            .unwrap_or_else(|| "/dashboard".to_owned());
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
            {move || methods.try_get().flatten().and_then(Result::ok).and_then(|m| m.oidc).map(|oidc| view! {
                <p class="or">"or"</p>
                // A real navigation (rel=external): the server sends the browser to the provider.
                <a class="button sso" rel="external" href=format!("{}?next={}", oidc.login_url, next_param())>
                    "Sign in with single sign-on"
                </a>
            })}
        </main>
    }
}

/// What a failed single sign-on (`/login?error=<code>`) tells the person.
fn sso_error(code: &str) -> String {
    match code {
        "oidc_denied" => "The identity provider did not sign you in.".into(),
        "oidc_state_mismatch" => {
            "That sign-in link was used already or has expired. Please try again.".into()
        }
        "oidc_unknown_tenant" => "Your organisation is not known to NightOwl.".into(),
        "oidc_token_rejected" => {
            "The identity provider's answer could not be trusted. Please try again.".into()
        }
        "oidc_unavailable" => "The identity provider cannot be reached right now.".into(),
        "oidc_user_deactivated" => "Your NightOwl account is deactivated. Ask an administrator.".into(),
        "oidc_account_conflict" => {
            "A NightOwl account with your e-mail is linked to another sign-in, or your provider has not \
             verified the e-mail. Ask an administrator."
                .into()
        }
        "oidc_too_many" => {
            "Too many sign-ins were started from here. Wait a few minutes and try again.".into()
        }
        "oidc_not_configured" => "Single sign-on is not set up on this server.".into(),
        other => format!("Single sign-on failed ({other})."),
    }
}

/// Whether `next` is a path of this site: the browser's URL parser reads `\` as `/` and drops tabs
/// and newlines, so `/\evil.example` would leave the site (the server's rule, `same_origin_path`).
fn same_site_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn next_must_stay_on_this_site() {
        assert!(same_site_path("/alerts/1?x=%2F"));
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
        ] {
            assert!(!same_site_path(bad), "{bad:?}");
        }
    }
}

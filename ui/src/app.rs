//! The router, the page frame, and what every page shares: who is signed in, and what happens when the
//! session ends (a 401 anywhere brings the sign-in page, which then returns to where the person was).

use leptos::prelude::*;
use leptos_router::components::{A, Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use nightowl_api::admin::Identity;

use crate::api::{self, ApiError};
use crate::pages::admin::AdminPage;
use crate::pages::{self, KnowledgePage, login::LoginPage};

/// A page whose code is loaded when it is first opened: a future of its view, shown when it is ready.
macro_rules! lazily {
    ($load:expr) => {
        || {
            view! {
                <Frame>{Suspend::new(send_wrapper::SendWrapper::new($load))}</Frame>
            }
        }
    };
}

/// The signed-in person, once known (`None` while unknown or signed out).
#[derive(Clone, Copy)]
pub struct Session(pub RwSignal<Option<Identity>>);

/// The application.
#[component]
pub fn App() -> impl IntoView {
    provide_context(Session(RwSignal::new(None)));
    view! {
        <Router>
            <Routes fallback=|| view! { <Frame><p class="empty">"There is no such page."</p></Frame> }>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/") view=|| view! { <Redirect path="/dashboard"/> }/>
                <Route path=path!("/dashboard") view=lazily!(pages::dashboard_view())/>
                <Route path=path!("/alerts") view=lazily!(pages::alerts_view(false))/>
                <Route path=path!("/alerts/:id") view=lazily!(pages::alerts_view(true))/>
                <Route path=path!("/incidents") view=lazily!(pages::incidents_view(KnowledgePage::List))/>
                <Route path=path!("/incidents/new") view=lazily!(pages::incidents_view(KnowledgePage::Edit))/>
                <Route path=path!("/incidents/:id") view=lazily!(pages::incidents_view(KnowledgePage::Incident))/>
                <Route path=path!("/incidents/:id/edit") view=lazily!(pages::incidents_view(KnowledgePage::Edit))/>
                <Route path=path!("/rosters") view=lazily!(pages::rosters_view(false))/>
                <Route path=path!("/rosters/:id") view=lazily!(pages::rosters_view(true))/>
                <Route path=path!("/policies") view=lazily!(pages::policies_view(false))/>
                <Route path=path!("/policies/new") view=lazily!(pages::policies_view(true))/>
                <Route path=path!("/policies/:id") view=lazily!(pages::policies_view(true))/>
                <Route path=path!("/admin") view=|| view! { <Redirect path="/admin/users"/> }/>
                <Route path=path!("/admin/users") view=lazily!(pages::admin_view(AdminPage::Users))/>
                <Route path=path!("/admin/api-keys") view=lazily!(pages::admin_view(AdminPage::ApiKeys))/>
                <Route path=path!("/admin/plugins") view=lazily!(pages::admin_view(AdminPage::Plugins))/>
                <Route path=path!("/admin/plugins/:id") view=lazily!(pages::admin_view(AdminPage::PluginSettings))/>
                <Route path=path!("/admin/audit") view=lazily!(pages::admin_view(AdminPage::Audit))/>
                <Route path=path!("/admin/settings") view=lazily!(pages::admin_view(AdminPage::Settings))/>
            </Routes>
        </Router>
    }
}

/// The frame of every signed-in page: the navigation, who is signed in, sign out.
#[component]
fn Frame(children: Children) -> impl IntoView {
    let session = expect_context::<Session>();
    let on_error = use_unauthorized();
    // Who is signed in (once per page load): a missing session sends the person to sign in.
    Effect::new(move |_| {
        if session.0.get_untracked().is_none() {
            let on_error = on_error.clone();
            leptos::task::spawn_local(async move {
                match api::ping().await {
                    Ok(identity) => session.0.set(Some(identity)),
                    Err(e) => on_error(&e),
                }
            });
        }
    });
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let _ = api::logout().await;
            session.0.set(None);
            navigate("/login", Default::default());
        });
    };
    view! {
        <header class="top">
            <a class="brand" href="/dashboard">"NightOwl"</a>
            <nav aria-label="Main">
                <A href="/dashboard">"Dashboard"</A>
                <A href="/alerts?status=open">"Alerts"</A>
                <A href="/incidents">"Knowledge base"</A>
                <A href="/rosters">"Rosters"</A>
                <A href="/policies">"Escalation"</A>
                {move || session.0.get().is_some_and(|i| i.role == nightowl_api::Role::Admin).then(|| view! { <A href="/admin/users">"Admin"</A> })}
            </nav>
            <span class="who">
                {move || session.0.get().map(|i| format!("{} · {}", i.actor_label, i.tenant))}
            </span>
            <button type="button" class="link" on:click=sign_out>"Sign out"</button>
        </header>
        <main>{children()}</main>
    }
}

/// What a page does with an API error: a 401 sends the person to sign in and back here afterwards;
/// other errors are the page's to show.
pub fn use_unauthorized() -> impl Fn(&ApiError) + Clone + 'static {
    let navigate = use_navigate();
    let location = use_location();
    move |e: &ApiError| {
        let path = location.pathname.get_untracked();
        // Several calls of one page may fail at once: the first one sends the person away.
        if *e == ApiError::Unauthorized && path != "/login" {
            // The router's `search` comes without its `?`.
            let search = location.search.get_untracked();
            let here = match search.trim_start_matches('?') {
                "" => path,
                query => format!("{path}?{query}"),
            };
            let next = String::from(js_sys::encode_uri_component(&here));
            navigate(&format!("/login?next={next}"), Default::default());
        }
    }
}

/// An error as a page shows it: the API's message.
#[component]
pub fn ErrorNote(error: ApiError) -> impl IntoView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}

/// The API's validation message about `field` (and the fields under it) of the last failed save.
#[component]
pub fn FieldError(error: RwSignal<Option<ApiError>>, #[prop(into)] field: String) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.field(&field))
            .map(|m| view! { <p class="field-error" role="alert">{m}</p> })
    }
}

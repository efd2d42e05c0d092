//! NightOwl web UI entry point: a client-side Leptos app mounted on `<body>`. For now the shell only;
//! pages arrive with the UI issue and talk to the JSON API through `nightowl-api` types.

use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// The application shell.
#[component]
fn App() -> impl IntoView {
    view! {
        <main>
            <h1>"NightOwl"</h1>
            <p>"The web UI is under construction. The API is described at "
                <a href="/api/docs">"/api/docs"</a>"."</p>
        </main>
    }
}

//! NightOwl's web UI: a client-side Leptos app. [`app`] holds the router, the signed-in person and the
//! page frame; [`pages`] one module per screen; [`api`] the typed calls to the JSON API; [`format`]
//! how times and severities read; [`markdown`] the knowledge base's texts (rendered by the server).

mod api;
mod app;
mod format;
mod markdown;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

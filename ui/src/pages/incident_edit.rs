//! Writing an incident: every field, with the markdown texts previewed as they are typed (rendered by
//! [`Markdown`], which never runs what the text holds). A new incident can start from an alert
//! (`/incidents/new?alert=1234`): its title, fingerprint, severity, service and description.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use nightowl_api::alerts::Alert;
use nightowl_api::incidents::{INCIDENT_SEVERITIES, Incident, IncidentInput};
use uuid::Uuid;

use crate::api::{self, ApiError};
use crate::app::{ErrorNote, use_unauthorized};
use crate::markdown::Markdown;

/// The form's fields, as typed.
#[derive(Clone, Copy)]
struct Form {
    title: RwSignal<String>,
    severity: RwSignal<String>,
    category: RwSignal<String>,
    tags: RwSignal<String>,
    services: RwSignal<String>,
    clusters: RwSignal<String>,
    namespaces: RwSignal<String>,
    fingerprints: RwSignal<String>,
    error_patterns: RwSignal<String>,
    symptoms: RwSignal<String>,
    root_cause: RwSignal<String>,
    solution: RwSignal<String>,
    runbook_id: RwSignal<Option<Uuid>>,
}

impl Form {
    fn new() -> Form {
        let s = || RwSignal::new(String::new());
        Form {
            title: s(),
            severity: RwSignal::new("warning".to_owned()),
            category: s(),
            tags: s(),
            services: s(),
            clusters: s(),
            namespaces: s(),
            fingerprints: s(),
            error_patterns: s(),
            symptoms: s(),
            root_cause: s(),
            solution: s(),
            runbook_id: RwSignal::new(None),
        }
    }

    fn fill(&self, i: &Incident) {
        self.title.set(i.title.clone());
        self.severity.set(i.severity.to_string());
        self.category.set(i.category.clone().unwrap_or_default());
        self.tags.set(i.tags.join(", "));
        self.services.set(i.services.join(", "));
        self.clusters.set(i.clusters.join(", "));
        self.namespaces.set(i.namespaces.join(", "));
        self.fingerprints.set(i.fingerprints.join("\n"));
        self.error_patterns.set(i.error_patterns.join("\n"));
        self.symptoms.set(i.symptoms.clone().unwrap_or_default());
        self.root_cause.set(i.root_cause.clone().unwrap_or_default());
        self.solution.set(i.solution.clone().unwrap_or_default());
        self.runbook_id.set(i.runbook_id);
    }

    fn fill_from_alert(&self, a: &Alert) {
        self.title.set(a.title.clone());
        self.severity.set(a.severity.to_string());
        self.fingerprints.set(a.fingerprint.clone());
        self.services.set(a.service.clone().unwrap_or_default());
        self.symptoms.set(a.description.clone().unwrap_or_default());
        self.solution
            .set(a.suggested_solution.clone().unwrap_or_default());
    }

    fn input(&self) -> IncidentInput {
        let split = |s: RwSignal<String>, by: char| -> Vec<String> {
            s.get_untracked()
                .split(by)
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let text = |s: RwSignal<String>| Some(s.get_untracked()).filter(|t| !t.trim().is_empty());
        IncidentInput {
            title: self.title.get_untracked().trim().to_owned(),
            fingerprints: split(self.fingerprints, '\n'),
            severity: self.severity.get_untracked(),
            category: text(self.category).map(|c| c.trim().to_owned()),
            tags: split(self.tags, ','),
            services: split(self.services, ','),
            clusters: split(self.clusters, ','),
            namespaces: split(self.namespaces, ','),
            symptoms: text(self.symptoms),
            error_patterns: split(self.error_patterns, '\n'),
            root_cause: text(self.root_cause),
            solution: text(self.solution),
            runbook_id: self.runbook_id.get_untracked(),
        }
    }
}

/// Creating (`/incidents/new`) or editing (`/incidents/:id/edit`) an incident.
#[component]
pub fn IncidentEditPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let navigate = use_navigate();
    let on_error = use_unauthorized();
    let existing = params
        .get_untracked()
        .get("id")
        .and_then(|id| id.parse::<Uuid>().ok());
    let form = Form::new();
    let error = RwSignal::new(None::<ApiError>);
    // Fill the form once, before it is shown: from the incident being edited, or from the alert it
    // starts from. Nothing typed is overwritten, and a failed load never leaves blanks to save.
    let alert_key = query.get_untracked().get("alert");
    let loaded = RwSignal::new(existing.is_none() && alert_key.is_none());
    let load_error = RwSignal::new(None::<ApiError>);
    let on_load_error = on_error.clone();
    leptos::task::spawn_local(async move {
        if let Some(id) = existing {
            match api::incident(&id.to_string()).await {
                Ok(d) => {
                    form.fill(&d.incident);
                    loaded.set(true);
                }
                Err(e) => {
                    on_load_error(&e);
                    load_error.set(Some(e));
                }
            }
        } else if let Some(key) = alert_key {
            // Without the alert the incident still starts, blank.
            match api::alert(&key).await {
                Ok(a) => form.fill_from_alert(&a),
                Err(e) => load_error.set(Some(e)),
            }
            loaded.set(true);
        }
    });
    let busy = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = form.input();
        let navigate = navigate.clone();
        let on_error = on_error.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let saved = match existing {
                Some(id) => api::update_incident(id, &input).await,
                None => api::create_incident(&input).await,
            };
            busy.set(false);
            match saved {
                Ok(i) => navigate(&format!("/incidents/{}", i.id), Default::default()),
                Err(e) => {
                    on_error(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    let cancel = match existing {
        Some(id) => format!("/incidents/{id}"),
        None => "/incidents".to_owned(),
    };
    view! {
        <h1>{if existing.is_some() { "Edit incident" } else { "New incident" }}</h1>
        {move || {
            (!loaded.get() && load_error.with(Option::is_none))
                .then(|| view! { <p class="loading" aria-busy="true">"Loading…"</p> })
        }}
        {move || load_error.get().map(|e| view! { <ErrorNote error=e/> })}
        // Hidden until what fills it has loaded.
        <form class="edit" on:submit=save hidden=move || !loaded.get()>
            <label for="i-title">"Title"</label>
            <input id="i-title" required maxlength="300" bind:value=form.title/>
            <label for="i-severity">"Severity"</label>
            <select id="i-severity" bind:value=form.severity>
                {INCIDENT_SEVERITIES.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
            </select>
            <label for="i-category">"Category"</label>
            <input id="i-category" maxlength="100" placeholder="e.g. database" bind:value=form.category/>
            <label for="i-services">"Services (comma-separated)"</label>
            <input id="i-services" bind:value=form.services/>
            <label for="i-tags">"Tags (comma-separated)"</label>
            <input id="i-tags" bind:value=form.tags/>
            <label for="i-clusters">"Clusters (comma-separated)"</label>
            <input id="i-clusters" bind:value=form.clusters/>
            <label for="i-namespaces">"Namespaces (comma-separated)"</label>
            <input id="i-namespaces" bind:value=form.namespaces/>
            <label for="i-fingerprints">"Alert fingerprints (one per line): alerts with one link here"</label>
            <textarea id="i-fingerprints" rows="3" bind:value=form.fingerprints></textarea>
            <label for="i-patterns">"Error patterns (one per line)"</label>
            <textarea id="i-patterns" rows="3" bind:value=form.error_patterns></textarea>
            <MarkdownField id="i-symptoms" label="Symptoms" value=form.symptoms/>
            <MarkdownField id="i-root-cause" label="Root cause" value=form.root_cause/>
            <MarkdownField id="i-solution" label="Solution" value=form.solution/>
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get() || !loaded.get()>"Save"</button>
                <a href=cancel>"Cancel"</a>
            </div>
            {move || error.get().map(|e| view! { <ErrorNote error=e/> })}
        </form>
    }
}

/// A markdown text and its live preview side by side.
#[component]
fn MarkdownField(id: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    let preview_id = format!("{id}-preview");
    view! {
        <label for=id>{format!("{label} (markdown)")}</label>
        <div class="md-field">
            <textarea id=id rows="8" bind:value=value></textarea>
            <div class="preview" id=preview_id aria-live="polite" aria-label=format!("{label} preview")>
                <Markdown text=value empty="Preview"/>
            </div>
        </div>
    }
}

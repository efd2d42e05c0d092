//! One module per screen, and the areas the bundle is split by.
//!
//! Each area's code (its pages and what only they use) is a part of the module the browser loads when
//! the area is first opened (`scripts/build-ui.sh` splits it). Areas rather than single pages: the
//! splitter makes a module for every set of split points sharing some code, so each page of its own
//! meant dozens of small modules per page, which compress worse than a few larger ones.

use leptos::lazy;
use leptos::prelude::*;

pub mod admin;
pub mod alert;
pub mod alerts;
pub mod dashboard;
pub mod incident;
pub mod incident_edit;
pub mod incidents;
pub mod login;
pub mod policies;
pub mod roster;
pub mod roster_config;
pub mod rosters;

/// The dashboard.
#[lazy]
pub fn dashboard_view() -> AnyView {
    view! { <dashboard::DashboardPage/> }.into_any()
}

/// The alert list (`detail` false) or one alert.
#[lazy]
pub fn alerts_view(detail: bool) -> AnyView {
    if detail {
        view! { <alert::AlertPage/> }.into_any()
    } else {
        view! { <alerts::AlertsPage/> }.into_any()
    }
}

/// A page of the knowledge base.
#[lazy]
pub fn incidents_view(page: KnowledgePage) -> AnyView {
    match page {
        KnowledgePage::List => view! { <incidents::IncidentsPage/> }.into_any(),
        KnowledgePage::Incident => view! { <incident::IncidentPage/> }.into_any(),
        KnowledgePage::Edit => view! { <incident_edit::IncidentEditPage/> }.into_any(),
    }
}

/// The pages of the knowledge-base area.
#[derive(Debug, Clone, Copy)]
pub enum KnowledgePage {
    List,
    Incident,
    Edit,
}

/// The roster list (`detail` false) or one roster.
#[lazy]
pub fn rosters_view(detail: bool) -> AnyView {
    if detail {
        view! { <roster::RosterPage/> }.into_any()
    } else {
        view! { <rosters::RostersPage/> }.into_any()
    }
}

/// The policy list (`editor` false) or one policy's editor and dry run.
#[lazy]
pub fn policies_view(editor: bool) -> AnyView {
    if editor {
        view! { <policies::PolicyPage/> }.into_any()
    } else {
        view! { <policies::PoliciesPage/> }.into_any()
    }
}

/// A page of the administration area.
#[lazy]
pub fn admin_view(page: admin::AdminPage) -> AnyView {
    use admin::AdminPage::*;
    match page {
        Users => view! { <admin::UsersPage/> }.into_any(),
        ApiKeys => view! { <admin::ApiKeysPage/> }.into_any(),
        Plugins => view! { <admin::PluginsPage/> }.into_any(),
        PluginSettings => view! { <admin::PluginSettingsPage/> }.into_any(),
        Audit => view! { <admin::AuditPage/> }.into_any(),
        Settings => view! { <admin::SettingsPage/> }.into_any(),
    }
}

/// A roster's configuration section, loaded once the roster page is on screen; `changed` reloads the
/// page's data after a save.
#[lazy]
pub fn roster_config_view(roster: nightowl_api::rosters::Roster, changed: Callback<()>) -> AnyView {
    view! { <roster_config::RosterConfig roster=roster changed=move || changed.run(())/> }.into_any()
}

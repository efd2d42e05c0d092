//! The rosters: each with its zone, rotation and who is on call now.

use leptos::prelude::*;
use nightowl_api::rosters::{Roster, RosterOnCallNow};

use crate::api;
use crate::app::{ErrorNote, use_unauthorized};

/// The roster list.
#[component]
pub fn RostersPage() -> impl IntoView {
    let on_error = use_unauthorized();
    let data = LocalResource::new(move || {
        let on_error = on_error.clone();
        async move {
            let rosters = api::rosters().await;
            if let Err(e) = &rosters {
                on_error(e);
            }
            (rosters, api::oncall_now().await.unwrap_or_default())
        }
    });
    view! {
        <h1>"Rosters"</h1>
        {move || match data.try_get().flatten() {
            None => view! { <p class="loading" aria-busy="true">"Loading rosters…"</p> }.into_any(),
            Some((Err(e), _)) => view! { <ErrorNote error=e/> }.into_any(),
            Some((Ok(rosters), _)) if rosters.is_empty() => {
                view! { <p class="empty">"No rosters yet."</p> }.into_any()
            }
            Some((Ok(rosters), now)) => view! {
                <table class="rosters">
                    <thead><tr>
                        <th scope="col">"Roster"</th><th scope="col">"Rotation"</th>
                        <th scope="col">"Time zone"</th><th scope="col">"On call now"</th>
                    </tr></thead>
                    <tbody>{rosters.into_iter().map(|r| row(r, &now)).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

fn row(r: Roster, now: &[RosterOnCallNow]) -> impl IntoView {
    let on_call = now
        .iter()
        .find(|n| n.roster_id == r.id)
        .and_then(|n| n.primary.as_ref())
        .map(|p| p.display_name.clone())
        .unwrap_or_else(|| "nobody".to_owned());
    view! {
        <tr>
            <td><a href=format!("/rosters/{}", r.id)>{r.name.clone()}</a></td>
            <td>{rotation_summary(&r)}</td>
            <td>{r.timezone.clone()}</td>
            <td>{on_call}</td>
        </tr>
    }
}

/// "daily at 09:00, 3 people" and the like.
pub fn rotation_summary(r: &Roster) -> String {
    let length = match r.rotation_length {
        1 => "daily".to_owned(),
        7 => "weekly".to_owned(),
        n => format!("every {n} days"),
    };
    let handoff = r.handoff_time.to_string();
    let follow = if r.is_follow_the_sun {
        " · follow-the-sun"
    } else {
        ""
    };
    format!(
        "{length} at {}, {} people{follow}",
        handoff.get(..5).unwrap_or(&handoff),
        r.members.len()
    )
}

//! `/api/v1/rosters`: rotations, members, overrides, and who is on call (answered by `oncall`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use nightowl_api::ErrorBody;
use nightowl_api::rosters::{
    CalendarDay, CalendarOverride, CalendarSegment, CalendarShift, MembersInput, OnCallPerson, OnCallView,
    OverrideInput, OverrideKind, Roster, RosterCalendar, RosterInput, RosterOnCallNow, RosterOverride,
    ShiftView,
};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::routes::Route;
use crate::db;
use crate::oncall::{self, Rotation};
use crate::state::AppState;
use nightowl_api::Role::{Engineer, Manager, Readonly};
use utoipa_axum::routes;

/// The routes of rosters and on-call, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_rosters), Readonly),
        Route::write(routes!(create_roster), Manager),
        Route::read(routes!(get_roster), Readonly),
        Route::write(routes!(update_roster), Manager),
        Route::write(routes!(delete_roster), Manager),
        Route::write(routes!(set_roster_members), Manager),
        Route::read(routes!(list_overrides), Readonly),
        Route::write(routes!(create_override), Engineer),
        Route::write(routes!(delete_override), Engineer),
        Route::read(routes!(get_oncall), Readonly),
        Route::read(routes!(oncall_now), Readonly),
        Route::read(routes!(list_shifts), Readonly),
        Route::read(routes!(roster_calendar), Readonly),
        Route::read(routes!(oncall_history), Readonly),
        Route::calendar(routes!(export_ics), Readonly),
    ]
}

fn map_write_error(err: sqlx::Error) -> ApiError {
    if db::is_unique_violation(&err, "rosters_name_key") {
        ApiError::conflict("roster_exists", "a roster with this name already exists")
    } else if db::is_foreign_key_violation(&err) {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            "a referenced user, roster or policy does not exist",
        )
    } else {
        err.into()
    }
}

async fn load(t: &mut TenantTx, id: Uuid) -> Result<Roster, ApiError> {
    db::rosters::get(t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("roster"))
}

/// Every roster with its members.
#[utoipa::path(get, path = "/api/v1/rosters", tag = "rosters", responses((status = 200, body = Vec<Roster>)))]
pub async fn list_rosters(mut t: TenantTx) -> Result<Json<Vec<Roster>>, ApiError> {
    Ok(Json(db::rosters::list(&mut t).await?))
}

/// Creates a roster (members are set with `PUT /members`).
#[utoipa::path(post, path = "/api/v1/rosters", tag = "rosters", request_body = RosterInput,
    responses((status = 201, body = Roster), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_roster(
    mut t: TenantTx,
    Json(input): Json<RosterInput>,
) -> Result<(StatusCode, Json<Roster>), ApiError> {
    let id = db::rosters::save(&mut t, None, &input)
        .await
        .map_err(map_write_error)?
        .expect("insert returns its id");
    let roster = load(&mut t, id).await?;
    t.commit().await?;
    Ok((StatusCode::CREATED, Json(roster)))
}

/// One roster.
#[utoipa::path(get, path = "/api/v1/rosters/{id}", tag = "rosters", params(("id" = Uuid, Path)),
    responses((status = 200, body = Roster), (status = 404, body = ErrorBody)))]
pub async fn get_roster(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<Roster>, ApiError> {
    Ok(Json(load(&mut t, id).await?))
}

/// Replaces a roster's settings.
#[utoipa::path(put, path = "/api/v1/rosters/{id}", tag = "rosters", params(("id" = Uuid, Path)), request_body = RosterInput,
    responses((status = 200, body = Roster), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_roster(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<RosterInput>,
) -> Result<Json<Roster>, ApiError> {
    if input.linked_roster_id == Some(id) {
        return Err(ApiError::invalid_field(
            "linked_roster_id",
            "a roster cannot be its own partner",
        ));
    }
    db::rosters::save(&mut t, Some(id), &input)
        .await
        .map_err(map_write_error)?
        .ok_or_else(|| ApiError::not_found("roster"))?;
    let roster = load(&mut t, id).await?;
    t.commit().await?;
    Ok(Json(roster))
}

/// Deletes a roster with its members and overrides.
#[utoipa::path(delete, path = "/api/v1/rosters/{id}", tag = "rosters", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_roster(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<StatusCode, ApiError> {
    if !db::rosters::delete(&mut t, id).await? {
        return Err(ApiError::not_found("roster"));
    }
    t.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the complete rotation order (reordering included).
#[utoipa::path(put, path = "/api/v1/rosters/{id}/members", tag = "rosters", params(("id" = Uuid, Path)),
    request_body = MembersInput, responses((status = 200, body = Roster), (status = 422, body = ErrorBody)))]
pub async fn set_roster_members(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<MembersInput>,
) -> Result<Json<Roster>, ApiError> {
    load(&mut t, id).await?;
    db::rosters::set_members(&mut t, id, &input.user_ids)
        .await
        .map_err(map_write_error)?;
    let roster = load(&mut t, id).await?;
    t.commit().await?;
    Ok(Json(roster))
}

/// A time window (defaults depend on the endpoint).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

fn window(
    w: &Window,
    now: DateTime<Utc>,
    back: Duration,
    ahead: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let from = w.from.unwrap_or(now - back);
    let until = w.until.unwrap_or(from.max(now) + ahead);
    if until <= from || until - from > Duration::days(400) {
        return Err(ApiError::bad_request(
            "invalid_window",
            "until must be after from, at most 400 days later",
        ));
    }
    Ok((from, until))
}

/// Overrides overlapping the window (default: the last 7 and next 90 days).
#[utoipa::path(get, path = "/api/v1/rosters/{id}/overrides", tag = "rosters", params(("id" = Uuid, Path), Window),
    responses((status = 200, body = Vec<RosterOverride>), (status = 404, body = ErrorBody)))]
pub async fn list_overrides(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Query(w): Query<Window>,
) -> Result<Json<Vec<RosterOverride>>, ApiError> {
    load(&mut t, id).await?;
    let (from, until) = window(&w, state.clock.now(), Duration::days(7), Duration::days(90))?;
    Ok(Json(db::rosters::overrides(&mut t, id, from, until).await?))
}

/// Adds an override (`kind` override: the user covers as primary) or a leave (`kind` leave: the user
/// is away and the rotation skips them). A cover overlapping another cover, or a leave overlapping the
/// same person's leave, is refused (409).
#[utoipa::path(post, path = "/api/v1/rosters/{id}/overrides", tag = "rosters", params(("id" = Uuid, Path)),
    request_body = OverrideInput,
    responses((status = 201, body = RosterOverride), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_override(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<OverrideInput>,
) -> Result<(StatusCode, Json<RosterOverride>), ApiError> {
    load(&mut t, id).await?;
    let by = t.principal.label();
    let created = db::rosters::add_override(&mut t, id, &input, &by)
        .await
        .map_err(map_write_error)?
        .ok_or_else(|| {
            ApiError::conflict(
                "override_overlap",
                "the roster already has a cover override (or this person a leave) in this period",
            )
        })?;
    t.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Removes an override.
#[utoipa::path(delete, path = "/api/v1/rosters/{id}/overrides/{override_id}", tag = "rosters",
    params(("id" = Uuid, Path), ("override_id" = Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_override(
    mut t: TenantTx,
    Path((id, override_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    if !db::rosters::delete_override(&mut t, id, override_id).await? {
        return Err(ApiError::not_found("override"));
    }
    t.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Display names of the roster's members and of anyone covering by override.
async fn names(t: &mut TenantTx, roster: &Roster, extra: &[Uuid]) -> Result<HashMap<Uuid, String>, ApiError> {
    let mut map: HashMap<Uuid, String> = roster
        .members
        .iter()
        .map(|m| (m.user_id, m.display_name.clone()))
        .collect();
    let missing: Vec<Uuid> = extra.iter().filter(|id| !map.contains_key(id)).copied().collect();
    if !missing.is_empty() {
        map.extend(db::users::display_names(t, &missing).await?);
    }
    Ok(map)
}

fn person(names: &HashMap<Uuid, String>, id: Uuid) -> OnCallPerson {
    OnCallPerson {
        user_id: id,
        display_name: names.get(&id).cloned().unwrap_or_else(|| "(unknown user)".into()),
    }
}

fn rotation_of(roster: &Roster) -> Result<Rotation, ApiError> {
    db::rosters::rotation(roster)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("roster {} has invalid settings", roster.id)))
}

/// `at` (default: now).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct At {
    pub at: Option<DateTime<Utc>>,
}

/// Who is on call now for every roster, by roster name (the dashboard's list).
#[utoipa::path(get, path = "/api/v1/oncall", tag = "rosters",
    responses((status = 200, body = Vec<RosterOnCallNow>)))]
pub async fn oncall_now(
    State(state): State<AppState>,
    mut t: TenantTx,
) -> Result<Json<Vec<RosterOnCallNow>>, ApiError> {
    let at = state.clock.now();
    let mut out = Vec::new();
    for roster in db::rosters::list(&mut t).await? {
        let (id, name, timezone) = (roster.id, roster.name.clone(), roster.timezone.clone());
        let resolved = db::rosters::on_call(&mut t, roster, at).await?;
        let extra: Vec<Uuid> = resolved.answer.iter().map(|a| a.primary).collect();
        let names = names(&mut t, &resolved.roster, &extra).await?;
        out.push(RosterOnCallNow {
            roster_id: id,
            roster: name,
            timezone,
            primary: resolved.answer.as_ref().map(|a| person(&names, a.primary)),
            secondary: resolved
                .answer
                .as_ref()
                .and_then(|a| a.secondary)
                .map(|s| person(&names, s)),
        });
    }
    Ok(Json(out))
}

/// Who is on call at `at`: primary and secondary, the shift, whether an override decides; for a
/// follow-the-sun roster, which of the pair is active.
#[utoipa::path(get, path = "/api/v1/rosters/{id}/oncall", tag = "rosters", params(("id" = Uuid, Path), At),
    responses((status = 200, body = OnCallView), (status = 404, body = ErrorBody)))]
pub async fn get_oncall(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Query(q): Query<At>,
) -> Result<Json<OnCallView>, ApiError> {
    let at = q.at.unwrap_or_else(|| state.clock.now());
    let roster = load(&mut t, id).await?;
    let db::rosters::Resolved {
        roster,
        answer,
        override_id: active_override,
    } = db::rosters::on_call(&mut t, roster, at).await?;
    let extra: Vec<Uuid> = answer.iter().map(|a| a.primary).collect();
    let names = names(&mut t, &roster, &extra).await?;
    Ok(Json(OnCallView {
        at,
        active_roster_id: roster.id,
        primary: answer.as_ref().map(|a| person(&names, a.primary)),
        secondary: answer
            .as_ref()
            .and_then(|a| a.secondary)
            .map(|s| person(&names, s)),
        shift_start: answer.as_ref().map(|a| a.shift.starts_at),
        shift_end: answer.as_ref().and_then(|a| a.shift.ends_at),
        override_active: active_override,
    }))
}

fn shift_views(roster: &Roster, names: &HashMap<Uuid, String>, shifts: Vec<oncall::Shift>) -> Vec<ShiftView> {
    shifts
        .into_iter()
        .map(|s| ShiftView {
            roster_id: roster.id,
            primary: person(names, s.primary),
            secondary: s.secondary.map(|id| person(names, id)),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        })
        .collect()
}

/// Rotation shifts overlapping the window (default: now to 30 days ahead), without overrides.
#[utoipa::path(get, path = "/api/v1/rosters/{id}/shifts", tag = "rosters", params(("id" = Uuid, Path), Window),
    responses((status = 200, body = Vec<ShiftView>), (status = 400, body = ErrorBody)))]
pub async fn list_shifts(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Query(w): Query<Window>,
) -> Result<Json<Vec<ShiftView>>, ApiError> {
    let roster = load(&mut t, id).await?;
    let (from, until) = window(&w, state.clock.now(), Duration::zero(), Duration::days(30))?;
    let names = names(&mut t, &roster, &[]).await?;
    Ok(Json(shift_views(
        &roster,
        &names,
        rotation_of(&roster)?.shifts_between(from, until),
    )))
}

/// Which days a calendar shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// First local date (default: today in the zone).
    pub start: Option<chrono::NaiveDate>,
    /// Number of days, 1–62 (default 7).
    pub days: Option<u32>,
    /// IANA zone to lay the days out in (default: the roster's); the viewer's own, for example.
    pub tz: Option<String>,
}

/// The roster's calendar: for each local day, its length (23 or 25 hours when clocks change), the
/// rotation's handoffs, the final schedule (overrides and leave applied; for a follow-the-sun roster,
/// when it or its partner answers) and the overrides touching it, all in `tz`.
#[utoipa::path(get, path = "/api/v1/rosters/{id}/calendar", tag = "rosters", params(("id" = Uuid, Path), CalendarQuery),
    responses((status = 200, body = RosterCalendar), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn roster_calendar(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Query(q): Query<CalendarQuery>,
) -> Result<Json<RosterCalendar>, ApiError> {
    let roster = load(&mut t, id).await?;
    let zone_name = q.tz.clone().unwrap_or_else(|| roster.timezone.clone());
    let zone: chrono_tz::Tz = zone_name.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_timezone",
            "tz must be an IANA time zone such as Europe/Berlin",
        )
    })?;
    let count = q.days.unwrap_or(7);
    if !(1..=62).contains(&count) {
        return Err(ApiError::bad_request(
            "invalid_window",
            "days must be between 1 and 62",
        ));
    }
    let today = state.clock.now().with_timezone(&zone).date_naive();
    let first = q.start.unwrap_or(today);
    let dates: Vec<chrono::NaiveDate> = first.iter_days().take(count as usize).collect();
    let (from, _) = oncall::local_day(zone, dates[0]);
    let (_, until) = oncall::local_day(zone, dates[dates.len() - 1]);

    let rotation = rotation_of(&roster)?;
    let partner = match (roster.is_follow_the_sun, roster.linked_roster_id) {
        (true, Some(partner)) => db::rosters::get(&mut t, partner)
            .await?
            .as_ref()
            .and_then(db::rosters::rotation),
        _ => None,
    };
    let listed = db::rosters::overrides(&mut t, id, from, until).await?;
    let overrides = db::rosters::as_overrides(&listed);
    let segments = oncall::segments(&rotation, &overrides, partner.as_ref(), from, until);
    let shifts = rotation.shifts_between(from, until);
    let extra: Vec<Uuid> = listed.iter().map(|o| o.user_id).collect();
    let names = names(&mut t, &roster, &extra).await?;

    let local = |at: DateTime<Utc>, day_end: DateTime<Utc>| {
        if at >= day_end {
            "24:00".to_owned()
        } else {
            at.with_timezone(&zone).format("%H:%M").to_string()
        }
    };
    let days = dates
        .into_iter()
        .map(|date| {
            let (starts_at, ends_at) = oncall::local_day(zone, date);
            let clip = |a: DateTime<Utc>, b: DateTime<Utc>| (a.max(starts_at), b.min(ends_at));
            CalendarDay {
                date,
                starts_at,
                ends_at,
                hours: (ends_at - starts_at).num_hours(),
                handoffs: shifts
                    .iter()
                    .filter(|s| starts_at <= s.starts_at && s.starts_at < ends_at)
                    .map(|s| CalendarShift {
                        starts_at: s.starts_at,
                        ends_at: s.ends_at,
                        at: local(s.starts_at, ends_at),
                        minutes: s.ends_at.map(|e| (e - s.starts_at).num_minutes()),
                        primary: person(&names, s.primary),
                        secondary: s.secondary.map(|u| person(&names, u)),
                    })
                    .collect(),
                segments: segments
                    .iter()
                    .filter(|s| s.starts_at < ends_at && s.ends_at > starts_at)
                    .map(|s| {
                        let (a, b) = clip(s.starts_at, s.ends_at);
                        CalendarSegment {
                            starts_at: a,
                            ends_at: b,
                            from: local(a, ends_at),
                            to: local(b, ends_at),
                            primary: s.primary.map(|u| person(&names, u)),
                            secondary: s.secondary.map(|u| person(&names, u)),
                            override_id: s.cover.as_ref().and_then(|c| {
                                listed
                                    .iter()
                                    .find(|o| {
                                        o.kind == OverrideKind::Cover
                                            && o.user_id == c.user
                                            && o.starts_at == c.starts_at
                                    })
                                    .map(|o| o.id)
                            }),
                            active: s.active,
                        }
                    })
                    .collect(),
                overrides: listed
                    .iter()
                    .filter(|o| o.starts_at < ends_at && o.ends_at > starts_at)
                    .map(|o| {
                        let (a, b) = clip(o.starts_at, o.ends_at);
                        CalendarOverride {
                            id: o.id,
                            kind: o.kind,
                            person: person(&names, o.user_id),
                            starts_at: o.starts_at,
                            ends_at: o.ends_at,
                            from: local(a, ends_at),
                            to: local(b, ends_at),
                            reason: o.reason.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Json(RosterCalendar {
        roster_id: roster.id,
        timezone: zone_name,
        today,
        days,
    }))
}

/// The last 10 completed shifts, most recent first.
#[utoipa::path(get, path = "/api/v1/rosters/{id}/oncall/history", tag = "rosters", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ShiftView>), (status = 404, body = ErrorBody)))]
pub async fn oncall_history(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<ShiftView>>, ApiError> {
    let roster = load(&mut t, id).await?;
    let now = state.clock.now();
    let rotation = rotation_of(&roster)?;
    let current = rotation.shift_index(now).unwrap_or(0);
    let shifts: Vec<_> = (current.saturating_sub(10)..current)
        .rev()
        .filter(|k| *k >= 0)
        .map(|k| rotation.shift(k))
        .filter(|s| s.ends_at.is_some_and(|e| e <= now))
        .collect();
    let names = names(&mut t, &roster, &[]).await?;
    Ok(Json(shift_views(&roster, &names, shifts)))
}

/// The roster's shifts (7 days back to 35 days ahead) and overrides as an RFC 5545 calendar, in UTC,
/// with stable UIDs. Calendar apps can subscribe with `?key=<API key>` when the key is limited to the
/// `read` scope.
#[utoipa::path(get, path = "/api/v1/rosters/{id}/export.ics", tag = "rosters", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody)))]
pub async fn export_ics(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    use icalendar::{Calendar, Component, EventLike};

    let roster = load(&mut t, id).await?;
    let now = state.clock.now();
    let (from, until) = (now - Duration::days(7), now + Duration::days(35));
    let shifts = rotation_of(&roster)?.shifts_between(from, until);
    let overrides = db::rosters::overrides(&mut t, id, from, until).await?;
    let extra: Vec<Uuid> = overrides.iter().map(|o| o.user_id).collect();
    let names = names(&mut t, &roster, &extra).await?;

    let mut calendar = Calendar::new();
    calendar.name(&format!("NightOwl on-call: {}", roster.name));
    for s in shifts {
        let primary = person(&names, s.primary).display_name;
        let mut event = icalendar::Event::new();
        event
            .uid(&format!("shift-{}-{}@nightowl", roster.id, s.index))
            .timestamp(now)
            .summary(&format!("On call: {primary} ({})", roster.name))
            .starts(s.starts_at)
            .ends(s.ends_at.unwrap_or(until));
        if let Some(second) = s.secondary {
            event.description(&format!(
                "Primary: {primary}\nSecondary: {}",
                person(&names, second).display_name
            ));
        }
        calendar.push(event.done());
    }
    for o in overrides {
        let who = person(&names, o.user_id).display_name;
        let mut event = icalendar::Event::new();
        event
            .uid(&format!("override-{}@nightowl", o.id))
            .timestamp(now)
            .summary(&if o.kind == OverrideKind::Leave {
                format!("Leave: {who} is away ({})", roster.name)
            } else {
                format!("Override: {who} covers ({})", roster.name)
            })
            .starts(o.starts_at)
            .ends(o.ends_at);
        if let Some(reason) = &o.reason {
            event.description(reason);
        }
        calendar.push(event.done());
    }
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        calendar.done().to_string(),
    )
        .into_response())
}

//! Channel operations on rosters: who is on call, and the next shifts.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::OpError;
use crate::channels::Call;
use crate::db;
use crate::plugins::Responder;

impl Call {
    /// Who is on call now for a service's roster (the tenant default when none), primary first.
    pub fn on_call(&self, service: Option<&str>) -> Result<Vec<Responder>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let roster = match service {
                Some(name) => db::services::roster_of(&mut tx, name).await?,
                None => None,
            };
            let roster = match roster {
                Some(r) => Some(r),
                None => db::config::default_roster(&mut tx).await?,
            };
            let Some(roster) = roster.map(|id| db::rosters::get(&mut tx, id)) else {
                return Ok(vec![]);
            };
            let Some(roster) = roster.await? else {
                return Ok(vec![]);
            };
            let resolved = db::rosters::on_call(&mut tx, roster, self.now()).await?;
            let Some(answer) = resolved.answer else {
                return Ok(vec![]);
            };
            let ids: Vec<Uuid> = [Some(answer.primary), answer.secondary]
                .into_iter()
                .flatten()
                .collect();
            let people = db::users::people(&mut tx, &ids).await?;
            Ok(people.iter().map(crate::notify::responder).collect())
        })
    }
}

/// Who is on call for a roster now.
#[derive(Debug, Clone)]
pub struct RosterOnCall {
    pub roster_id: Uuid,
    pub roster: String,
    pub timezone: String,
    pub primary: Option<Responder>,
    pub secondary: Option<Responder>,
    /// End of the current shift, in the roster's time zone.
    pub until: Option<String>,
}

/// One rotation shift, in the roster's time zone.
#[derive(Debug, Clone)]
pub struct ShiftView {
    pub responder: Responder,
    pub start: String,
    pub end: String,
}

/// The longest list of shifts one call returns.
pub const MAX_SHIFTS: u32 = 50;

/// An instant as RFC 3339 with the roster's UTC offset at that instant.
fn local(tz: &str, t: DateTime<Utc>) -> String {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(tz) => t.with_timezone(&tz).to_rfc3339(),
        Err(_) => t.to_rfc3339(),
    }
}

impl Call {
    async fn rosters_named(
        &self,
        conn: &mut PgConnection,
        name: Option<&str>,
    ) -> Result<Vec<nightowl_api::rosters::Roster>, OpError> {
        let all = db::rosters::list(conn).await?;
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(all);
        };
        let wanted = name.to_lowercase();
        let found: Vec<_> = all
            .into_iter()
            .filter(|r| r.id.to_string() == wanted || r.name.to_lowercase() == wanted)
            .collect();
        if found.is_empty() {
            return Err(OpError::NotFound);
        }
        Ok(found)
    }

    /// Who is on call now for the roster with this name or id, or for every roster.
    pub fn rosters_on_call(&self, roster: Option<&str>) -> Result<Vec<RosterOnCall>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let now = self.now();
            let mut out = Vec::new();
            for roster in self.rosters_named(&mut tx, roster).await? {
                let (id, name, tz) = (roster.id, roster.name.clone(), roster.timezone.clone());
                let resolved = db::rosters::on_call(&mut tx, roster, now).await?;
                let (mut primary, mut secondary, mut until) = (None, None, None);
                if let Some(answer) = resolved.answer {
                    let ids: Vec<Uuid> = [Some(answer.primary), answer.secondary]
                        .into_iter()
                        .flatten()
                        .collect();
                    let people = db::users::people(&mut tx, &ids).await?;
                    let find = |id: Option<Uuid>| {
                        people
                            .iter()
                            .find(|p| Some(p.id) == id)
                            .map(crate::notify::responder)
                    };
                    primary = find(Some(answer.primary));
                    secondary = find(answer.secondary);
                    let ends = match &answer.override_active {
                        Some(o) => Some(o.ends_at),
                        None => answer.shift.ends_at,
                    };
                    until = ends.map(|t| local(&tz, t));
                }
                out.push(RosterOnCall {
                    roster_id: id,
                    roster: name,
                    timezone: tz,
                    primary,
                    secondary,
                    until,
                });
            }
            Ok(out)
        })
    }

    /// The next `count` rotation shifts of a roster, the current one first.
    pub fn upcoming_shifts(&self, roster: &str, count: u32) -> Result<Vec<ShiftView>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let roster = self
                .rosters_named(&mut tx, Some(roster))
                .await?
                .into_iter()
                .next()
                .ok_or(OpError::NotFound)?;
            let Some(rotation) = db::rosters::rotation(&roster) else {
                return Ok(vec![]);
            };
            let now = self.now();
            let first = rotation.shift_index(now).unwrap_or(0).max(0);
            let shifts: Vec<_> = (first..first + i64::from(count.clamp(1, MAX_SHIFTS)))
                .map(|k| rotation.shift(k))
                .filter(|s| s.ends_at.is_none_or(|end| end > now))
                .collect();
            let ids: Vec<Uuid> = shifts.iter().map(|s| s.primary).collect();
            let people = db::users::people(&mut tx, &ids).await?;
            Ok(shifts
                .iter()
                .filter_map(|s| {
                    let person = people.iter().find(|p| p.id == s.primary)?;
                    Some(ShiftView {
                        responder: crate::notify::responder(person),
                        start: local(&roster.timezone, s.starts_at),
                        end: s.ends_at.map(|t| local(&roster.timezone, t)).unwrap_or_default(),
                    })
                })
                .collect())
        })
    }
}

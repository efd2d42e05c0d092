//! Queries on `rosters`, `roster_members` and `roster_overrides`.

use chrono::{DateTime, Utc};
use nightowl_api::rosters::{OverrideInput, OverrideKind, Roster, RosterInput, RosterMember, RosterOverride};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::oncall::{OnCall, Override, Rotation};

const COLUMNS: &str = "id, name, description, timezone, rotation_type, rotation_length, handoff_time, start_date, \
     end_date, is_follow_the_sun, linked_roster_id, escalation_policy_id, team_lead_id, created_at, updated_at";

async fn members(conn: &mut PgConnection, roster: Uuid) -> Result<Vec<RosterMember>, sqlx::Error> {
    let rows: Vec<(Uuid, String, i32)> = sqlx::query_as(
        "select m.user_id, u.display_name, m.position from roster_members m join users u on u.id = m.user_id
         where m.roster_id = $1 order by m.position",
    )
    .bind(roster)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, display_name, position)| RosterMember {
            user_id,
            display_name,
            position,
        })
        .collect())
}

/// The roster with its members, which the row does not hold.
async fn view(conn: &mut PgConnection, mut r: Roster) -> Result<Roster, sqlx::Error> {
    r.members = members(conn, r.id).await?;
    Ok(r)
}

/// One roster with its members.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Roster>, sqlx::Error> {
    let row: Option<Roster> = sqlx::query_as(&format!("select {COLUMNS} from rosters where id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(Some(view(conn, r).await?)),
        None => Ok(None),
    }
}

/// Every roster, by name.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<Roster>, sqlx::Error> {
    let rows: Vec<Roster> = sqlx::query_as(&format!("select {COLUMNS} from rosters order by name"))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(conn, r).await?);
    }
    Ok(out)
}

/// Inserts (`id` none) or replaces a roster's settings.
pub async fn save(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    r: &RosterInput,
) -> Result<Option<Uuid>, sqlx::Error> {
    let sql = match id {
        None => "insert into rosters (name, description, timezone, rotation_type, rotation_length, handoff_time,
                     start_date, end_date, is_follow_the_sun, linked_roster_id, escalation_policy_id, team_lead_id)
                 values ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning id",
        Some(_) => "update rosters set name = $2, description = $3, timezone = $4, rotation_type = $5,
                     rotation_length = $6, handoff_time = $7, start_date = $8, end_date = $9,
                     is_follow_the_sun = $10, linked_roster_id = $11, escalation_policy_id = $12, team_lead_id = $13, updated_at = now()
                 where id = $1 returning id",
    };
    sqlx::query_scalar(sql)
        .bind(id)
        .bind(&r.name)
        .bind(&r.description)
        .bind(&r.timezone)
        .bind(&r.rotation_type)
        .bind(r.length_days())
        .bind(r.handoff_time)
        .bind(r.start_date)
        .bind(r.end_date)
        .bind(r.is_follow_the_sun)
        .bind(r.linked_roster_id)
        .bind(r.escalation_policy_id)
        .bind(r.team_lead_id)
        .fetch_optional(conn)
        .await
}

/// Whether the roster exists.
pub async fn exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from rosters where id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Deletes a roster with its members and overrides.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("delete from rosters where id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Replaces the rotation order (positions are deferrable, so the swap is one transaction).
pub async fn set_members(conn: &mut PgConnection, id: Uuid, users: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from roster_members where roster_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into roster_members (roster_id, user_id, position)
         select $1, u, (ord - 1)::int from unnest($2::uuid[]) with ordinality as t(u, ord)",
    )
    .bind(id)
    .bind(users)
    .execute(conn)
    .await?;
    Ok(())
}

/// Overrides of a roster overlapping `[from, until)`, by start.
pub async fn overrides(
    conn: &mut PgConnection,
    id: Uuid,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<RosterOverride>, sqlx::Error> {
    sqlx::query_as(
        "select id, user_id, starts_at, ends_at, reason, created_by, kind from roster_overrides
         where roster_id = $1 and starts_at < $3 and ends_at > $2 order by starts_at",
    )
    .bind(id)
    .bind(from)
    .bind(until)
    .fetch_all(conn)
    .await
}

/// Adds an override unless it clashes (`Ok(None)` then): a cover may not overlap another cover of the
/// roster, a leave may not overlap another leave of the same person (different people may be away at
/// once, and someone may cover during a leave). The roster row is locked first, so two concurrent
/// clashing requests cannot both pass the check.
pub async fn add_override(
    conn: &mut PgConnection,
    id: Uuid,
    o: &OverrideInput,
    by: &str,
) -> Result<Option<RosterOverride>, sqlx::Error> {
    sqlx::query("select id from rosters where id = $1 for update")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let clash: Option<Uuid> = sqlx::query_scalar(
        "select id from roster_overrides where roster_id = $1 and starts_at < $3 and ends_at > $2
             and kind = $4 and (kind = 'override' or user_id = $5) limit 1",
    )
    .bind(id)
    .bind(o.starts_at)
    .bind(o.ends_at)
    .bind(o.kind())
    .bind(o.user_id)
    .fetch_optional(&mut *conn)
    .await?;
    if clash.is_some() {
        return Ok(None);
    }
    let new_id: Uuid = sqlx::query_scalar(
        "insert into roster_overrides (roster_id, user_id, starts_at, ends_at, reason, created_by, kind)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(id)
    .bind(o.user_id)
    .bind(o.starts_at)
    .bind(o.ends_at)
    .bind(&o.reason)
    .bind(by)
    .bind(o.kind())
    .fetch_one(conn)
    .await?;
    Ok(Some(RosterOverride {
        id: new_id,
        user_id: o.user_id,
        starts_at: o.starts_at,
        ends_at: o.ends_at,
        reason: o.reason.clone(),
        created_by: Some(by.to_owned()),
        kind: o.kind(),
    }))
}

/// Deletes an override of the roster.
pub async fn delete_override(conn: &mut PgConnection, roster: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("delete from roster_overrides where roster_id = $1 and id = $2")
            .bind(roster)
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// The roster as the on-call module sees it.
pub fn rotation(r: &Roster) -> Option<Rotation> {
    Some(Rotation {
        timezone: r.timezone.parse().ok()?,
        length_days: u32::try_from(r.rotation_length).ok()?,
        handoff_time: r.handoff_time,
        start_date: r.start_date,
        end_date: r.end_date,
        members: r.members.iter().map(|m| m.user_id).collect(),
    })
}

/// Overrides in the module's form.
pub fn as_overrides(list: &[RosterOverride]) -> Vec<Override> {
    list.iter()
        .map(|o| Override {
            user: o.user_id,
            starts_at: o.starts_at,
            ends_at: o.ends_at,
            kind: o.kind,
        })
        .collect()
}

/// The answer to "who is on call for this roster at `at`", as the API, escalation, handoffs and dry
/// runs all ask it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The roster that answers: the asked one, or its follow-the-sun partner while that one is active.
    pub roster: Roster,
    /// `None` before the rotation starts, after it ends, or without members.
    pub answer: Option<OnCall>,
    /// Id of the override deciding the primary, when one does.
    pub override_id: Option<Uuid>,
}

/// Resolves who is on call at `at` for `roster` (follow-the-sun partner and overrides applied). A
/// roster whose stored settings do not form a rotation answers nobody.
pub async fn on_call(
    conn: &mut PgConnection,
    mut roster: Roster,
    at: DateTime<Utc>,
) -> Result<Resolved, sqlx::Error> {
    if roster.is_follow_the_sun
        && let Some(partner_id) = roster.linked_roster_id
        && let Some(partner) = get(conn, partner_id).await?
        && let (Some(mine), Some(theirs)) = (rotation(&roster), rotation(&partner))
        && crate::oncall::follow_the_sun(&[&mine, &theirs], at) == Some(1)
    {
        roster = partner;
    }
    let Some(rotation) = rotation(&roster) else {
        tracing::warn!(roster = %roster.id, "roster settings do not form a rotation");
        return Ok(Resolved {
            roster,
            answer: None,
            override_id: None,
        });
    };
    let list = overrides(
        conn,
        roster.id,
        at - chrono::Duration::seconds(1),
        at + chrono::Duration::seconds(1),
    )
    .await?;
    let answer = rotation.on_call(at, &as_overrides(&list));
    let override_id = answer
        .as_ref()
        .and_then(|a| a.override_active.as_ref())
        .and_then(|o| {
            list.iter()
                .find(|x| x.kind != OverrideKind::Leave && x.user_id == o.user && x.starts_at == o.starts_at)
                .map(|x| x.id)
        });
    Ok(Resolved {
        roster,
        answer,
        override_id,
    })
}

/// The escalation policy of a roster, if the roster exists and has one.
pub async fn policy_of(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let policy: Option<Option<Uuid>> =
        sqlx::query_scalar("select escalation_policy_id from rosters where id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(policy.flatten())
}

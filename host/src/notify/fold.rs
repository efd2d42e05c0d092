//! Paging storms: when many alerts page one person at once, they get one page per channel per
//! interval at most, and the next page says how many more alerts it stands for.
//!
//! The rule (the tenant's `page_interval_secs`, by channel name; phone and SMS 60 s by default):
//!
//! - A page to a person is handed to its channel only when no other page reached that person through
//!   that channel within the interval. Otherwise it waits (`pending`) until the interval has passed
//!   since that page; its attempt is not counted.
//! - A page that is handed over takes with it every other page to the same person and channel that
//!   has not been handed over yet: those rows become `folded`, `folded_into` the page that went out,
//!   and the channel is told how many other open alerts it covers and the worst severity among them
//!   (`nightowl.bundle.*` config values). Pages about the same alert (two tiers naming the same person,
//!   a second round) fold into one and do not count twice.
//! - Acknowledging or escalating the page's alert through the channel that delivered it
//!   (`channels::ops`) does the same to every alert it covered; resolving stays one alert at a time.
//! - The delivery's outcome is the outcome of the pages folded into it: their escalations hear of it,
//!   and when it fails for good they fail with it. When the page is cancelled before it went out (its
//!   alert was acknowledged elsewhere), the pages folded into it are pending again.
//!
//! Decisions about one person and channel are serialised by an advisory lock, so two workers holding
//! two pages of the same storm cannot both hand theirs over.

use nightowl_api::alerts::Severity;
use nightowl_api::notifications::NotificationKind;
use sqlx::PgConnection;

use crate::db;
use crate::db::outbox::Claimed;
use crate::state::AppState;
use crate::tenancy::Slug;

/// Config key: how many other open alerts the page stands for.
pub const MORE: &str = "nightowl.bundle.more";
/// Config key: the worst severity among the page's alert and the alerts it stands for.
pub const WORST_SEVERITY: &str = "nightowl.bundle.worst_severity";
/// Config key: the numbers of the alerts it stands for, comma-separated, lowest first.
pub const NUMBERS: &str = "nightowl.bundle.numbers";

/// What becomes of a claimed notification before its channel sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Hand it to the channel, with what it stands for besides its own alert (`None`: nothing).
    Deliver(Option<Bundle>),
    /// Not yet: the person had a page through this channel within the interval. Pending again until
    /// the interval has passed.
    Deferred,
    /// Not at all: another page took it along, or another worker holds it now.
    Drop,
}

/// The other alerts a page stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Their numbers, lowest first.
    pub numbers: Vec<i64>,
    /// The worst severity among them and the page's own alert.
    pub worst: Severity,
}

impl Bundle {
    /// The `nightowl.bundle.*` config values a channel reads.
    pub fn config(&self) -> [(String, String); 3] {
        let numbers: Vec<String> = self.numbers.iter().map(i64::to_string).collect();
        [
            (MORE.to_owned(), self.numbers.len().to_string()),
            (WORST_SEVERITY.to_owned(), self.worst.to_string()),
            (NUMBERS.to_owned(), numbers.join(",")),
        ]
    }
}

/// Whether a row is a page to one person (the only kind the rule applies to).
pub fn applies(row: &Claimed) -> bool {
    row.kind == NotificationKind::Alert
        && row.alert_id.is_some()
        && row.payload["notification"]["destination"].get("person").is_some()
}

/// Decides what becomes of a claimed page (see the module documentation), and records it: a
/// deferred row is pending again, folded rows point at this one, and this one is handed over.
pub async fn gate(state: &AppState, slug: &Slug, worker: &str, row: &Claimed) -> Result<Gate, sqlx::Error> {
    if !applies(row) {
        return Ok(Gate::Deliver(None));
    }
    let now = state.clock.now();
    let mut tx = db::begin_tenant(&state.db, slug, "system:outbox").await?;
    let channel = row.channel.as_str();
    db::outbox::lock_person_channel(&mut tx, slug.as_str(), channel, &row.target).await?;
    if !db::outbox::still_claimed(&mut tx, row.id, worker).await? {
        tx.commit().await?;
        return Ok(Gate::Drop);
    }
    if let Some(interval) = db::config::page_interval(&mut tx, channel).await? {
        let last = db::outbox::last_handed(&mut tx, channel, &row.target, row.id).await?;
        if let Some(last) = last.filter(|last| *last + interval > now) {
            let until = last + interval;
            db::outbox::defer(&mut tx, row.id, until).await?;
            tx.commit().await?;
            tracing::debug!(tenant = %slug, channel, target = %row.target, until = %until, "page deferred by the paging interval");
            return Ok(Gate::Deferred);
        }
        let folded = db::outbox::fold_into(&mut tx, row.id, channel, &row.target).await?;
        if folded > 0 {
            state
                .metrics
                .notifications
                .with_label_values(&[channel, "folded"])
                .inc_by(folded);
        }
    }
    db::outbox::mark_handed(&mut tx, row.id, now).await?;
    let bundle = bundle(&mut tx, row).await?;
    tx.commit().await?;
    Ok(Gate::Deliver(bundle))
}

/// What a page stands for besides its own alert: the open alerts of the pages folded into it.
async fn bundle(conn: &mut PgConnection, row: &Claimed) -> Result<Option<Bundle>, sqlx::Error> {
    let Some(own) = row.alert_id else {
        return Ok(None);
    };
    let covered = db::outbox::covered_open_alerts(conn, row.id, own).await?;
    if covered.is_empty() {
        return Ok(None);
    }
    let own_severity = db::alerts::get(conn, own).await?.map(|a| a.severity);
    let worst = covered
        .iter()
        .map(|(_, severity)| *severity)
        .chain(own_severity)
        .max_by_key(|s| rank(*s))
        .unwrap_or(Severity::Critical);
    Ok(Some(Bundle {
        numbers: covered.into_iter().map(|(number, _)| number).collect(),
        worst,
    }))
}

/// Severities from the least to the most urgent.
fn rank(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Major => 2,
        Severity::Critical => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_tells_the_channel_the_count_the_worst_severity_and_the_numbers() {
        let bundle = Bundle {
            numbers: vec![1003, 1004, 1010],
            worst: Severity::Critical,
        };
        assert_eq!(
            bundle.config(),
            [
                (MORE.to_owned(), "3".to_owned()),
                (WORST_SEVERITY.to_owned(), "critical".to_owned()),
                (NUMBERS.to_owned(), "1003,1004,1010".to_owned()),
            ]
        );
    }

    #[test]
    fn critical_outranks_every_other_severity() {
        let mut all = Severity::ALL.to_vec();
        all.sort_by_key(|s| rank(*s));
        assert_eq!(
            all,
            [
                Severity::Info,
                Severity::Warning,
                Severity::Major,
                Severity::Critical
            ]
        );
    }
}

//! The pure timing rules of a policy, shared by the worker and the dry run so both walk the same path.
//!
//! - Tier 1 of round 0 fires when the alert is created.
//! - After a tier fires at `t`, the next one fires at `t + timeout` of the tier that fired: deadlines
//!   come from the schedule, not from when a worker got round to it, so lateness never accumulates.
//! - A tier whose targets resolve to nobody passes straight on: the next tier fires at the same instant.
//! - After the last tier, the policy starts over (round + 1) while `round < repeat_count`; otherwise it
//!   is exhausted when the last tier's timeout runs out.

use chrono::{DateTime, Duration, Utc};
use nightowl_api::escalation::Tier;

/// Where an escalation stands: the tier that fires next in which round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub round: u32,
    /// 0-based index into the policy's tiers.
    pub tier: usize,
}

impl Position {
    /// The first tier of the first round.
    pub const START: Position = Position { round: 0, tier: 0 };
}

/// What follows a tier firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// This tier fires at this instant.
    Fire(Position, DateTime<Utc>),
    /// Nothing is left to fire; the policy gives up at this instant.
    Exhausted(DateTime<Utc>),
}

/// The step after tier `fired` went off at `at`, having reached someone or not.
pub fn after(tiers: &[Tier], repeat_count: u32, fired: Position, at: DateTime<Utc>, reached: bool) -> Next {
    let timeout = tiers.get(fired.tier).map_or(0, |t| i64::from(t.timeout_minutes));
    let when = if reached {
        at + Duration::minutes(timeout)
    } else {
        at
    };
    if fired.tier + 1 < tiers.len() {
        Next::Fire(
            Position {
                round: fired.round,
                tier: fired.tier + 1,
            },
            when,
        )
    } else if fired.round < repeat_count {
        Next::Fire(
            Position {
                round: fired.round + 1,
                tier: 0,
            },
            when,
        )
    } else {
        Next::Exhausted(when)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers(minutes: &[u32]) -> Vec<Tier> {
        minutes
            .iter()
            .map(|m| Tier {
                timeout_minutes: *m,
                notify_via: vec!["log".into()],
                targets: vec!["oncall_primary".into()],
            })
            .collect()
    }

    /// Walks a whole policy in which every tier reaches someone.
    fn walk(
        tiers: &[Tier],
        repeat: u32,
        start: DateTime<Utc>,
    ) -> (Vec<(Position, DateTime<Utc>)>, DateTime<Utc>) {
        let mut fired = vec![(Position::START, start)];
        loop {
            let (pos, at) = *fired.last().unwrap();
            match after(tiers, repeat, pos, at, true) {
                Next::Fire(p, t) => fired.push((p, t)),
                Next::Exhausted(t) => return (fired, t),
            }
        }
    }

    #[test]
    fn deadlines_add_up_over_tiers_and_rounds() {
        let start = DateTime::parse_from_rfc3339("2026-03-29T00:30:00Z")
            .unwrap()
            .to_utc();
        let (fired, exhausted) = walk(&tiers(&[5, 10, 15]), 1, start);
        let minutes: Vec<(u32, usize, i64)> = fired
            .iter()
            .map(|(p, t)| (p.round, p.tier, (*t - start).num_minutes()))
            .collect();
        assert_eq!(
            minutes,
            vec![
                (0, 0, 0),
                (0, 1, 5),
                (0, 2, 15),
                (1, 0, 30),
                (1, 1, 35),
                (1, 2, 45)
            ]
        );
        assert_eq!((exhausted - start).num_minutes(), 60);
    }

    #[test]
    fn a_tier_reaching_nobody_passes_on_at_once() {
        let start = Utc::now();
        let t = tiers(&[5, 10]);
        assert_eq!(
            after(&t, 0, Position::START, start, false),
            Next::Fire(Position { round: 0, tier: 1 }, start)
        );
        assert_eq!(
            after(&t, 0, Position { round: 0, tier: 1 }, start, true),
            Next::Exhausted(start + Duration::minutes(10))
        );
    }
}

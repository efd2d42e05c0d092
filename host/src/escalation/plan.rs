//! The pure timing rules of a policy, shared by the worker, the dry run and the outcome of deliveries,
//! so all of them walk the same path.
//!
//! - Tier 1 of round 0 fires when the alert is created.
//! - After a tier fires at `t`, the next one fires at `t + timeout` of the tier that fired: deadlines
//!   come from the schedule, not from when a worker got round to it, so lateness never accumulates.
//! - A tier whose targets resolve to nobody passes straight on: the next tier fires at the same instant.
//! - After the last tier, the policy starts over (round + 1) while `round < repeat_count`; otherwise it
//!   is exhausted when the last tier's timeout runs out.
//! - A tier whose every notification failed for good reached nobody after all: as for a tier that
//!   resolved to nobody, the step after it is due at once, that is when the last one failed
//!   ([`unanswered`]; `notify::outbox` reports the failures, `escalation` applies this).
//!
//! The SQL only stores positions and deadlines (`db::escalations`); which step is next, and when, is
//! decided here and nowhere else.

use chrono::{DateTime, Duration, Utc};
use nightowl_api::escalation::{Tier, TierNumber};

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

    /// The position stored as `round`, `next_tier` (0-based) in `alert_escalations`.
    pub fn from_row(round: i32, next_tier: i32) -> Position {
        Position {
            round: u32::try_from(round).unwrap_or(0),
            tier: usize::try_from(next_tier).unwrap_or(usize::MAX),
        }
    }

    /// `(round, next_tier)` as stored in `alert_escalations`.
    pub fn to_row(self) -> (i32, i32) {
        (
            i32::try_from(self.round).unwrap_or(i32::MAX),
            i32::try_from(self.tier).unwrap_or(i32::MAX),
        )
    }

    /// The tier as people count it (and as events and notifications carry it).
    pub fn tier_number(self) -> TierNumber {
        TierNumber::from_index(self.tier)
    }

    /// The position of tier `number` of `round`, as events and notifications carry it.
    pub fn numbered(round: i32, number: TierNumber) -> Position {
        Position {
            round: u32::try_from(round).unwrap_or(0),
            tier: number.index(),
        }
    }
}

/// What follows a tier firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// This tier fires at this instant.
    Fire(Position, DateTime<Utc>),
    /// Nothing is left to fire; the policy gives up at this instant.
    Exhausted(DateTime<Utc>),
}

impl Next {
    /// Where the escalation waits after `fired` and until when. An exhausted policy parks past its
    /// last tier (same round) until the final timeout runs out; the claim at that deadline marks it
    /// exhausted.
    pub fn stored(self, tiers: &[Tier], fired: Position) -> (Position, DateTime<Utc>) {
        match self {
            Next::Fire(p, t) => (p, t),
            Next::Exhausted(t) => (
                Position {
                    round: fired.round,
                    tier: tiers.len(),
                },
                t,
            ),
        }
    }
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

/// When the notifications of tier `fired` have all failed for good at `now`: the new deadline of an
/// escalation that stands at `current`, due at `deadline`. The tier counts as having reached nobody,
/// so the step after it is due at once. `None` when the escalation has moved on from that step (a
/// manual escalation, another failure that got there first) or is due by then anyway.
pub fn unanswered(
    tiers: &[Tier],
    repeat_count: u32,
    fired: Position,
    current: Position,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (waiting, due) = after(tiers, repeat_count, fired, now, false).stored(tiers, fired);
    (current == waiting && due < deadline).then_some(due)
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

    #[test]
    fn a_tier_whose_notifications_all_failed_makes_the_next_step_due_now() {
        let fired_at = Utc::now();
        let now = fired_at + Duration::minutes(1);
        let t = tiers(&[5, 10]);
        let first = Position::START;
        let second = Position { round: 0, tier: 1 };
        // Waiting for tier 2 until tier 1's timeout: due now instead.
        assert_eq!(
            unanswered(&t, 1, first, second, fired_at + Duration::minutes(5), now),
            Some(now)
        );
        // The last tier of a round that repeats: the next round's first tier.
        let next_round = Position { round: 1, tier: 0 };
        let deadline = fired_at + Duration::minutes(10);
        assert_eq!(unanswered(&t, 1, second, next_round, deadline, now), Some(now));
        // The last tier of the last round: the policy is exhausted now.
        let parked = Position { round: 1, tier: 2 };
        let last = Position { round: 1, tier: 1 };
        assert_eq!(unanswered(&t, 1, last, parked, deadline, now), Some(now));
    }

    #[test]
    fn a_failed_tier_leaves_an_escalation_that_moved_on_alone() {
        let fired_at = Utc::now();
        let now = fired_at + Duration::minutes(1);
        let t = tiers(&[5, 10, 15]);
        // Escalated by hand past the tier after the failed one.
        let moved = Position { round: 0, tier: 2 };
        let later = fired_at + Duration::minutes(20);
        assert_eq!(unanswered(&t, 0, Position::START, moved, later, now), None);
        // Already due (an earlier failure or a manual escalation got there first).
        let next = Position { round: 0, tier: 1 };
        assert_eq!(unanswered(&t, 0, Position::START, next, now, now), None);
    }

    #[test]
    fn stored_positions_round_trip() {
        let p = Position { round: 2, tier: 3 };
        assert_eq!(Position::from_row(2, 3), p);
        assert_eq!(p.to_row(), (2, 3));
        assert_eq!(p.tier_number(), TierNumber::new(4).unwrap());
        assert_eq!(Position::numbered(2, p.tier_number()), p);
        assert_eq!(Position::numbered(0, TierNumber::FIRST), Position::START);
    }
}

//! Who is on call: the one pure module behind the API, iCal export, escalation, Slack and dry runs.
//!
//! Semantics (GoAlert's rules):
//! - Shifts hand off at the roster's **local wall-clock** `handoff_time`, every `length_days` days from
//!   `start_date`. Daily shifts across a DST change are therefore 23 h or 25 h long.
//! - A handoff time that does not exist that day (spring forward) happens at the **first instant after
//!   the gap**; an ambiguous one (fall back) at its **first occurrence**.
//! - Before the first handoff, and from the handoff on `end_date` on, nobody is on call.
//! - The primary of shift `k` is `members[k mod n]`; the secondary is the next member in rotation order.
//! - An override covering the instant beats the rotation for the primary.
//! - Leave takes a member out of the rotation while it lasts: the primary is the first member in
//!   rotation order from the shift's position who is not on leave, the secondary the next such one.
//!   When everyone is away and nobody covers, nobody is on call.
//! - Follow-the-sun: of linked rosters, the one whose latest daily handoff is most recent is active.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

/// The rotation rules of a roster.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub timezone: Tz,
    /// Days per shift (daily 1, weekly 7, custom n).
    pub length_days: u32,
    pub handoff_time: NaiveTime,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// Rotation order.
    pub members: Vec<Uuid>,
}

pub use nightowl_api::rosters::OverrideKind;

/// A user covering (or away during) `[starts_at, ends_at)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub user: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub kind: OverrideKind,
}

/// One shift of the rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    /// Shift number from the start date (0-based).
    pub index: i64,
    pub primary: Uuid,
    pub secondary: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    /// `None` for the last shift of a roster without an end.
    pub ends_at: Option<DateTime<Utc>>,
}

/// The answer to "who is on call at t".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCall {
    pub primary: Uuid,
    pub secondary: Option<Uuid>,
    /// The rotation shift covering the instant.
    pub shift: Shift,
    /// Set when an override decides the primary.
    pub override_active: Option<Override>,
}

/// The instant a local wall-clock time happens in `tz`, with the DST rules above.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap: walk forward to the first wall-clock minute that exists; its instant is
            // the transition itself, the first instant after the gap.
            let mut probe = local;
            for _ in 0..(48 * 60) {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            // No zone has a gap longer than a day; fall back to reading the time as UTC.
            local.and_utc()
        }
    }
}

impl Rotation {
    /// The instant of handoff `k` (shift `k` starts there).
    pub fn handoff(&self, k: i64) -> DateTime<Utc> {
        let date = self.start_date + Duration::days(k * i64::from(self.length_days.max(1)));
        resolve_local(self.timezone, date.and_time(self.handoff_time))
    }

    /// The handoff at which the roster ends, if it has an end date.
    fn end(&self) -> Option<DateTime<Utc>> {
        self.end_date
            .map(|d| resolve_local(self.timezone, d.and_time(self.handoff_time)))
    }

    /// Number of the shift covering `t`, if any.
    pub fn shift_index(&self, t: DateTime<Utc>) -> Option<i64> {
        if self.members.is_empty() || t < self.handoff(0) || self.end().is_some_and(|end| t >= end) {
            return None;
        }
        let local_date = t.with_timezone(&self.timezone).date_naive();
        let days = (local_date - self.start_date).num_days();
        let mut k = days.div_euclid(i64::from(self.length_days.max(1)));
        // The local date can sit on either side of the handoff of its day: settle by comparison.
        while k > 0 && self.handoff(k) > t {
            k -= 1;
        }
        while self.handoff(k + 1) <= t {
            k += 1;
        }
        Some(k)
    }

    /// Shift `k`.
    pub fn shift(&self, k: i64) -> Shift {
        let n = self.members.len() as i64;
        let starts_at = self.handoff(k);
        let next = self.handoff(k + 1);
        let ends_at = match self.end() {
            Some(end) if end <= next => Some(end),
            _ => Some(next),
        };
        Shift {
            index: k,
            primary: self.members[k.rem_euclid(n) as usize],
            secondary: (n > 1).then(|| self.members[(k + 1).rem_euclid(n) as usize]),
            starts_at,
            ends_at,
        }
    }

    /// Who is on call at `t`, overrides applied.
    pub fn on_call(&self, t: DateTime<Utc>, overrides: &[Override]) -> Option<OnCall> {
        let shift = self.shift(self.shift_index(t)?);
        let now = |o: &&Override| o.starts_at <= t && t < o.ends_at;
        let active = overrides
            .iter()
            .filter(now)
            .filter(|o| o.kind == OverrideKind::Cover)
            .max_by_key(|o| o.starts_at)
            .cloned();
        let away: Vec<Uuid> = overrides
            .iter()
            .filter(now)
            .filter(|o| o.kind == OverrideKind::Leave)
            .map(|o| o.user)
            .collect();
        let n = self.members.len() as i64;
        let available: Vec<Uuid> = (0..n)
            .map(|i| self.members[(shift.index + i).rem_euclid(n) as usize])
            .filter(|u| !away.contains(u))
            .collect();
        let primary = active.as_ref().map(|o| o.user).or(available.first().copied())?;
        Some(OnCall {
            primary,
            secondary: available.get(1).copied(),
            shift,
            override_active: active,
        })
    }

    /// Shifts overlapping `[from, until)`, in order.
    pub fn shifts_between(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Shift> {
        if self.members.is_empty() {
            return Vec::new();
        }
        let mut k = self.shift_index(from).unwrap_or(0);
        let mut out = Vec::new();
        while self.handoff(k) < until && self.end().is_none_or(|end| self.handoff(k) < end) {
            let shift = self.shift(k);
            if shift.ends_at.is_none_or(|e| e > from) {
                out.push(shift);
            }
            k += 1;
        }
        out
    }
}

/// A stretch of time in which the answer to "who is on call" stays the same (the calendar's final
/// schedule): the rotation with overrides and leave applied, as [`Rotation::on_call`] answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Nobody before the first handoff, from the end on, or when everyone is away.
    pub primary: Option<Uuid>,
    pub secondary: Option<Uuid>,
    /// The cover override that decides the primary.
    pub cover: Option<Override>,
    /// Of a follow-the-sun pair, whether this roster (not its partner) answers alerts then; always
    /// true for a roster on its own.
    pub active: bool,
}

/// The final schedule over `[from, until)`: cut wherever a shift, an override or leave, or (with a
/// follow-the-sun `partner`) either roster's daily handoff begins or ends, and joined again where
/// nothing changed.
pub fn segments(
    r: &Rotation,
    overrides: &[Override],
    partner: Option<&Rotation>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Segment> {
    let mut cuts = vec![from, until];
    for shift in r.shifts_between(from, until) {
        cuts.push(shift.starts_at);
        cuts.extend(shift.ends_at);
    }
    for o in overrides {
        cuts.extend([o.starts_at, o.ends_at]);
    }
    if let Some(p) = partner {
        for rot in [r, p] {
            let first = from.with_timezone(&rot.timezone).date_naive() - Duration::days(1);
            let last = until.with_timezone(&rot.timezone).date_naive();
            let mut day = first;
            while day <= last {
                cuts.push(resolve_local(rot.timezone, day.and_time(rot.handoff_time)));
                day += Duration::days(1);
            }
        }
    }
    cuts.retain(|t| from <= *t && *t <= until);
    cuts.sort_unstable();
    cuts.dedup();
    let mut out: Vec<Segment> = Vec::new();
    for w in cuts.windows(2) {
        let (starts_at, ends_at) = (w[0], w[1]);
        let answer = r.on_call(starts_at, overrides);
        let segment = Segment {
            starts_at,
            ends_at,
            primary: answer.as_ref().map(|a| a.primary),
            secondary: answer.as_ref().and_then(|a| a.secondary),
            cover: answer.and_then(|a| a.override_active),
            active: partner.is_none_or(|p| follow_the_sun(&[r, p], starts_at) == Some(0)),
        };
        match out.last_mut() {
            Some(last)
                if last.ends_at == starts_at
                    && (&last.primary, &last.secondary, &last.cover, last.active)
                        == (
                            &segment.primary,
                            &segment.secondary,
                            &segment.cover,
                            segment.active,
                        ) =>
            {
                last.ends_at = ends_at;
            }
            _ => out.push(segment),
        }
    }
    out
}

/// The instants a local calendar day of `tz` starts and ends (23 or 25 hours apart across a DST
/// change).
pub fn local_day(tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |d: NaiveDate| resolve_local(tz, d.and_time(NaiveTime::MIN));
    (midnight(date), midnight(date + Duration::days(1)))
}

/// The handoff instants around `t`: the latest at or before it and the first after it. For a
/// follow-the-sun roster these are its daily local handoffs (when its window opens); otherwise the
/// rotation's shift boundaries. Nothing after the roster has ended.
pub fn handoffs_around(
    r: &Rotation,
    follow_the_sun: bool,
    t: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    if r.end().is_some_and(|end| t >= end) || r.members.is_empty() {
        return (None, None);
    }
    if follow_the_sun {
        let local = t.with_timezone(&r.timezone).date_naive();
        let days: Vec<DateTime<Utc>> = (-1..=1)
            .map(|d| local + Duration::days(d))
            .filter(|d| *d >= r.start_date)
            .map(|d| resolve_local(r.timezone, d.and_time(r.handoff_time)))
            .collect();
        let last = days.iter().copied().filter(|h| *h <= t).max();
        let next = days
            .iter()
            .copied()
            .filter(|h| *h > t)
            .min()
            .or_else(|| (t < r.handoff(0)).then(|| r.handoff(0)));
        return (last, next);
    }
    match r.shift_index(t) {
        Some(k) => (
            Some(r.handoff(k)),
            Some(r.handoff(k + 1)).filter(|h| r.end().is_none_or(|end| *h <= end)),
        ),
        None => (None, Some(r.handoff(0))),
    }
}

/// Of follow-the-sun rosters, the index of the one active at `t`: the one whose latest daily handoff
/// (at or before `t`) is most recent. `None` before any has started.
pub fn follow_the_sun(rosters: &[&Rotation], t: DateTime<Utc>) -> Option<usize> {
    rosters
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let local = t.with_timezone(&r.timezone).date_naive();
            // Today's or yesterday's local handoff, whichever is the latest not after t.
            [local, local - Duration::days(1)]
                .into_iter()
                .filter(|d| *d >= r.start_date)
                .map(|d| resolve_local(r.timezone, d.and_time(r.handoff_time)))
                .find(|h| *h <= t)
                .map(|h| (h, i))
        })
        .max()
        .map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn users(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    fn rotation(tz: &str, days: u32, handoff: &str, start: &str, members: u128) -> Rotation {
        Rotation {
            timezone: tz.parse().unwrap(),
            length_days: days,
            handoff_time: NaiveTime::parse_from_str(handoff, "%H:%M").unwrap(),
            start_date: NaiveDate::parse_from_str(start, "%Y-%m-%d").unwrap(),
            end_date: None,
            members: users(members),
        }
    }

    #[test]
    fn local_days_are_23_and_25_hours_across_the_changes() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let day = |d: &str| local_day(berlin, NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
        let hours = |(a, b): (DateTime<Utc>, DateTime<Utc>)| (b - a).num_hours();
        assert_eq!(day("2027-03-28").0, utc("2027-03-27T23:00:00Z"));
        assert_eq!(hours(day("2027-03-28")), 23);
        assert_eq!(hours(day("2027-03-29")), 24);
        assert_eq!(hours(day("2027-10-31")), 25);
    }

    #[test]
    fn segments_apply_overrides_and_leave_and_join_what_does_not_change() {
        // Daily at 09:00 Berlin, members 1, 2, 3 from 2027-03-26.
        let r = rotation("Europe/Berlin", 1, "09:00", "2027-03-26", 3);
        let (from, until) = (utc("2027-03-27T00:00:00Z"), utc("2027-03-28T12:00:00Z"));
        let plain = segments(&r, &[], None, from, until);
        let who: Vec<_> = plain
            .iter()
            .map(|s| (s.starts_at, s.primary.map(|u| u.as_u128())))
            .collect();
        assert_eq!(
            who,
            [
                (from, Some(1)),
                (utc("2027-03-27T08:00:00Z"), Some(2)),
                // Summer time: 09:00 is 07:00 UTC, so member 2's shift was 23 hours.
                (utc("2027-03-28T07:00:00Z"), Some(3)),
            ]
        );
        assert!(plain.iter().all(|s| s.active && s.cover.is_none()));
        assert_eq!(plain.last().unwrap().ends_at, until);

        // Member 4 covers 10:00–14:00Z on the 27th; member 3 is away the whole window.
        let cover = Override {
            user: Uuid::from_u128(4),
            starts_at: utc("2027-03-27T10:00:00Z"),
            ends_at: utc("2027-03-27T14:00:00Z"),
            kind: OverrideKind::Cover,
        };
        let leave = Override {
            user: Uuid::from_u128(3),
            starts_at: from - Duration::days(1),
            ends_at: until + Duration::days(1),
            kind: OverrideKind::Leave,
        };
        let all = segments(&r, &[cover.clone(), leave], None, from, until);
        let who: Vec<_> = all
            .iter()
            .map(|s| {
                (
                    s.starts_at,
                    s.primary.map(|u| u.as_u128()),
                    s.secondary.map(|u| u.as_u128()),
                    s.cover.is_some(),
                )
            })
            .collect();
        assert_eq!(
            who,
            [
                (from, Some(1), Some(2), false),
                (utc("2027-03-27T08:00:00Z"), Some(2), Some(1), false),
                // The cover decides the primary only; the secondary stays the rotation's.
                (cover.starts_at, Some(4), Some(1), true),
                (cover.ends_at, Some(2), Some(1), false),
                // Member 3's shift, while 3 is away: the next one in rotation order takes it.
                (utc("2027-03-28T07:00:00Z"), Some(1), Some(2), false),
            ]
        );
    }

    #[test]
    fn follow_the_sun_segments_say_which_half_is_active() {
        // Berlin hands off at 08:00 local, New York at 08:00 local: each is active from its morning.
        let berlin = rotation("Europe/Berlin", 7, "08:00", "2027-01-04", 2);
        let new_york = rotation("America/New_York", 7, "08:00", "2027-01-04", 2);
        let (from, until) = (utc("2027-01-12T00:00:00Z"), utc("2027-01-13T00:00:00Z"));
        let windows: Vec<_> = segments(&berlin, &[], Some(&new_york), from, until)
            .iter()
            .map(|s| (s.starts_at, s.active))
            .collect();
        assert_eq!(
            windows,
            [
                (from, false),
                (utc("2027-01-12T07:00:00Z"), true),
                (utc("2027-01-12T13:00:00Z"), false),
            ]
        );
    }

    #[test]
    fn handoffs_around_name_the_boundaries() {
        let r = rotation("Europe/Berlin", 7, "09:00", "2026-03-02", 2);
        let t = utc("2026-03-10T12:00:00Z");
        assert_eq!(
            handoffs_around(&r, false, t),
            (
                Some(utc("2026-03-09T08:00:00Z")),
                Some(utc("2026-03-16T08:00:00Z"))
            )
        );
        // Across spring forward (29 March) the daily handoff moves to 07:00 UTC.
        let t = utc("2026-03-29T07:30:00Z");
        assert_eq!(
            handoffs_around(&r, true, t),
            (
                Some(utc("2026-03-29T07:00:00Z")),
                Some(utc("2026-03-30T07:00:00Z"))
            )
        );
        let before = utc("2026-03-01T00:00:00Z");
        assert_eq!(
            handoffs_around(&r, false, before),
            (None, Some(utc("2026-03-02T08:00:00Z")))
        );
    }

    #[test]
    fn spring_forward_gap_hands_off_at_the_first_instant_after_it() {
        // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z). 02:30 does not exist.
        let r = rotation("Europe/Berlin", 1, "02:30", "2026-03-01", 3);
        let k = r.shift_index(utc("2026-03-29T12:00:00Z")).unwrap();
        assert_eq!(r.handoff(k), utc("2026-03-29T01:00:00Z"));
        assert_eq!(r.handoff(k - 1), utc("2026-03-28T01:30:00Z"));
        assert_eq!(r.handoff(k + 1), utc("2026-03-30T00:30:00Z"));
    }

    #[test]
    fn fall_back_ambiguity_hands_off_at_the_first_occurrence() {
        // New York 2026-11-01: 01:30 happens twice (EDT 05:30Z, then EST 06:30Z).
        let r = rotation("America/New_York", 1, "01:30", "2026-10-01", 2);
        let k = r.shift_index(utc("2026-11-01T12:00:00Z")).unwrap();
        assert_eq!(r.handoff(k), utc("2026-11-01T05:30:00Z"));
        // Between the two occurrences the new shift is already on.
        assert_eq!(r.shift_index(utc("2026-11-01T06:00:00Z")), Some(k));
    }

    #[test]
    fn daily_shifts_are_23_or_25_hours_across_dst() {
        for (tz, spring, fall) in [
            ("Europe/Berlin", "2026-03-29", "2026-10-25"),
            ("Europe/Berlin", "2027-03-28", "2027-10-31"),
            ("America/New_York", "2026-03-08", "2026-11-01"),
            ("America/New_York", "2027-03-14", "2027-11-07"),
            ("Pacific/Auckland", "2026-09-27", "2026-04-05"),
            ("Pacific/Auckland", "2027-09-26", "2027-04-04"),
        ] {
            let r = rotation(tz, 1, "09:00", "2026-01-01", 4);
            for (day, hours) in [(spring, 23), (fall, 25)] {
                // The shift starting the day before the change spans it.
                let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap() - Duration::days(1);
                let k = (date - r.start_date).num_days();
                let s = r.shift(k);
                assert_eq!(
                    s.ends_at.unwrap() - s.starts_at,
                    Duration::hours(hours),
                    "{tz} {day}"
                );
                assert_eq!(
                    s.starts_at.with_timezone(&r.timezone).time(),
                    r.handoff_time,
                    "{tz} {day}"
                );
            }
        }
    }

    #[test]
    fn weekly_rotation_across_dst_keeps_the_local_handoff_time() {
        for tz in ["Europe/Berlin", "Pacific/Auckland", "America/New_York"] {
            let r = rotation(tz, 7, "10:00", "2026-01-05", 3);
            for s in r.shifts_between(utc("2026-01-05T00:00:00Z"), utc("2028-01-01T00:00:00Z")) {
                assert_eq!(
                    s.starts_at.with_timezone(&r.timezone).time(),
                    r.handoff_time,
                    "{tz} {s:?}"
                );
                let hours = (s.ends_at.unwrap() - s.starts_at).num_hours();
                assert!([167, 168, 169].contains(&hours), "{tz}: {hours} h");
            }
        }
    }

    /// Brute force: walk months in 5-minute steps across each zone's DST changes. Every instant has
    /// exactly one primary, and the primary changes only at handoffs that sit at the local handoff
    /// time (or where the DST rules move them).
    #[test]
    fn brute_force_every_instant_has_one_primary_and_changes_only_at_handoffs() {
        for (tz, handoff, from) in [
            ("Europe/Berlin", "02:30", "2026-03-15T00:00:00Z"),
            ("Europe/Berlin", "02:30", "2026-10-15T00:00:00Z"),
            ("America/New_York", "01:30", "2026-10-20T00:00:00Z"),
            ("America/New_York", "02:15", "2027-03-01T00:00:00Z"),
            ("Pacific/Auckland", "02:30", "2026-09-15T00:00:00Z"),
            ("Pacific/Auckland", "02:30", "2027-03-25T00:00:00Z"),
        ] {
            let r = rotation(tz, 1, handoff, "2026-01-01", 5);
            let step = Duration::minutes(5);
            let mut t = utc(from);
            let until = t + Duration::days(31);
            let mut last = r.on_call(t, &[]).unwrap();
            let mut changes = 0;
            while t < until {
                t += step;
                let now = r.on_call(t, &[]).expect("someone is always on call");
                if now.primary != last.primary {
                    changes += 1;
                    let boundary = now.shift.starts_at;
                    assert!(
                        boundary > t - step && boundary <= t,
                        "{tz}: change at {t} but handoff at {boundary}"
                    );
                    let local = boundary.with_timezone(&r.timezone);
                    let naive = local.date_naive().and_time(r.handoff_time);
                    assert_eq!(
                        boundary,
                        resolve_local(r.timezone, naive),
                        "{tz}: handoff not at the local time"
                    );
                }
                last = now;
            }
            assert_eq!(changes, 31, "{tz}: one handoff a day");
        }
    }

    #[test]
    fn leave_skips_a_member_and_cover_still_wins() {
        // Daily from 1 June, members 1, 2, 3: 3 June (shift 2) is member 3's, then 1.
        let r = rotation("UTC", 1, "09:00", "2026-06-01", 3);
        let leave = |user: u128, from: &str, until: &str| Override {
            user: Uuid::from_u128(user),
            starts_at: utc(from),
            ends_at: utc(until),
            kind: OverrideKind::Leave,
        };
        let t = utc("2026-06-03T12:00:00Z");
        let plain = r.on_call(t, &[]).unwrap();
        assert_eq!(
            (plain.primary, plain.secondary),
            (Uuid::from_u128(3), Some(Uuid::from_u128(1)))
        );
        let away = [leave(3, "2026-06-02T00:00:00Z", "2026-06-05T00:00:00Z")];
        let skipped = r.on_call(t, &away).unwrap();
        assert_eq!(
            (skipped.primary, skipped.secondary),
            (Uuid::from_u128(1), Some(Uuid::from_u128(2)))
        );
        assert!(skipped.override_active.is_none());
        let secondary_away = [leave(1, "2026-06-02T00:00:00Z", "2026-06-05T00:00:00Z")];
        let s = r.on_call(t, &secondary_away).unwrap();
        assert_eq!(
            (s.primary, s.secondary),
            (Uuid::from_u128(3), Some(Uuid::from_u128(2)))
        );
        let mut all = vec![
            leave(1, "2026-06-01T00:00:00Z", "2026-06-09T00:00:00Z"),
            leave(2, "2026-06-01T00:00:00Z", "2026-06-09T00:00:00Z"),
            leave(3, "2026-06-01T00:00:00Z", "2026-06-09T00:00:00Z"),
        ];
        assert!(r.on_call(t, &all).is_none(), "everyone away, nobody covering");
        all.push(Override {
            user: Uuid::from_u128(42),
            starts_at: utc("2026-06-03T00:00:00Z"),
            ends_at: utc("2026-06-04T00:00:00Z"),
            kind: OverrideKind::Cover,
        });
        assert_eq!(r.on_call(t, &all).unwrap().primary, Uuid::from_u128(42));
    }

    #[test]
    fn overrides_beat_the_rotation_and_nobody_is_on_call_outside_the_roster() {
        let mut r = rotation("UTC", 1, "09:00", "2026-06-01", 2);
        r.end_date = Some(NaiveDate::from_ymd_opt(2026, 6, 10).unwrap());
        let cover = Override {
            user: Uuid::from_u128(99),
            starts_at: utc("2026-06-03T12:00:00Z"),
            ends_at: utc("2026-06-03T18:00:00Z"),
            kind: OverrideKind::Cover,
        };
        let at = |s: &str| r.on_call(utc(s), std::slice::from_ref(&cover));
        assert_eq!(at("2026-06-03T11:59:00Z").unwrap().primary, Uuid::from_u128(1));
        let during = at("2026-06-03T12:00:00Z").unwrap();
        assert_eq!(
            (during.primary, during.override_active.is_some()),
            (Uuid::from_u128(99), true)
        );
        assert_eq!(during.secondary, Some(Uuid::from_u128(2)));
        assert_eq!(at("2026-06-03T18:00:00Z").unwrap().primary, Uuid::from_u128(1));
        assert!(at("2026-06-01T08:59:00Z").is_none(), "before the first handoff");
        assert!(at("2026-06-10T09:00:00Z").is_none(), "after the end");
        assert_eq!(
            r.shifts_between(utc("2026-06-01T00:00:00Z"), utc("2026-07-01T00:00:00Z"))
                .len(),
            9
        );
    }

    #[test]
    fn follow_the_sun_switches_at_both_handoffs() {
        let europe = rotation("Europe/Berlin", 1, "08:00", "2026-01-01", 2);
        let america = rotation("America/Los_Angeles", 1, "08:00", "2026-01-01", 2);
        let both = [&europe, &america];
        // Winter: Berlin 08:00 = 07:00Z, Los Angeles 08:00 = 16:00Z.
        assert_eq!(follow_the_sun(&both, utc("2026-01-15T06:59:00Z")), Some(1));
        assert_eq!(follow_the_sun(&both, utc("2026-01-15T07:00:00Z")), Some(0));
        assert_eq!(follow_the_sun(&both, utc("2026-01-15T15:59:00Z")), Some(0));
        assert_eq!(follow_the_sun(&both, utc("2026-01-15T16:00:00Z")), Some(1));
        // Exactly one is active at every instant of a week spanning Europe's DST change.
        let mut t = utc("2026-03-25T00:00:00Z");
        while t < utc("2026-04-01T00:00:00Z") {
            assert!(follow_the_sun(&both, t).is_some());
            t += Duration::minutes(10);
        }
    }
}

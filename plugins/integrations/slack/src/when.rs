//! Times as Slack messages show them. Two kinds: an instant in a notice ("acknowledged at ...") is a
//! Slack date token, which every reader's Slack shows in their own time zone; a roster's shift times
//! are shown in the roster's own UTC offset, which the host already put in the RFC 3339 text
//! ("Mon 13 Jan 09:00–Tue 14 Jan 09:00 (+01:00)"), because that is the time the rotation is defined in.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::mrkdwn::escape;

/// An RFC 3339 instant, keeping its offset.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

/// `Mon 13 Jan 09:00` in the instant's own offset.
fn local(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[weekday repr:short] [day padding:none] [month repr:short] [hour]:[minute]"
    ))
    .unwrap_or_else(|_| t.to_string())
}

/// `+01:00`, `-05:00`, `+00:00`.
fn offset(o: UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if o.is_negative() { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

/// `Tue 14 Jan 09:00 (+01:00)`: an instant in its own offset. Unreadable text is shown as sent.
pub fn at(text: &str) -> String {
    match parse(text) {
        Some(t) => format!("{} ({})", local(t), offset(t.offset())),
        None => text.to_string(),
    }
}

/// `Mon 13 Jan 09:00–Tue 14 Jan 09:00 (+01:00)`, or with an offset on each end when they differ (a
/// shift across a daylight-saving change).
pub fn span(start: &str, end: &str) -> String {
    match (parse(start), parse(end)) {
        (Some(s), Some(e)) if s.offset() == e.offset() => {
            format!("{}–{} ({})", local(s), local(e), offset(s.offset()))
        }
        _ => format!("{}–{}", at(start), at(end)),
    }
}

/// A Slack date token (`<!date^1736758800^{date_short_pretty} at {time}|Mon 13 Jan 09:00 (+00:00)>`):
/// Slack shows it in the reader's time zone, the text after `|` where it cannot. Unreadable text is
/// shown as sent (escaped).
pub fn slack_date(text: &str) -> String {
    match parse(text) {
        Some(t) => format!(
            "<!date^{}^{{date_short_pretty}} at {{time}}|{}>",
            t.unix_timestamp(),
            at(text)
        ),
        None => escape(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_times_stay_in_the_rosters_offset() {
        assert_eq!(
            span("2025-01-13T09:00:00+01:00", "2025-01-14T09:00:00+01:00"),
            "Mon 13 Jan 09:00–Tue 14 Jan 09:00 (+01:00)"
        );
        assert_eq!(
            span("2025-03-29T09:00:00+01:00", "2025-03-30T09:00:00+02:00"),
            "Sat 29 Mar 09:00 (+01:00)–Sun 30 Mar 09:00 (+02:00)"
        );
        assert_eq!(at("2025-01-14T08:00:00Z"), "Tue 14 Jan 08:00 (+00:00)");
        assert_eq!(at("2025-01-14T03:30:00-05:30"), "Tue 14 Jan 03:30 (-05:30)");
        assert_eq!(at("soon"), "soon");
    }

    #[test]
    fn instants_become_slack_date_tokens() {
        assert_eq!(
            slack_date("2025-01-13T09:00:00+01:00"),
            "<!date^1736755200^{date_short_pretty} at {time}|Mon 13 Jan 09:00 (+01:00)>"
        );
        assert_eq!(slack_date("<later>"), "&lt;later&gt;");
    }
}

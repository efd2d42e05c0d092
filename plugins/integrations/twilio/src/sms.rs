//! SMS texts: the alert page fitted into one segment when it can be, the short confirmations of
//! status changes, and the replies people send back (`1234a`, `ack 1234`, `a #1234`, ...).

/// What a reply asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `a`, `ack`, `acknowledge`, digit 4 in a call.
    Acknowledge,
    /// `e`, `esc`, `escalate`, digit 5.
    Escalate,
    /// `r`, `res`, `resolve`, digit 6.
    Resolve,
}

impl Action {
    /// The past tense, as confirmations say it.
    pub fn done(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledged",
            Action::Escalate => "escalated",
            Action::Resolve => "resolved",
        }
    }

    fn from_word(word: &str) -> Option<Action> {
        match word {
            "a" | "ack" | "acknowledge" => Some(Action::Acknowledge),
            "e" | "esc" | "escalate" => Some(Action::Escalate),
            "r" | "res" | "resolve" => Some(Action::Resolve),
            _ => None,
        }
    }
}

/// An SMS reply as understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// An action on the alert with this number.
    Act(Action, u64),
    /// An action without a number (`a`, `ack`): meant for the last alert sent to the person.
    Bare(Action),
    /// Anything else.
    Unknown,
}

/// Reads a reply: the alert number and the action word in either order, `#` optional, any case and
/// spacing (`1234a`, `1234 A`, `ack 1234`, `a #1234`, ` Resolve  #1234 `), or the word alone.
pub fn parse_reply(text: &str) -> Reply {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '#')
        .collect::<String>()
        .to_lowercase();
    let s = squeezed.trim_end_matches(['.', '!']);
    let split = |s: &str| -> (String, String) {
        let first_digit = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let first_letter = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        if first_digit == 0 {
            (s[first_letter..].to_string(), s[..first_letter].to_string())
        } else {
            (s[..first_digit].to_string(), s[first_digit..].to_string())
        }
    };
    let (word, number) = split(s);
    let Some(action) = Action::from_word(&word) else {
        return Reply::Unknown;
    };
    if number.is_empty() {
        return Reply::Bare(action);
    }
    match number.parse::<u64>() {
        Ok(n) if number.chars().all(|c| c.is_ascii_digit()) => Reply::Act(action, n),
        _ => Reply::Unknown,
    }
}

/// The answer to anything not understood. It names no alert: an unknown number gets it too.
pub const HELP: &str = "NightOwl: reply with the alert number and a letter, e.g. 1234a to acknowledge, 1234e to escalate, 1234r to resolve alert #1234.";

/// The answer to a bare `a` / `e` / `r` when the host knows of no alert it paged the number about.
pub fn bare_help(action: Action) -> String {
    let letter = match action {
        Action::Acknowledge => "a",
        Action::Escalate => "e",
        Action::Resolve => "r",
    };
    format!("NightOwl: which alert? Reply with its number, e.g. 1234{letter} for alert #1234.")
}

/// The page for a new alert: `#1234 CRITICAL checkout-api: <title> Reply 1234a to ack, 1234e to
/// escalate, 1234r to resolve`, the title shortened so the text fits one SMS segment when it can.
pub fn alert_text(number: u64, severity: &str, service: Option<&str>, title: &str) -> String {
    bundle_text(number, severity, service, title, None)
}

/// The page for an alert that stands for others too (a paging storm): `#1234 CRITICAL
/// checkout-api: <title> +12 more, worst CRITICAL. Reply 1234a to ack all 13, 1234e to escalate
/// all, 1234r to resolve #1234`. Without a bundle, [`alert_text`].
pub fn bundle_text(
    number: u64,
    severity: &str,
    service: Option<&str>,
    title: &str,
    bundle: Option<&Bundle>,
) -> String {
    let service = service
        .map(one_line)
        .filter(|s| !s.is_empty())
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    let prefix = format!("#{number} {}{service}: ", severity.to_uppercase());
    let suffix = match bundle {
        None => format!(" Reply {number}a to ack, {number}e to escalate, {number}r to resolve"),
        Some(b) => format!(
            " +{} more, worst {}. Reply {number}a to ack all {}, {number}e to escalate all, {number}r to resolve #{number}",
            b.more,
            b.worst_severity.to_uppercase(),
            b.more + 1
        ),
    };
    fit(&prefix, &one_line(title), &suffix)
}

/// The other alerts a page stands for when NightOwl folded a paging storm into it (the host's
/// `nightowl.bundle.*` values): acknowledging or escalating the page's alert does the same to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// How many other open alerts.
    pub more: u64,
    /// The worst severity among them and the page's alert.
    pub worst_severity: String,
}

impl Bundle {
    /// The bundle of the notification being delivered, if any.
    pub fn from_config() -> Option<Bundle> {
        let more = nightowl_plugin_sdk_channel::config::get("nightowl.bundle.more")?
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)?;
        let worst_severity = nightowl_plugin_sdk_channel::config::get("nightowl.bundle.worst_severity")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".into());
        Some(Bundle { more, worst_severity })
    }

    /// `and 12 more alerts, the worst critical`.
    pub fn spoken(&self) -> String {
        let alerts = if self.more == 1 { "alert" } else { "alerts" };
        format!(
            "And {} more {alerts}, the worst {}.",
            self.more, self.worst_severity
        )
    }
}

/// A confirmation: `#1234 acknowledged by alice@acme.example via twilio` (who, as the alert's
/// history names them).
pub fn update_text(number: u64, what: &str, by: Option<&str>) -> String {
    match by.map(one_line).filter(|b| !b.is_empty()) {
        Some(by) => format!("#{number} {what} by {by}"),
        None => format!("#{number} {what}"),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// GSM 03.38 basic character set: one septet each.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension table: two septets each (escape + character).
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// One segment: 160 GSM-7 septets, or 70 UTF-16 units once any character needs UCS-2.
const GSM7_SEGMENT: usize = 160;
const UCS2_SEGMENT: usize = 70;
/// Concatenated UCS-2 segments carry 67 units each; two of them when one cannot hold the reply codes.
const UCS2_TWO_SEGMENTS: usize = 2 * 67;

fn septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Whether every character has a GSM-7 encoding.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| septets(c).is_some())
}

/// What the text costs in its encoding: septets for GSM-7, UTF-16 units for UCS-2.
pub fn cost(text: &str) -> usize {
    if is_gsm7(text) {
        text.chars().filter_map(septets).sum()
    } else {
        text.encode_utf16().count()
    }
}

/// How many segments the text takes.
pub fn segments(text: &str) -> usize {
    let (single, multi) = if is_gsm7(text) {
        (GSM7_SEGMENT, 153)
    } else {
        (UCS2_SEGMENT, 67)
    };
    let units = cost(text);
    if units <= single { 1 } else { units.div_ceil(multi) }
}

/// `prefix + title + suffix`, the title cut (ending in an ellipsis) so the whole fits one segment.
/// In GSM-7 the ellipsis is `...`: `…` is not GSM-7 and would turn the whole text into UCS-2, where
/// a segment holds 70 characters instead of 160. A UCS-2 text whose prefix and reply codes alone
/// fill a segment gets two.
fn fit(prefix: &str, title: &str, suffix: &str) -> String {
    let whole = format!("{prefix}{title}{suffix}");
    let gsm = is_gsm7(&whole);
    let (limit, ellipsis) = if gsm {
        (GSM7_SEGMENT, "...")
    } else {
        (UCS2_SEGMENT, "…")
    };
    if cost(&whole) <= limit {
        return whole;
    }
    let unit = |c: char| {
        if gsm {
            septets(c).unwrap_or(2)
        } else {
            c.len_utf16()
        }
    };
    let units = |s: &str| s.chars().map(unit).sum::<usize>();
    let fixed = |limit: usize| limit.checked_sub(units(prefix) + units(suffix) + units(ellipsis));
    let budget = match fixed(limit) {
        Some(b) if b >= 10 => b,
        _ if !gsm => fixed(UCS2_TWO_SEGMENTS).unwrap_or(0),
        _ => fixed(limit).unwrap_or(0),
    };
    let mut kept = String::new();
    let mut used = 0;
    for c in title.chars() {
        if used + unit(c) > budget {
            break;
        }
        used += unit(c);
        kept.push(c);
    }
    format!("{prefix}{}{ellipsis}{suffix}", kept.trim_end())
}

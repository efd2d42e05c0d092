//! Request validation rules, shared so the UI can check a form with exactly the server's rules.

use std::collections::BTreeMap;

/// Per-field problems found in a request body; empty means valid.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// Records a problem with `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_default().push(message.into());
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Requires a non-blank string of at most `max` characters.
    pub fn required(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "must not be empty");
        } else {
            self.max_len(field, value, max);
        }
    }

    /// Limits a string to `max` characters.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// Requires an IANA time zone name such as `Europe/Berlin`.
    pub fn timezone(&mut self, field: &str, value: &str) {
        if !is_timezone(value) {
            self.add(field, "must be an IANA time zone such as Europe/Berlin");
        }
    }

    /// Requires an E.164 phone number such as `+4915112345678`.
    pub fn phone(&mut self, field: &str, value: &str) {
        if !is_e164(value) {
            self.add(field, "must be an E.164 phone number such as +4915112345678");
        }
    }

    /// Requires something that looks like an e-mail address (one `@`, non-empty parts, no spaces).
    pub fn email(&mut self, field: &str, value: &str) {
        let ok = value.len() <= 254
            && !value.contains(char::is_whitespace)
            && matches!(value.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.contains('@')
                    && !domain.starts_with('.') && !domain.ends_with('.'));
        if !ok {
            self.add(field, "must be an e-mail address");
        }
    }

    /// Turns the collected problems into a result.
    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// True for an IANA time zone name known to the bundled tz database.
pub fn is_timezone(value: &str) -> bool {
    value.parse::<chrono_tz::Tz>().is_ok()
}

/// True for an E.164 number: `+`, a non-zero digit, at most 15 digits in all.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// A request body that can check itself before the server acts on it.
pub trait Validate {
    /// Returns every problem found, keyed by field name.
    fn validate(&self) -> Result<(), FieldErrors>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_accepts_international_numbers_only() {
        assert!(is_e164("+4915112345678"));
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("4915112345678"));
        assert!(!is_e164("+0123"));
        assert!(!is_e164("+1"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+49 151 123"));
    }

    #[test]
    fn timezone_accepts_iana_names() {
        assert!(is_timezone("Europe/Berlin"));
        assert!(is_timezone("UTC"));
        assert!(!is_timezone("Mars/Olympus"));
        assert!(!is_timezone(""));
    }

    #[test]
    fn email_rejects_obvious_garbage() {
        let mut e = FieldErrors::default();
        e.email("a", "alice@acme.example");
        assert!(e.is_empty());
        for bad in [
            "alice",
            "@acme.example",
            "alice@",
            "a b@c.d",
            "a@b",
            "a@.b",
            "a@b@c.d",
        ] {
            let mut e = FieldErrors::default();
            e.email("a", bad);
            assert!(!e.is_empty(), "{bad} accepted");
        }
    }

    #[test]
    fn required_and_length_are_reported_per_field() {
        let mut e = FieldErrors::default();
        e.required("name", "  ", 10);
        e.required("title", "abcdefghijk", 10);
        assert_eq!(e.0["name"], vec!["must not be empty"]);
        assert_eq!(e.0["title"], vec!["must be at most 10 characters"]);
    }
}

//! The fake's Twilio account: the calls and messages created on it, and for each resource the checks
//! Twilio makes of a create request's parameters and the answer it gives.

use serde_json::{Value, json};

use super::twiml::{Twiml, TwimlErrorKind};
use super::{API_VERSION, PhoneCall, Resource, TextMessage, TwilioError, new_sid, num_segments};

/// The longest inline TwiML Twilio takes, in characters.
const MAX_TWIML_CHARS: usize = 4000;
/// The longest SMS body Twilio takes, in characters.
const MAX_BODY_CHARS: usize = 1600;
/// The call status changes a `StatusCallbackEvent` may name.
const CALL_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

/// A request's form fields, in order.
type Form = [(String, String)];

/// What the account holds.
#[derive(Debug, Default)]
pub(crate) struct Account {
    calls: Vec<PhoneCall>,
    messages: Vec<TextMessage>,
}

impl Account {
    /// Phone calls created so far.
    pub(crate) fn calls(&self) -> &[PhoneCall] {
        &self.calls
    }

    /// SMS created so far.
    pub(crate) fn messages(&self) -> &[TextMessage] {
        &self.messages
    }

    /// Creates a call or a message of the account `account_sid` from the form fields; answers its
    /// JSON, or the error Twilio gives.
    pub(crate) fn create(
        &mut self,
        account_sid: &str,
        resource: Resource,
        form: &Form,
    ) -> Result<Value, TwilioError> {
        match resource {
            Resource::Calls => self.create_call(account_sid, form),
            Resource::Messages => self.create_message(account_sid, form),
        }
    }

    fn create_call(&mut self, account_sid: &str, form: &Form) -> Result<Value, TwilioError> {
        let to =
            arg(form, "To").ok_or_else(|| TwilioError::bad_request(21201, "No 'To' number is specified"))?;
        let from = arg(form, "From")
            .ok_or_else(|| TwilioError::bad_request(21213, "No 'From' number is specified"))?;
        let url = arg(form, "Url");
        let twiml = arg(form, "Twiml");
        let application_sid = arg(form, "ApplicationSid");
        match [url, twiml, application_sid].iter().flatten().count() {
            0 => {
                return Err(TwilioError::bad_request(
                    21205,
                    "Url parameter is required. Please provide a Url, Twiml or ApplicationSid parameter.",
                ));
            }
            1 => {}
            _ => {
                return Err(TwilioError::bad_request(
                    21200,
                    "Url, Twiml and ApplicationSid are mutually exclusive: give one",
                ));
            }
        }
        if !is_e164(to) {
            return Err(TwilioError::bad_request(
                21211,
                format!("The 'To' number {to} is not a valid phone number."),
            ));
        }
        if !is_e164(from) {
            return Err(TwilioError::bad_request(
                21212,
                format!("The 'From' number {from} is not a valid phone number."),
            ));
        }
        if let Some(url) = url.filter(|u| !is_absolute_http_url(u)) {
            return Err(TwilioError::bad_request(
                21205,
                format!("Url is not a valid URL: {url}"),
            ));
        }
        if let Some(sid) = application_sid.filter(|s| !is_sid(s, "AP")) {
            return Err(TwilioError::bad_request(
                21218,
                format!("Invalid ApplicationSid: {sid}"),
            ));
        }
        if let Some(xml) = twiml {
            check_twiml(xml)?;
        }
        for name in ["Method", "FallbackMethod", "StatusCallbackMethod"] {
            if let Some(method) = arg(form, name).filter(|m| !is_http_method(m)) {
                return Err(TwilioError::bad_request(
                    21209,
                    format!("{name} must be GET or POST, not {method}"),
                ));
            }
        }
        let timeout = match arg(form, "Timeout") {
            None => None,
            Some(t) => match t.parse::<u32>() {
                Ok(secs) if secs > 0 => Some(secs),
                _ => {
                    return Err(TwilioError::bad_request(
                        21208,
                        format!("Timeout must be a positive whole number of seconds, not {t}"),
                    ));
                }
            },
        };
        let status_callback = status_callback(form)?;
        // Some clients send the events space-separated in one field, as TwiML attributes take them.
        let events: Vec<String> = args(form, "StatusCallbackEvent")
            .iter()
            .flat_map(|v| v.split_whitespace())
            .map(str::to_owned)
            .collect();
        if let Some(event) = events.iter().find(|e| !CALL_EVENTS.contains(&e.as_str())) {
            return Err(TwilioError::bad_request(
                21626,
                format!("Invalid StatusCallbackEvent: {event}"),
            ));
        }

        let sid = new_sid("CA");
        let date = now_rfc2822();
        let uri = format!("/{API_VERSION}/Accounts/{account_sid}/Calls/{sid}");
        let answer = json!({
            "account_sid": account_sid,
            "annotation": null,
            "answered_by": null,
            "api_version": API_VERSION,
            "caller_name": null,
            "date_created": date,
            "date_updated": date,
            "direction": "outbound-api",
            "duration": null,
            "end_time": null,
            "forwarded_from": null,
            "from": from,
            "from_formatted": from,
            "group_sid": null,
            "parent_call_sid": null,
            "phone_number_sid": null,
            "price": null,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": null,
            "status": "queued",
            "subresource_uris": {
                "events": format!("{uri}/Events.json"),
                "notifications": format!("{uri}/Notifications.json"),
                "recordings": format!("{uri}/Recordings.json"),
            },
            "to": to,
            "to_formatted": to,
            "trunk_sid": null,
            "uri": format!("{uri}.json"),
        });
        self.calls.push(PhoneCall {
            sid,
            to: to.to_owned(),
            from: from.to_owned(),
            status: "queued".into(),
            twiml: twiml.map(str::to_owned),
            url: url.map(str::to_owned),
            application_sid: application_sid.map(str::to_owned),
            timeout,
            status_callback,
            status_callback_method: arg(form, "StatusCallbackMethod").map(str::to_owned),
            status_callback_events: events,
            date_created: date,
        });
        Ok(answer)
    }

    fn create_message(&mut self, account_sid: &str, form: &Form) -> Result<Value, TwilioError> {
        let to = arg(form, "To")
            .ok_or_else(|| TwilioError::bad_request(21604, "A 'To' phone number is required."))?;
        let from = arg(form, "From");
        let service = arg(form, "MessagingServiceSid");
        if from.is_none() && service.is_none() {
            return Err(TwilioError::bad_request(
                21603,
                "A 'From' phone number is required.",
            ));
        }
        let body = arg(form, "Body").unwrap_or_default();
        let has_media = arg(form, "MediaUrl").is_some() || arg(form, "ContentSid").is_some();
        if body.is_empty() && !has_media {
            return Err(TwilioError::bad_request(21602, "Message body is required."));
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(TwilioError::bad_request(
                21617,
                "The concatenated message body exceeds the 1600 character limit.",
            ));
        }
        if !is_e164(to) {
            return Err(TwilioError::bad_request(
                21211,
                format!("The 'To' number {to} is not a valid phone number."),
            ));
        }
        if let Some(from) = from.filter(|f| !is_sms_sender(f)) {
            return Err(TwilioError::bad_request(
                21212,
                format!(
                    "The 'From' number {from} is not a valid phone number, shortcode, or alphanumeric sender ID."
                ),
            ));
        }
        if let Some(service) = service.filter(|s| !is_sid(s, "MG")) {
            return Err(TwilioError::bad_request(
                21701,
                format!("The Messaging Service Sid {service} is invalid."),
            ));
        }
        let status_callback = status_callback(form)?;

        let sid = new_sid("SM");
        let date = now_rfc2822();
        let segments = num_segments(body);
        // Twilio queues a message sent through a Messaging Service as `accepted` until the service
        // picks the sender.
        let status = if from.is_none() { "accepted" } else { "queued" };
        let uri = format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}");
        let answer = json!({
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": date,
            "date_sent": null,
            "date_updated": date,
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": from,
            "messaging_service_sid": service,
            // Twilio answers both counts as strings.
            "num_media": if has_media { "1" } else { "0" },
            "num_segments": segments.to_string(),
            "price": null,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": { "media": format!("{uri}/Media.json") },
            "to": to,
            "uri": format!("{uri}.json"),
        });
        self.messages.push(TextMessage {
            sid,
            to: to.to_owned(),
            from: from.map(str::to_owned),
            messaging_service_sid: service.map(str::to_owned),
            body: body.to_owned(),
            num_segments: segments,
            status: status.into(),
            status_callback,
            date_created: date,
        });
        Ok(answer)
    }
}

/// The first non-empty value of a field: Twilio takes an empty parameter as not given.
fn arg<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Every value of a repeated field.
fn args<'a>(form: &'a Form, name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `StatusCallback`, if given, when it is a URL Twilio could post to.
fn status_callback(form: &Form) -> Result<Option<String>, TwilioError> {
    match arg(form, "StatusCallback") {
        None => Ok(None),
        Some(url) if is_absolute_http_url(url) => Ok(Some(url.to_owned())),
        Some(url) => Err(TwilioError::bad_request(
            21609,
            format!("The StatusCallback URL {url} is not a valid URL."),
        )),
    }
}

/// Inline TwiML as Twilio would run it: not too long, well-formed, voice verbs only.
fn check_twiml(xml: &str) -> Result<(), TwilioError> {
    if xml.chars().count() > MAX_TWIML_CHARS {
        return Err(TwilioError::bad_request(
            32018,
            "Twiml size exceeded maximum allowed value of 4000 characters",
        ));
    }
    Twiml::parse(xml).map(|_| ()).map_err(|e| match e.kind {
        TwimlErrorKind::Malformed => {
            TwilioError::bad_request(12100, format!("Document parse failure: {}", e.message))
        }
        TwimlErrorKind::Schema => {
            TwilioError::bad_request(12200, format!("Schema validation warning: {}", e.message))
        }
    })
}

/// `+`, a country code that does not start with 0, 8 to 15 digits in all.
pub(crate) fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// An SMS sender: an E.164 number, a short code or an alphanumeric sender ID.
fn is_sms_sender(from: &str) -> bool {
    let short_code = (3..=8).contains(&from.len()) && from.bytes().all(|b| b.is_ascii_digit());
    let alphanumeric = (1..=11).contains(&from.len())
        && from.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && from.bytes().any(|b| b.is_ascii_alphabetic());
    is_e164(from) || short_code || alphanumeric
}

/// `prefix` and 32 hex digits.
fn is_sid(sid: &str, prefix: &str) -> bool {
    sid.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_http_method(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("POST")
}

/// An absolute `http`/`https` URL with a host: what Twilio can call back.
fn is_absolute_http_url(url: &str) -> bool {
    url::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
}

/// Now as Twilio writes dates in the 2010-04-01 API: `Tue, 05 Aug 2025 14:03:07 +0000`.
fn now_rfc2822() -> String {
    chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = super::super::ACCOUNT_SID;
    const TWIML: &str = "<Response><Say>Hi</Say></Response>";

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn e164_is_a_plus_and_8_to_15_digits() {
        assert!(is_e164("+15005550006"));
        assert!(is_e164("+4930123456"));
        assert!(!is_e164("15005550006"), "no plus");
        assert!(!is_e164("+1500555"), "7 digits");
        assert!(!is_e164("+1234567890123456"), "16 digits");
        assert!(!is_e164("+0123456789"), "no country code starts with 0");
        assert!(!is_e164("+1 500 555 0006"));
        assert!(!is_e164("tel:+15005550006"));
    }

    #[test]
    fn sms_senders_may_be_short_codes_or_alphanumeric_ids() {
        assert!(is_sms_sender("+15005550006"));
        assert!(is_sms_sender("12345"));
        assert!(is_sms_sender("NightOwl"));
        assert!(!is_sms_sender("NightOwlAlerts"), "12 characters");
        assert!(!is_sms_sender("1"));
        assert!(!is_sms_sender("Night-Owl"));
    }

    #[test]
    fn a_call_needs_exactly_one_source_of_instructions() {
        let mut account = Account::default();
        let base = [("To", "+15005550006"), ("From", "+15005550001")];
        let none = account.create(ACCOUNT, Resource::Calls, &form(&base));
        assert_eq!(none.unwrap_err().code, 21205);
        let mut two = base.to_vec();
        two.extend([("Url", "https://example.com/twiml"), ("Twiml", TWIML)]);
        assert_eq!(
            account
                .create(ACCOUNT, Resource::Calls, &form(&two))
                .unwrap_err()
                .code,
            21200
        );
        let mut relative = base.to_vec();
        relative.push(("Url", "/twiml"));
        assert_eq!(
            account
                .create(ACCOUNT, Resource::Calls, &form(&relative))
                .unwrap_err()
                .code,
            21205
        );
        assert!(account.calls().is_empty());
    }

    #[test]
    fn call_options_are_checked_and_kept() {
        let mut account = Account::default();
        let call = |extra: &[(&str, &str)], account: &mut Account| {
            let mut fields = vec![("To", "+15005550006"), ("From", "+15005550001"), ("Twiml", TWIML)];
            fields.extend_from_slice(extra);
            account.create(ACCOUNT, Resource::Calls, &form(&fields))
        };
        let code = |r: Result<Value, TwilioError>| r.unwrap_err().code;
        assert_eq!(code(call(&[("Timeout", "0")], &mut account)), 21208);
        assert_eq!(code(call(&[("Timeout", "soon")], &mut account)), 21208);
        assert_eq!(
            code(call(&[("StatusCallbackMethod", "PUT")], &mut account)),
            21209
        );
        assert_eq!(code(call(&[("StatusCallback", "/status")], &mut account)), 21609);
        assert_eq!(
            code(call(&[("StatusCallbackEvent", "hungup")], &mut account)),
            21626
        );
        let ok = call(
            &[
                ("Timeout", "30"),
                (
                    "StatusCallback",
                    "https://nightowl.example/api/v1/twilio/status?alert=a1",
                ),
                ("StatusCallbackEvent", "answered"),
                ("StatusCallbackEvent", "completed"),
            ],
            &mut account,
        )
        .unwrap();
        let created = &account.calls()[0];
        assert_eq!(ok["sid"], created.sid.as_str());
        assert_eq!(created.timeout, Some(30));
        assert_eq!(created.status_callback_events, ["answered", "completed"]);
    }

    #[test]
    fn twiml_too_long_malformed_or_off_schema_is_refused() {
        let long = format!("<Response><Say>{}</Say></Response>", "a".repeat(4000));
        assert_eq!(check_twiml(&long).unwrap_err().code, 32018);
        assert_eq!(
            check_twiml("<Response><Say>Hi</Response>").unwrap_err().code,
            12100
        );
        assert_eq!(
            check_twiml("<Response><Message>Hi</Message></Response>")
                .unwrap_err()
                .code,
            12200
        );
        assert!(check_twiml(TWIML).is_ok());
    }

    #[test]
    fn a_message_through_a_messaging_service_is_accepted_without_from() {
        let mut account = Account::default();
        let service = "MG0123456789abcdef0123456789abcdef";
        let answer = account
            .create(
                ACCOUNT,
                Resource::Messages,
                &form(&[
                    ("To", "+15005550006"),
                    ("MessagingServiceSid", service),
                    ("Body", "hi"),
                ]),
            )
            .unwrap();
        assert_eq!(answer["status"], "accepted");
        assert_eq!(answer["from"], Value::Null);
        assert_eq!(answer["messaging_service_sid"], service);
        let bad_service = account.create(
            ACCOUNT,
            Resource::Messages,
            &form(&[
                ("To", "+15005550006"),
                ("MessagingServiceSid", "MG1"),
                ("Body", "hi"),
            ]),
        );
        assert_eq!(bad_service.unwrap_err().code, 21701);
    }

    #[test]
    fn message_parameters_get_twilios_codes() {
        let mut account = Account::default();
        let mut send = |pairs: &[(&str, &str)]| {
            account
                .create(ACCOUNT, Resource::Messages, &form(pairs))
                .map(|_| ())
                .unwrap_err()
                .code
        };
        assert_eq!(send(&[("From", "+15005550001"), ("Body", "x")]), 21604);
        assert_eq!(send(&[("To", "+15005550006"), ("Body", "x")]), 21603);
        assert_eq!(send(&[("To", "+15005550006"), ("From", "+15005550001")]), 21602);
        assert_eq!(
            send(&[("To", "+15005550006"), ("From", "+15005550001"), ("Body", "")]),
            21602
        );
        let long = "a".repeat(1601);
        assert_eq!(
            send(&[("To", "+15005550006"), ("From", "+15005550001"), ("Body", &long)]),
            21617
        );
        assert_eq!(
            send(&[("To", "5550006"), ("From", "+15005550001"), ("Body", "x")]),
            21211
        );
        assert_eq!(
            send(&[("To", "+15005550006"), ("From", "Night-Owl!"), ("Body", "x")]),
            21212
        );
    }
}

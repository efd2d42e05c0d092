//! What the tests share: the published signature vectors, signed callbacks, a realistic alert.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nightowl_plugin_sdk_channel::crypto::{self, Alg};
use nightowl_plugin_sdk_channel::incidents::AlertDetails;
use nightowl_plugin_sdk_channel::testing::Host;
use nightowl_plugin_sdk_channel::{AlertRef, Request, Responder};
use serde_json::Value;

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "primary-token-123";
pub const FROM: &str = "+15005550006";
pub const ALICE: &str = "+14155550100";
pub const PUBLIC: &str = "https://nightowl.example.com";
pub const ALERT_ID: &str = "0b6f1c2e-1111-4222-8333-944455556666";
pub const CALLS: &str =
    "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json";
pub const MESSAGES: &str =
    "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// The published signature vectors.
pub fn vectors() -> Value {
    let path = format!(
        "{}/tests/fixtures/signature_vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A host with the tenant's settings and primary token, reaching people by `via`.
pub fn host(via: &str) -> Host {
    Host::new()
        .config("account_sid", SID)
        .config("from_number", FROM)
        .config("nightowl.channel", via)
        .config("nightowl.public_url", PUBLIC)
        .config("nightowl.tenant", "acme")
        .secret("auth_token", TOKEN)
}

/// A form body from pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A callback to `path?query` with a form body, signed as Twilio signs it with the secret `key`.
pub fn signed_with(key: &str, path: &str, query: &str, pairs: &[(&str, &str)]) -> Request {
    let public_url = format!("{PUBLIC}/api/v1/twilio{path}?{query}");
    let mut sorted: Vec<_> = pairs.to_vec();
    sorted.sort();
    let data: String = std::iter::once(public_url.clone())
        .chain(sorted.iter().map(|(k, v)| format!("{k}{v}")))
        .collect();
    let mac = crypto::hmac(Alg::Sha1, key, data.as_bytes()).unwrap();
    let mut req = unsigned(path, query, pairs);
    req.headers
        .push(("x-twilio-signature".into(), STANDARD.encode(mac)));
    req.public_url = public_url;
    req
}

/// [`signed_with`] the primary token.
pub fn signed(path: &str, query: &str, pairs: &[(&str, &str)]) -> Request {
    signed_with("auth_token", path, query, pairs)
}

/// The same callback without a signature.
pub fn unsigned(path: &str, query: &str, pairs: &[(&str, &str)]) -> Request {
    Request {
        method: "POST".into(),
        path: path.into(),
        query: Some(query.into()),
        headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
        body: form(pairs).into_bytes(),
        public_url: format!("{PUBLIC}/api/v1/twilio{path}?{query}"),
    }
}

pub fn alice() -> Responder {
    Responder {
        user_id: "user-alice".into(),
        name: "Alice".into(),
        phone: Some(ALICE.into()),
        timezone: "Europe/Berlin".into(),
        identities: vec![],
    }
}

/// Alert #1234, critical, on checkout-api, with a known fix.
pub fn alert(title: &str) -> AlertDetails {
    AlertDetails {
        alert: AlertRef {
            id: ALERT_ID.into(),
            title: title.into(),
            status: "firing".into(),
            severity: "critical".into(),
            priority: Some("P1".into()),
            service: Some("checkout-api".into()),
            description: None,
            suggested_solution: Some("Restart the payment worker. Then check the queue depth.".into()),
            occurrence_count: 1,
            url: format!("{PUBLIC}/alerts/{ALERT_ID}"),
        },
        number: 1234,
        created_at: "2026-01-01T03:00:00Z".into(),
        ..AlertDetails::default()
    }
}

/// Every text inside elements named `name` of an XML document, parsed by a real XML reader.
pub fn xml_texts(xml: &str, name: &str) -> Vec<String> {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut inside = 0;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == name.as_bytes() => {
                inside += 1;
                out.push(String::new());
            }
            Event::End(e) if e.name().as_ref() == name.as_bytes() => inside -= 1,
            Event::Text(t) if inside > 0 => {
                let text = t.decode().unwrap();
                let text = quick_xml::escape::unescape(&text).unwrap();
                out.last_mut().unwrap().push_str(&text);
            }
            Event::GeneralRef(r) if inside > 0 => {
                let name = r.decode().unwrap();
                let c = match name.as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                };
                out.last_mut().unwrap().push_str(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// The names of every element of an XML document, in order.
pub fn xml_elements(xml: &str) -> Vec<String> {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                out.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap())
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// The value of an attribute of the first element named `name`.
pub fn xml_attr(xml: &str, name: &str, attr: &str) -> Option<String> {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == name.as_bytes() => {
                return e
                    .try_get_attribute(attr)
                    .unwrap()
                    .map(|a| a.unescape_value().unwrap().into_owned());
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

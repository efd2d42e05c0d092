//! Signature checks: every published vector, the secondary token, and 403 for what is not signed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nightowl_plugin_sdk_channel::crypto::{self, Alg};
use nightowl_plugin_sdk_channel::testing::{self, Host};
use nightowl_plugin_sdk_channel::{Channel, Request};
use nightowl_plugin_twilio::{Twilio, signature};
use serde_json::Value;

use crate::common::{ALERT_ID, ALICE, TOKEN, alert, host, signed, signed_with, unsigned, vectors};

/// The request a vector case describes, as the host would hand it over.
fn vector_request(v: &Value, case: &Value) -> Request {
    let json_body = case.get("raw_body").and_then(Value::as_str);
    let url = match (case["url"].as_str(), case["body_sha256_hex"].as_str()) {
        (Some(url), _) => url.to_string(),
        (None, Some(hash)) => format!("{}&bodySHA256={hash}", v["base_url"].as_str().unwrap()),
        (None, None) => v["base_url"].as_str().unwrap().to_string(),
    };
    let pairs: Vec<(String, String)> = match (&case["params"], &case["params_multi"]) {
        (Value::String(name), _) => v[name.as_str()]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect(),
        (_, Value::Array(multi)) => multi
            .iter()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
            .collect(),
        _ => vec![],
    };
    let (content_type, body) = match json_body {
        Some(raw) => ("application/json", raw.as_bytes().to_vec()),
        None => (
            "application/x-www-form-urlencoded",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish()
                .into_bytes(),
        ),
    };
    let signature = match case["signature"].as_str() {
        Some(s) => s.to_string(),
        // `wrong_body_hash` gives none: sign its URL correctly, so only the body hash can fail.
        None => STANDARD.encode(crypto::hmac(Alg::Sha1, "auth_token", url.as_bytes()).unwrap()),
    };
    Request {
        method: "POST".into(),
        path: "/sms".into(),
        query: url.split_once('?').map(|(_, q)| q.to_string()),
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-twilio-signature".into(), signature),
        ],
        body,
        public_url: url,
    }
}

#[test]
fn every_published_signature_vector_checks_out() {
    let v = vectors();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    for case in cases {
        Host::new()
            .secret("auth_token", v["auth_token"].as_str().unwrap())
            .install();
        let req = vector_request(&v, case);
        assert_eq!(
            signature::verify(&req).unwrap(),
            case["valid"].as_bool().unwrap(),
            "case {}",
            case["name"]
        );
    }
}

#[test]
fn the_legacy_documentation_example_checks_out() {
    let v = vectors();
    let legacy = &v["legacy_docs_example_secondary_source"];
    Host::new().secret("auth_token", "12345").install();
    let pairs: Vec<(String, String)> = legacy["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let req = Request {
        method: "POST".into(),
        path: "/sms".into(),
        query: None,
        headers: vec![(
            "x-twilio-signature".into(),
            legacy["signature"].as_str().unwrap().into(),
        )],
        body: form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish()
            .into_bytes(),
        public_url: legacy["url"].as_str().unwrap().into(),
    };
    assert!(signature::verify(&req).unwrap());
}

#[test]
fn a_callback_signed_with_the_secondary_token_is_accepted() {
    host("phone")
        .secret("secondary_auth_token", "secondary-token-456")
        .alert(alert("Disk full"))
        .link("twilio", ALICE)
        .install();
    let query = format!("tenant=acme&alert={ALERT_ID}");
    let req = signed_with(
        "secondary_auth_token",
        "/acknowledge",
        &query,
        &[("Digits", "4"), ("To", ALICE)],
    );
    let resp = Twilio::handle_inbound(&req).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "acknowledged");
}

#[test]
fn without_a_secondary_token_only_the_primary_verifies() {
    Host::new().secret("auth_token", TOKEN).install();
    let req = signed("/sms", "tenant=acme", &[("From", ALICE), ("Body", "1234a")]);
    Host::new().secret("auth_token", "other-token-789").install();
    assert!(!signature::verify(&req).unwrap());
}

#[test]
fn missing_forged_or_swapped_signatures_get_403_and_change_nothing() {
    let query = format!("tenant=acme&alert={ALERT_ID}");
    let pairs = [("Digits", "4"), ("To", ALICE)];
    host("phone")
        .alert(alert("Disk full"))
        .link("twilio", ALICE)
        .install();

    let missing = unsigned("/acknowledge", &query, &pairs);
    let mut forged = unsigned("/acknowledge", &query, &pairs);
    forged
        .headers
        .push(("x-twilio-signature".into(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=".into()));
    // Signed for another alert, replayed with this alert's id in the URL.
    let mut swapped = signed("/acknowledge", "tenant=acme&alert=other", &pairs);
    swapped.public_url = format!("https://nightowl.example.com/api/v1/twilio/acknowledge?{query}");
    swapped.query = Some(query.clone());

    for req in [missing, forged, swapped] {
        let resp = Twilio::handle_inbound(&req).unwrap();
        assert_eq!(resp.status, 403);
    }
    host("phone")
        .secret("other", "another-tenant-token")
        .alert(alert("Disk full"))
        .link("twilio", ALICE)
        .install();
    // Signed with another tenant's token.
    let other_tenant = signed_with("other", "/acknowledge", &query, &pairs);
    assert_eq!(Twilio::handle_inbound(&other_tenant).unwrap().status, 403);
    assert!(testing::calls().is_empty(), "nothing was asked of the host");
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "firing");
}

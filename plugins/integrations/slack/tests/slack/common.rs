//! What the tests share: the published fixtures, signed requests, a realistic alert, people.

use nightowl_plugin_sdk_channel::crypto::{self, Alg};
use nightowl_plugin_sdk_channel::http;
use nightowl_plugin_sdk_channel::incidents::{AlertDetails, KbHit};
use nightowl_plugin_sdk_channel::testing::Host;
use nightowl_plugin_sdk_channel::{AlertRef, Request, Responder};
use serde_json::{Value, json};

/// The signing secret of Slack's documented vector (`signing_vector_slack_docs.json`).
pub const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
/// The clock of the vector's verifier, also the clock of every test.
pub const NOW: i64 = 1_531_420_618;
/// The default Web API base.
pub const API: &str = "https://slack.com/api";
/// The alert of most tests.
pub const ALERT_ID: &str = "0b6f1c2e-1111-4222-8333-944455556666";
pub const ALERT_URL: &str = "https://nightowl.example.com/alerts/0b6f1c2e-1111-4222-8333-944455556666";
pub const RUNBOOK: &str = "https://runbooks.example.com/disk-full";

/// A fixture file of `tests/fixtures/`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A host at the test clock that knows the signing secret.
pub fn host() -> Host {
    Host::new().now(NOW).secret("signing_secret", SIGNING_SECRET)
}

/// `url` of a Web API method at the default base.
pub fn api(method: &str) -> String {
    format!("{API}/{method}")
}

/// Slack's `{"ok": true, ...}` answer.
pub fn ok(extra: Value) -> http::Response {
    let mut body = json!({"ok": true});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    http::Response::json(200, &body)
}

/// Slack's `{"ok": false, "error": reason}` answer.
pub fn refused(reason: &str) -> http::Response {
    http::Response::json(200, &json!({"ok": false, "error": reason}))
}

/// A callback signed as Slack signs it, at the test clock (the installed host computes the HMAC).
pub fn signed(path: &str, content_type: &str, body: &str) -> Request {
    let timestamp = NOW.to_string();
    let mac = crypto::hmac(
        Alg::Sha256,
        "signing_secret",
        format!("v0:{timestamp}:{body}").as_bytes(),
    )
    .expect("the test host knows the signing secret");
    let signature = format!(
        "v0={}",
        mac.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    Request {
        method: "POST".into(),
        path: path.into(),
        query: Some("tenant=acme".into()),
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-slack-request-timestamp".into(), timestamp),
            ("x-slack-signature".into(), signature),
        ],
        body: body.as_bytes().to_vec(),
        public_url: format!("https://nightowl.example.com/api/v1/slack{path}?tenant=acme"),
    }
}

/// A form body from pairs.
pub fn form(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A person, with a Slack member id when given.
pub fn person(name: &str, slack: Option<&str>) -> Responder {
    Responder {
        user_id: format!("user-{}", name.to_lowercase()),
        name: name.into(),
        phone: None,
        timezone: "Europe/Berlin".into(),
        identities: slack
            .map(|id| vec![("slack".into(), id.into())])
            .unwrap_or_default(),
    }
}

/// Alert #42 "Disk full on db-1", firing, with everything a message shows.
pub fn alert() -> AlertDetails {
    AlertDetails {
        alert: AlertRef {
            id: ALERT_ID.into(),
            title: "Disk full on db-1".into(),
            status: "firing".into(),
            severity: "critical".into(),
            priority: Some("P1".into()),
            service: Some("payments".into()),
            description: Some("/var is 99% full".into()),
            suggested_solution: Some("Rotate the logs: `logrotate -f /etc/logrotate.conf`".into()),
            occurrence_count: 3,
            url: ALERT_URL.into(),
        },
        number: 42,
        cluster: Some("prod-eu".into()),
        namespace: Some("db".into()),
        labels: vec![
            ("alertname".into(), "DiskFull".into()),
            ("instance".into(), "db-1".into()),
        ],
        links: vec!["https://prometheus.example.com/graph?g0.expr=disk".into()],
        matched_incident: Some(KbHit {
            incident_id: "inc-7".into(),
            title: "Disk full from unrotated logs".into(),
            solution: Some("Rotate the logs".into()),
            url: "https://nightowl.example.com/incidents/inc-7".into(),
            score: 0.9,
        }),
        solution_reviewed: false,
        runbook_url: Some(RUNBOOK.into()),
        created_at: "2018-07-12T18:30:00Z".into(),
        on_call: vec![person("Alice", Some("U1")), person("Bob", None)],
        ..AlertDetails::default()
    }
}

/// Every `text` of a value (blocks, fields, elements), joined by newlines: what a reader sees.
pub fn texts(v: &Value) -> String {
    let mut out = Vec::new();
    collect(v, &mut out);
    out.join("\n")
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("text", Value::String(s)) => out.push(s.clone()),
                    _ => collect(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        _ => {}
    }
}

/// The `action_id`s of a message's buttons.
pub fn action_ids(blocks: &Value) -> Vec<String> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["action_id"].as_str().map(String::from))
        .collect()
}

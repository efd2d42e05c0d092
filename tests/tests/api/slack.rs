//! Slack end to end: the real host with the compiled `slack` plugin, Slack's signed callbacks built
//! with Slack's published algorithm (checked against its vector), and a local fake of the Slack Web
//! API where the plugin calls out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use nightowl_fakes::slack_signing::{SlashCommand, sign};
use nightowl_tests::{TestApp, TestTenant, send};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// Slack's published signing secret (the vector in `tests/fixtures/slack`).
const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const BOT_TOKEN: &str = "xoxb-test-0000000000-aaaaaaaaaaaa";
const CHANNEL: &str = "C0OPS";

/// 14:00 in Berlin on a Wednesday in June (12:00 UTC), far from any DST change.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-10T12:00:00Z")
        .unwrap()
        .to_utc()
}

/// A tenant with the Slack plugin configured, people linked to Slack, a roster in Berlin time with a
/// policy, and the service `checkout` routed to it.
pub struct Team {
    pub t: TestTenant,
    /// Display name → user id.
    pub users: BTreeMap<String, String>,
}

impl Team {
    pub fn user(&self, name: &str) -> &str {
        &self.users[name]
    }

    pub fn schema(&self) -> String {
        self.t.tenant.slug.schema()
    }
}

pub async fn ok(app: &TestApp, t: &TestTenant, method: Method, path: &str, body: Value) -> Value {
    let (status, v) = send(app.as_key(&t.admin_key, method.clone(), path).json(&body)).await;
    assert!(status.is_success(), "{method} {path}: {status} {v}");
    v
}

/// The compiled plugins `ids`, with `localhost` added to the Slack plugin's allowed hosts (the
/// fakes run there).
pub fn plugins_with_local_slack(ids: &[&str]) -> std::path::PathBuf {
    let dir = nightowl_tests::plugin_dir(ids);
    let manifest = dir.join("slack/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let patched = text.replace(
        "allowed_hosts = [\"slack.com\", \"hooks.slack.com\"]",
        "allowed_hosts = [\"slack.com\", \"hooks.slack.com\", \"localhost\"]",
    );
    assert_ne!(patched, text, "the Slack manifest lists its hosts as expected");
    std::fs::write(&manifest, patched).unwrap();
    dir
}

/// Sets up a team on the Slack plugin whose Web API is at `api_base_url`. Members in order: Bob is
/// primary on 10 June, Alice secondary; Carol leads the team. Rita is read-only, Ivan inactive.
pub async fn team(app: &TestApp, tiers: Value, api_base_url: &str) -> Team {
    let t = app.tenant().await;
    let mut users = BTreeMap::new();
    for (name, role, slack) in [
        ("Alice", "engineer", "U0ALICE"),
        ("Bob", "engineer", "U0BOB"),
        ("Carol", "manager", "U0CAROL"),
        ("Rita", "readonly", "U0RITA"),
        ("Ivan", "engineer", "U0IVAN"),
    ] {
        let u = ok(
            app,
            &t,
            Method::POST,
            "/api/v1/users",
            json!({"email": format!("{}@acme.example", name.to_lowercase()), "display_name": name,
                   "role": role, "slack_user_id": slack, "timezone": "Europe/Berlin"}),
        )
        .await;
        users.insert(name.to_owned(), u["id"].as_str().unwrap().to_owned());
    }
    let ivan = users["Ivan"].clone();
    ok(
        app,
        &t,
        Method::POST,
        &format!("/api/v1/users/{ivan}/deactivate"),
        Value::Null,
    )
    .await;
    let policy = ok(
        app,
        &t,
        Method::POST,
        "/api/v1/escalation-policies",
        json!({"name": "Checkout on-call", "tiers": tiers, "repeat_count": 0}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roster = ok(
        app,
        &t,
        Method::POST,
        "/api/v1/rosters",
        json!({"name": "Checkout", "timezone": "Europe/Berlin", "rotation_type": "daily", "handoff_time": "09:00",
               "start_date": "2026-06-01", "escalation_policy_id": policy, "team_lead_id": users["Carol"]}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        app,
        &t,
        Method::PUT,
        &format!("/api/v1/rosters/{roster}/members"),
        json!({ "user_ids": [users["Alice"], users["Bob"]] }),
    )
    .await;
    ok(
        app,
        &t,
        Method::POST,
        "/api/v1/services",
        json!({"name": "checkout", "roster_id": roster}),
    )
    .await;
    ok(
        app,
        &t,
        Method::PUT,
        "/api/v1/admin/plugins/slack/config",
        json!({"settings": {"bot_token": BOT_TOKEN, "signing_secret": SECRET, "default_channel": CHANNEL,
                            "api_base_url": api_base_url}}),
    )
    .await;
    Team { t, users }
}

/// A Slack callback to `path` (`events`, `commands`, `interactions`) for `tenant`, signed with
/// `secret` at `timestamp`.
pub fn callback(
    app: &TestApp,
    tenant: &str,
    path: &str,
    body: &str,
    secret: &str,
    timestamp: i64,
) -> RequestBuilder {
    app.request(Method::POST, &format!("/api/v1/slack/{path}?tenant={tenant}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", sign(secret, timestamp, body))
        .body(body.to_owned())
}

/// The form body of `/nightowl <text>` typed by `user` in the alerts channel, as Slack sends it.
pub fn slash(user: &str, text: &str, response_url: &str) -> String {
    SlashCommand {
        channel_id: CHANNEL.into(),
        user_id: user.into(),
        user_name: user.to_lowercase(),
        response_url: response_url.into(),
        ..SlashCommand::new("/nightowl", text)
    }
    .form()
}

pub async fn alert(app: &TestApp, t: &TestTenant, fingerprint: &str, title: &str) -> (String, i64) {
    let v = ok(
        app,
        t,
        Method::POST,
        "/api/v1/webhooks/generic",
        json!({"title": title, "fingerprint": fingerprint, "severity": "critical", "service": "checkout",
               "labels": {"cluster": "prod-eu", "namespace": "payments"}}),
    )
    .await;
    let id = v["alerts"][0]["id"].as_str().unwrap().to_owned();
    let (_, a) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{id}"))).await;
    (id, a["number"].as_i64().unwrap())
}

pub async fn get_alert(app: &TestApp, t: &TestTenant, id: &str) -> Value {
    send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{id}")))
        .await
        .1
}

fn log_tiers() -> Value {
    json!([{"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"]}])
}

/// An app with the Slack and generic plugins whose Slack Web API is unreachable: callbacks only.
async fn app_without_web_api() -> TestApp {
    let dir = plugins_with_local_slack(&["generic", "slack"]);
    TestApp::spawn_custom(10, &["generic", "slack"], |c| c.plugin_dir = dir).await
}

const NOWHERE: &str = "https://localhost:9/api";

#[tokio::test]
async fn callbacks_without_a_valid_fresh_signature_of_that_tenant_change_nothing() {
    let app = app_without_web_api().await;
    app.clock.set(t0());
    let team = team(&app, log_tiers(), NOWHERE).await;
    let other = team_b(&app).await;
    let (id, number) = alert(&app, &team.t, "sig", "Checkout 5xx").await;
    let slug = team.t.tenant.slug.as_str().to_owned();
    let now = t0().timestamp();

    // Slack's url_verification, correctly signed: the challenge comes back.
    let challenge = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                           "type": "url_verification"})
    .to_string();
    let (status, body) = send(callback(&app, &slug, "events", &challenge, SECRET, now)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    let ack = slash(
        "U0ALICE",
        &format!("ack #{number}"),
        "https://localhost:9/response/1",
    );
    let forged = callback(
        &app,
        &slug,
        "commands",
        &ack,
        "not-the-secret-0000000000000000",
        now,
    );
    let stale = callback(&app, &slug, "commands", &ack, SECRET, now - 6 * 60);
    let future = callback(&app, &slug, "commands", &ack, SECRET, now + 6 * 60);
    // Signed with tenant A's secret but sent for tenant B, whose app has another secret.
    let foreign = callback(&app, other.tenant.slug.as_str(), "commands", &ack, SECRET, now);
    let unsigned = app
        .request(Method::POST, &format!("/api/v1/slack/commands?tenant={slug}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(ack.clone());
    let no_tenant = app
        .request(Method::POST, "/api/v1/slack/commands")
        .header("x-slack-request-timestamp", now.to_string())
        .header("x-slack-signature", sign(SECRET, now, &ack))
        .body(ack.clone());
    let unknown_tenant = callback(&app, "t_nosuchtenant", "commands", &ack, SECRET, now);
    let mut tampered = callback(&app, &slug, "commands", &ack, SECRET, now);
    tampered = tampered.body(format!("{ack}&extra=1"));
    for (what, req) in [
        ("forged", forged),
        ("stale", stale),
        ("from the future", future),
        ("another tenant's secret", foreign),
        ("unsigned", unsigned),
        ("tenant missing", no_tenant),
        ("unknown tenant", unknown_tenant),
        ("body changed after signing", tampered),
    ] {
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert!(body["code"].is_string(), "{what}: a JSON error: {body}");
    }
    assert_eq!(
        get_alert(&app, &team.t, &id).await["status"],
        "firing",
        "nothing changed"
    );
    let audited: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {}.audit_log where resource_type = 'alerts'",
        team.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(audited, 0);

    // The same command, correctly signed, acts.
    let (status, body) = send(callback(&app, &slug, "commands", &ack, SECRET, now)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(get_alert(&app, &team.t, &id).await["status"], "acknowledged");
}

/// A second tenant whose Slack app has its own signing secret.
async fn team_b(app: &TestApp) -> TestTenant {
    let b = app.tenant().await;
    ok(
        app,
        &b,
        Method::PUT,
        "/api/v1/admin/plugins/slack/config",
        json!({"settings": {"bot_token": "xoxb-other-tenant-00000000", "signing_secret": "another-apps-signing-secret-0001",
                            "api_base_url": NOWHERE}}),
    )
    .await;
    b
}

#[tokio::test]
async fn slash_commands_answer_from_the_tenants_data_and_act_as_the_linked_user() {
    let app = app_without_web_api().await;
    app.clock.set(t0());
    let team = team(&app, log_tiers(), NOWHERE).await;
    let slug = team.t.tenant.slug.as_str().to_owned();
    let now = t0().timestamp();
    ok(
        &app,
        &team.t,
        Method::POST,
        "/api/v1/incidents",
        json!({"title": "Disk full on database host", "severity": "critical", "services": ["checkout"],
               "symptoms": "writes fail with no space left on device",
               "solution": "Rotate the WAL archive and grow the volume"}),
    )
    .await;
    let (first, n1) = alert(&app, &team.t, "cmd-1", "Checkout 5xx rate above 5%").await;
    let (second, n2) = alert(&app, &team.t, "cmd-2", "Checkout latency p99 above 2s").await;
    let command = |user: &str, text: &str| {
        let body = slash(user, text, "https://localhost:9/response/1");
        let req = callback(&app, &slug, "commands", &body, SECRET, now);
        let text = text.to_owned();
        async move {
            let (status, answer) = send(req).await;
            assert_eq!(status, StatusCode::OK, "{text}: {answer}");
            answer
        }
    };
    let text = |v: &Value| {
        let mut all = v["text"].as_str().unwrap_or_default().to_owned();
        all.push_str(&v["blocks"].to_string());
        all
    };

    // search: the incident, its matched words in bold, a link to it.
    let found = command("U0ALICE", "search no space left").await;
    assert_eq!(found["response_type"], "ephemeral", "{found}");
    let shown = text(&found);
    assert!(shown.contains("Disk full on database host"), "{shown}");
    assert!(
        shown.contains("*space*") || shown.contains("*no space left*"),
        "highlights: {shown}"
    );
    assert!(shown.contains("/incidents/"), "a link: {shown}");

    // oncall: Bob is primary on 10 June, Alice secondary, in the roster's time zone.
    let oncall = command("U0ALICE", "oncall Checkout").await;
    let shown = text(&oncall);
    assert!(shown.contains("Europe/Berlin"), "{shown}");
    let primary = shown.split("Primary:").nth(1).unwrap_or_default();
    assert!(
        primary.contains("U0BOB") || primary.contains("Bob"),
        "Bob is primary: {shown}"
    );
    assert!(
        shown.contains("U0ALICE") || shown.contains("Alice"),
        "Alice is secondary: {shown}"
    );

    // roster: the next shifts, at the roster's 09:00 handoff in Berlin's offset.
    let shifts = command("U0ALICE", "roster Checkout").await;
    let shown = text(&shifts);
    assert!(shown.contains("09:00") && shown.contains("+02:00"), "{shown}");
    assert!(shown.contains("Bob") || shown.contains("U0BOB"), "{shown}");

    // ack by number, as Alice: acknowledged by her via Slack, in the alert, its escalation and the audit log.
    let acked = command("U0ALICE", &format!("ack #{n1}")).await;
    assert!(text(&acked).contains(&format!("#{n1}")), "{acked}");
    let a = get_alert(&app, &team.t, &first).await;
    assert_eq!(a["status"], "acknowledged");
    assert_eq!(a["acknowledged_by"], "alice@acme.example via slack");
    let by: Option<String> = sqlx::query_scalar(&format!(
        "select detail ->> 'by' from {}.escalation_events where alert_id = $1::uuid and action = 'acknowledged'",
        team.schema()
    ))
    .bind(&first)
    .fetch_optional(app.db())
    .await
    .unwrap();
    assert_eq!(by.as_deref(), Some("alice@acme.example via slack"));
    let audit: (String, String, Value) = sqlx::query_as(&format!(
        "select actor_id, actor_label, diff from {}.audit_log where resource_id = $1 and action = 'acknowledge'",
        team.schema()
    ))
    .bind(&first)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(audit.0, team.user("Alice"));
    assert_eq!(audit.1, "alice@acme.example via slack");
    assert_eq!(audit.2["via"], "slack");

    // resolve with notes.
    command("U0BOB", &format!("resolve {n2} rolled back the deploy")).await;
    let b = get_alert(&app, &team.t, &second).await;
    assert_eq!(
        (b["status"].as_str(), b["resolved_by"].as_str()),
        (Some("resolved"), Some("bob@acme.example via slack"))
    );

    // People who may not act: unknown to NightOwl, read-only, deactivated. Nothing changes.
    let (third, n3) = alert(&app, &team.t, "cmd-3", "Checkout queue backlog").await;
    for user in ["U0STRANGER", "U0RITA", "U0IVAN"] {
        let refused = command(user, &format!("ack #{n3}")).await;
        assert_eq!(refused["response_type"], "ephemeral", "{user}: {refused}");
        assert!(
            text(&refused).to_lowercase().contains("link"),
            "{user} is told to link: {refused}"
        );
    }
    assert_eq!(get_alert(&app, &team.t, &third).await["status"], "firing");

    // An alert that does not exist, and anything else: help.
    let missing = command("U0ALICE", "ack #99999").await;
    assert!(text(&missing).contains("#99999"), "{missing}");
    let help = command("U0ALICE", "dance").await;
    assert!(
        text(&help).contains("search") && text(&help).contains("oncall"),
        "{help}"
    );
}

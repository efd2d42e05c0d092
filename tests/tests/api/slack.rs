//! Slack end to end: the real host with the compiled `slack` plugin, Slack's signed callbacks built
//! with Slack's published algorithm (checked against its vector), and a local fake of the Slack Web
//! API where the plugin calls out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use nightowl_fakes::slack_signing::{SlashCommand, sign};
use nightowl_tests::{TestApp, TestTenant, checkout_on_call, send, until};
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
    let members = [users["Alice"].as_str(), users["Bob"].as_str()];
    checkout_on_call(app, &t, tiers, 0, "Europe/Berlin", &members, &users["Carol"]).await;
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

    // Other events are acknowledged and ignored.
    let event = json!({"token": "x", "team_id": "T0ACME", "type": "event_callback", "event_id": "Ev01",
                       "event": {"type": "app_mention", "user": "U0ALICE", "text": "hi", "channel": CHANNEL}})
    .to_string();
    let (status, body) = send(callback(&app, &slug, "events", &event, SECRET, now)).await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));

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
    // A tenant that never set Slack up has no Slack channel.
    let bare = app.tenant().await;
    let (status, body) = send(callback(
        &app,
        bare.tenant.slug.as_str(),
        "commands",
        &ack,
        SECRET,
        now,
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "unknown_channel");
    let audited: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {}.audit_log where resource_type = 'alerts'",
        team.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(audited, 0);

    // A tenant that names its workspace refuses a signed request from another one (two tenants
    // sharing one Slack app).
    ok(
        &app,
        &team.t,
        Method::PUT,
        "/api/v1/admin/plugins/slack/config",
        json!({"settings": {"team_id": "T0ANOTHERTEAM"}}),
    )
    .await;
    let (status, body) = send(callback(&app, &slug, "commands", &ack, SECRET, now)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(get_alert(&app, &team.t, &id).await["status"], "firing");
    ok(
        &app,
        &team.t,
        Method::PUT,
        "/api/v1/admin/plugins/slack/config",
        json!({"settings": {"team_id": nightowl_fakes::slack::TEAM_ID}}),
    )
    .await;

    // The same command, correctly signed, from the tenant's workspace, acts.
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

// ---------------------------------------------------------------------------------------------------
// Through the fake Slack Web API.

use std::time::Duration as StdDuration;

use nightowl::worker::{self, Scope, WorkerHandle};
use nightowl_fakes::slack::RESPONSE_URL;
use nightowl_fakes::slack_signing::{BlockAction, SignedRequest, ViewSubmission};
use nightowl_fakes::{Failure, FakeSlack, TestCa};

const WAIT: StdDuration = StdDuration::from_secs(15);

/// The app with the Slack and generic plugins, trusting the fakes' CA and allowed to reach loopback.
async fn app_with_fake_slack() -> TestApp {
    let dir = plugins_with_local_slack(&["generic", "slack"]);
    TestApp::spawn_custom(10, &["generic", "slack"], |c| {
        c.plugin_dir = dir;
        c.plugin_http_allow_loopback = true;
        c.plugin_http_ca_file = Some(TestCa::pem_file().to_owned());
    })
    .await
}

/// A team on the Slack plugin talking to a fake Slack (channel `C0OPS` exists), its worker running,
/// the clock at [`t0`].
struct Live {
    slack: FakeSlack,
    app: TestApp,
    team: Team,
    w: WorkerHandle,
}

async fn live(tiers: Value) -> Live {
    let slack = FakeSlack::start(BOT_TOKEN).await;
    slack.add_channel(CHANNEL);
    let app = app_with_fake_slack().await;
    app.clock.set(t0());
    let team = team(&app, tiers, &slack.api_url()).await;
    let w = start_worker(&app, &team);
    Live { slack, app, team, w }
}

/// Raises an alert and waits for its message; answers the alert's id and the message's `ts`.
async fn posted(
    app: &TestApp,
    team: &Team,
    slack: &FakeSlack,
    fingerprint: &str,
    title: &str,
) -> (String, String) {
    let before = slack.calls_to("chat.postMessage").len();
    let (id, _) = alert(app, &team.t, fingerprint, title).await;
    let post = slack
        .wait_for("chat.postMessage", before + 1, WAIT)
        .await
        .remove(before);
    let ts = post.answer.as_ref().unwrap().body["ts"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, ts)
}

fn start_worker(app: &TestApp, team: &Team) -> WorkerHandle {
    worker::spawn_scoped(
        app.state.clone(),
        "w1",
        Scope::Only(vec![team.t.tenant.slug.clone()]),
    )
}

/// Sends a request signed the way Slack signs it.
async fn post_signed(app: &TestApp, team: &Team, path: &str, signed: SignedRequest) -> (StatusCode, Value) {
    let mut req = app.request(
        Method::POST,
        &format!("/api/v1/slack/{path}?tenant={}", team.t.tenant.slug),
    );
    for (name, value) in signed.headers() {
        req = req.header(name, value);
    }
    send(req.body(signed.body)).await
}

/// `(status, attempts, last error, external id)` of an alert's pages through `channel`.
async fn pages(
    app: &TestApp,
    team: &Team,
    alert: &str,
) -> Vec<(String, i32, Option<String>, Option<String>)> {
    sqlx::query_as(&format!(
        "select status, attempts, last_error, result ->> 'external_id' from {}.notification_outbox
         where alert_id = $1::uuid and kind = 'alert' and channel like 'slack%' order by created_at",
        team.schema()
    ))
    .bind(alert)
    .fetch_all(app.db())
    .await
    .unwrap()
}

fn channel_tier_then_log() -> Value {
    json!([
        {"timeout_minutes": 5, "notify_via": ["slack_channel"], "targets": ["oncall_primary"]},
        {"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_secondary"]}
    ])
}

fn action_ids(blocks: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for block in blocks.as_array().into_iter().flatten() {
        for element in block["elements"].as_array().into_iter().flatten() {
            if let Some(id) = element["action_id"].as_str() {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

#[tokio::test]
async fn a_critical_alert_is_posted_then_edited_and_threaded_as_it_changes() {
    let Live { slack, app, team, w } = live(channel_tier_then_log()).await;
    let (id, number) = alert(&app, &team.t, "post", "Checkout 5xx rate above 5%").await;

    let post = slack.wait_for("chat.postMessage", 1, WAIT).await.remove(0);
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {BOT_TOKEN}").as_str())
    );
    assert_eq!(post.body["channel"], CHANNEL);
    assert!(
        post.body["text"]
            .as_str()
            .is_some_and(|t| t.contains(&format!("#{number}"))),
        "{}",
        post.body
    );
    let blocks = post.body["blocks"].to_string();
    for expected in [
        format!("#{number}"),
        "Checkout 5xx rate above 5%".to_owned(),
        "checkout".to_owned(),
        "prod-eu".to_owned(),
        "payments".to_owned(),
        "U0BOB".to_owned(),
        "No known fix".to_owned(),
    ] {
        assert!(blocks.contains(&expected), "{expected} in {blocks}");
    }
    let ids = action_ids(&post.body["blocks"]);
    for button in ["ack", "escalate", "kb_add"] {
        assert!(ids.iter().any(|i| i == button), "{button} button: {ids:?}");
    }
    let ts = post.answer.as_ref().unwrap().body["ts"]
        .as_str()
        .unwrap()
        .to_owned();
    until("the page is stored as sent", || async {
        pages(&app, &team, &id)
            .await
            .first()
            .is_some_and(|p| p.0 == "sent")
    })
    .await;
    assert_eq!(
        pages(&app, &team, &id).await[0].3.as_deref(),
        Some(format!("{CHANNEL}:{ts}").as_str()),
        "the outbox row keeps channel:ts"
    );

    // The alert fires again: a reply in the thread, no new post.
    alert(&app, &team.t, "post", "Checkout 5xx rate above 5%").await;
    let again = slack.wait_for("chat.postMessage", 2, WAIT).await.remove(1);
    assert_eq!(again.body["thread_ts"], ts.as_str(), "{}", again.body);

    // Acknowledged through the API: the message is edited (no more Acknowledge button) and the thread hears who.
    ok(
        &app,
        &team.t,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/acknowledge"),
        Value::Null,
    )
    .await;
    let update = slack.wait_for("chat.update", 1, WAIT).await.remove(0);
    assert_eq!(
        (update.body["channel"].as_str(), update.body["ts"].as_str()),
        (Some(CHANNEL), Some(ts.as_str()))
    );
    let ids = action_ids(&update.body["blocks"]);
    assert!(!ids.iter().any(|i| i == "ack" || i == "escalate"), "{ids:?}");
    assert!(
        update.body["blocks"]
            .to_string()
            .to_lowercase()
            .contains("acknowledged"),
        "{}",
        update.body
    );
    let replies = slack.wait_for("chat.postMessage", 3, WAIT).await;
    assert_eq!(replies[2].body["thread_ts"], ts.as_str());

    // Resolved: edited again, and a thread reply.
    ok(
        &app,
        &team.t,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/resolve"),
        Value::Null,
    )
    .await;
    let updates = slack.wait_for("chat.update", 2, WAIT).await;
    assert!(
        updates[1].body["blocks"]
            .to_string()
            .to_lowercase()
            .contains("resolved"),
        "{}",
        updates[1].body
    );
    let replies = slack.wait_for("chat.postMessage", 4, WAIT).await;
    assert_eq!(replies[3].body["thread_ts"], ts.as_str());
    let top_level: Vec<_> = slack
        .messages()
        .into_iter()
        .filter(|m| m.thread_ts.is_none())
        .collect();
    assert_eq!(top_level.len(), 1, "one post per alert: {top_level:?}");
    w.shutdown().await;
}

#[tokio::test]
async fn a_signed_button_press_acts_as_the_linked_user_and_a_stranger_is_told_to_link() {
    let Live { slack, app, team, w } = live(channel_tier_then_log()).await;
    let (id, ts) = posted(&app, &team, &slack, "button", "Checkout latency p99 above 2s").await;
    let now = t0().timestamp();

    // A stranger's click: told to link their account, nothing changes.
    let stranger = BlockAction {
        user_id: "U0STRANGER".into(),
        channel_id: CHANNEL.into(),
        response_url: slack.response_url("stranger"),
        ..BlockAction::new("ack", &id, &ts)
    };
    let (status, body) = post_signed(&app, &team, "interactions", stranger.signed(SECRET, now)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let told = slack.wait_for(RESPONSE_URL, 1, WAIT).await.remove(0);
    assert_eq!(told.body["response_type"], "ephemeral", "{}", told.body);
    assert!(
        told.body["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("link"),
        "{}",
        told.body
    );
    assert_eq!(get_alert(&app, &team.t, &id).await["status"], "firing");

    // A forged click changes nothing either.
    let bob = BlockAction {
        user_id: "U0BOB".into(),
        channel_id: CHANNEL.into(),
        response_url: slack.response_url("bob"),
        ..BlockAction::new("ack", &id, &ts)
    };
    let (status, _) = post_signed(
        &app,
        &team,
        "interactions",
        bob.signed("not-the-secret-0000000000000", now),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(get_alert(&app, &team.t, &id).await["status"], "firing");

    // Bob's click: acknowledged by Bob via Slack, escalation stopped, the message edited.
    let (status, body) = post_signed(&app, &team, "interactions", bob.signed(SECRET, now)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = get_alert(&app, &team.t, &id).await;
    assert_eq!(a["status"], "acknowledged");
    assert_eq!(a["acknowledged_by"], "bob@acme.example via slack");
    let escalation = ok(
        &app,
        &team.t,
        Method::GET,
        &format!("/api/v1/alerts/{id}/escalation"),
        Value::Null,
    )
    .await;
    assert_ne!(escalation["state"], "active", "{escalation}");
    let events = escalation["events"].to_string();
    assert!(events.contains("bob@acme.example via slack"), "{events}");
    let audit: (String, String) = sqlx::query_as(&format!(
        "select actor_id, actor_label from {}.audit_log where resource_id = $1 and action = 'acknowledge'",
        team.schema()
    ))
    .bind(&id)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(
        audit,
        (
            team.user("Bob").to_owned(),
            "bob@acme.example via slack".to_owned()
        )
    );
    let update = slack.wait_for("chat.update", 1, WAIT).await.remove(0);
    assert_eq!(update.body["ts"], ts.as_str());
    // Tier 2 never fires.
    app.clock.set(t0() + chrono::Duration::minutes(10));
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let notified: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {}.notification_outbox where alert_id = $1::uuid and channel = 'log'",
        team.schema()
    ))
    .bind(&id)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(notified, 0, "escalation stopped at the click");
    w.shutdown().await;
}

#[tokio::test]
async fn add_to_knowledge_base_opens_a_prefilled_modal_whose_submission_creates_the_incident() {
    let Live { slack, app, team, w } = live(channel_tier_then_log()).await;
    let (id, ts) = posted(&app, &team, &slack, "kb", "Checkout pods OOMKilled").await;
    let now = t0().timestamp();

    let click = BlockAction {
        user_id: "U0ALICE".into(),
        channel_id: CHANNEL.into(),
        response_url: slack.response_url("alice"),
        ..BlockAction::new("kb_add", &id, &ts)
    };
    let (status, body) = post_signed(&app, &team, "interactions", click.signed(SECRET, now)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let open = slack.wait_for("views.open", 1, WAIT).await.remove(0);
    assert_eq!(open.body["trigger_id"], click.trigger_id.as_str());
    let view = &open.body["view"];
    assert_eq!(view["callback_id"], "kb_add");
    let shown = view["blocks"].to_string();
    assert!(
        shown.contains("Checkout pods OOMKilled"),
        "the title is filled in: {shown}"
    );
    assert!(shown.contains("checkout"), "the service is filled in: {shown}");

    let submit = ViewSubmission {
        user_id: "U0ALICE".into(),
        ..ViewSubmission::new("kb_add", view["private_metadata"].as_str().unwrap())
    }
    .input("title", "value", "Checkout pods OOMKilled after the cache change")
    .select("severity", "value", "major")
    .input("services", "value", "checkout")
    .input("error_patterns", "value", "OOMKilled")
    .input("symptoms", "value", "pods restart every few minutes")
    .input("root_cause", "value", "cache size doubled in 4.2")
    .input(
        "solution",
        "value",
        "Roll back the cache size or raise the memory limit to 1Gi",
    );
    let (status, body) = post_signed(&app, &team, "interactions", submit.signed(SECRET, now)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.is_null() || body.get("response_action").is_none(),
        "the modal closes: {body}"
    );

    let a = get_alert(&app, &team.t, &id).await;
    let incident = a["matched_incident_id"]
        .as_str()
        .expect("the alert is linked to the new incident");
    let i = ok(
        &app,
        &team.t,
        Method::GET,
        &format!("/api/v1/incidents/{incident}"),
        Value::Null,
    )
    .await;
    assert_eq!(i["title"], "Checkout pods OOMKilled after the cache change");
    assert_eq!(
        i["solution"],
        "Roll back the cache size or raise the memory limit to 1Gi"
    );
    assert_eq!(i["reviewed"], true, "written by an engineer");
    assert_eq!(i["created_by"], "alice@acme.example via slack");
    let confirmation = slack.wait_for("chat.postEphemeral", 1, WAIT).await.remove(0);
    assert_eq!(confirmation.body["user"], "U0ALICE");
    assert!(
        confirmation.body["text"]
            .as_str()
            .unwrap()
            .contains("Checkout pods OOMKilled after the cache change")
    );
    w.shutdown().await;
}

#[tokio::test]
async fn slack_down_is_retried_once_then_the_next_tier_fires() {
    let Live { slack, app, team, w } = live(channel_tier_then_log()).await;
    slack.fail_next(Some("chat.postMessage"), Failure::ServerError, 10);
    let (id, _) = alert(&app, &team.t, "down", "Checkout 5xx").await;
    until("the first attempt failed", || async {
        pages(&app, &team, &id)
            .await
            .first()
            .is_some_and(|p| p.0 == "pending" && p.1 == 1)
    })
    .await;
    app.clock.set(t0() + chrono::Duration::seconds(30));
    until("the retry failed for good", || async {
        pages(&app, &team, &id)
            .await
            .first()
            .is_some_and(|p| p.0 == "failed" && p.1 == 2)
    })
    .await;
    let error = pages(&app, &team, &id).await[0].2.clone().unwrap();
    assert!(
        error.contains("chat.postMessage") && error.contains("500"),
        "{error}"
    );
    until("tier 2 fired at once", || async {
        let n: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {}.notification_outbox where alert_id = $1::uuid and channel = 'log'",
            team.schema()
        ))
        .bind(&id)
        .fetch_one(app.db())
        .await
        .unwrap();
        n == 1
    })
    .await;
    assert_eq!(slack.calls_to("chat.postMessage").len(), 2, "tried twice");
    w.shutdown().await;
}

#[tokio::test]
async fn a_rate_limited_post_waits_for_retry_after_and_a_missing_channel_is_not_retried() {
    let Live { slack, app, team, w } = live(channel_tier_then_log()).await;
    slack.fail_next(
        Some("chat.postMessage"),
        Failure::RateLimited {
            retry_after_secs: 120,
        },
        1,
    );
    let (id, _) = alert(&app, &team.t, "limited", "Checkout 5xx").await;
    until("rate limited once", || async {
        pages(&app, &team, &id)
            .await
            .first()
            .is_some_and(|p| p.0 == "pending" && p.1 == 1)
    })
    .await;
    let next: DateTime<Utc> = sqlx::query_scalar(&format!(
        "select next_attempt_at from {}.notification_outbox where alert_id = $1::uuid and kind = 'alert' and channel like 'slack%'",
        team.schema()
    ))
    .bind(&id)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert!(
        next >= t0() + chrono::Duration::seconds(120),
        "Retry-After honoured: {next}"
    );
    app.clock.set(t0() + chrono::Duration::seconds(60));
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(
        slack.calls_to("chat.postMessage").len(),
        1,
        "not before Retry-After"
    );
    app.clock.set(t0() + chrono::Duration::seconds(121));
    until("delivered after the wait", || async {
        pages(&app, &team, &id)
            .await
            .first()
            .is_some_and(|p| p.0 == "sent")
    })
    .await;

    // The tenant's channel is gone: a permanent failure, no retry, the next tier at once.
    ok(
        &app,
        &team.t,
        Method::PUT,
        "/api/v1/admin/plugins/slack/config",
        json!({"settings": {"default_channel": "C0GONE"}}),
    )
    .await;
    let (gone, _) = alert(&app, &team.t, "gone", "Checkout queue backlog").await;
    until("failed for good at once", || async {
        pages(&app, &team, &gone)
            .await
            .first()
            .is_some_and(|p| p.0 == "failed" && p.1 == 1)
    })
    .await;
    let error = pages(&app, &team, &gone).await[0].2.clone().unwrap();
    assert!(error.contains("channel_not_found"), "{error}");
    w.shutdown().await;
}

#[tokio::test]
async fn the_slack_plugin_cannot_reach_a_host_outside_its_grant() {
    let slack = FakeSlack::start(BOT_TOKEN).await;
    slack.add_channel(CHANNEL);
    let app = app_with_fake_slack().await;
    app.clock.set(t0());
    // The fake, but by an address the manifest does not name.
    let elsewhere = format!("https://127.0.0.1:{}/api", slack.server().addr().port());
    let team = team(&app, channel_tier_then_log(), &elsewhere).await;
    let w = start_worker(&app, &team);
    let (id, _) = alert(&app, &team.t, "grant", "Checkout 5xx").await;
    until("the page failed", || async {
        pages(&app, &team, &id)
            .await
            .first()
            .is_some_and(|p| p.0 == "failed")
    })
    .await;
    let error = pages(&app, &team, &id).await[0].2.clone().unwrap();
    assert!(
        error.contains("denied") || error.contains("not in plugin slack's allowed hosts"),
        "{error}"
    );
    assert!(slack.calls().is_empty(), "nothing reached the server");
    w.shutdown().await;
}

#[tokio::test]
async fn handoffs_and_on_call_changes_reach_slack_and_a_dm_tier_messages_the_person() {
    let slack = FakeSlack::start(BOT_TOKEN).await;
    slack.add_channel(CHANNEL);
    let app = app_with_fake_slack().await;
    // 08:30 in Berlin on 10 June, half an hour before the daily handoff: Alice hands over to Bob.
    let before = DateTime::parse_from_rfc3339("2026-06-10T06:30:00Z")
        .unwrap()
        .to_utc();
    app.clock.set(before);
    let tiers = json!([{"timeout_minutes": 5, "notify_via": ["slack_dm"], "targets": ["oncall_primary"]}]);
    let team = team(&app, tiers, &slack.api_url()).await;
    let w = start_worker(&app, &team);
    app.clock.set(before + chrono::Duration::minutes(30));

    // The team channel hears that on-call changed; Alice and Bob get their summary and briefing
    // as direct messages.
    let posts = slack.wait_for("chat.postMessage", 3, WAIT).await;
    let to_channel: Vec<_> = posts.iter().filter(|c| c.body["channel"] == CHANNEL).collect();
    assert_eq!(to_channel.len(), 1, "{posts:?}");
    let notice = to_channel[0].body["text"].as_str().unwrap();
    assert!(
        notice.contains("Checkout") && notice.contains("U0BOB"),
        "{notice}"
    );
    let (alice_dm, bob_dm) = (slack.dm_with("U0ALICE").unwrap(), slack.dm_with("U0BOB").unwrap());
    assert!(
        posts.iter().any(|c| c.body["channel"] == alice_dm.as_str()),
        "Alice's summary: {posts:?}"
    );
    assert!(
        posts.iter().any(|c| c.body["channel"] == bob_dm.as_str()),
        "Bob's briefing: {posts:?}"
    );

    // An alert whose tier notifies by DM reaches Bob, now primary, in his DM.
    let (_, number) = alert(&app, &team.t, "dm", "Checkout 5xx").await;
    let posts = slack.wait_for("chat.postMessage", 4, WAIT).await;
    assert_eq!(posts[3].body["channel"], bob_dm.as_str());
    assert!(
        posts[3].body["text"]
            .as_str()
            .unwrap()
            .contains(&format!("#{number}"))
    );
    w.shutdown().await;
}

//! Escalation end to end: policies over HTTP, the worker on a moved clock, the outbox delivering
//! through the built-in log channel and the `recorder` test channel plugin, several workers at once,
//! a killed worker, the dry run against what the worker does, and handoff notices.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use nightowl::worker::{self, Scope, WorkerHandle};
use nightowl_tests::{OnCallSetup, TestApp, TestTenant, checkout_on_call, error_code, send, until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

/// 12:00 UTC on a Wednesday, far from any DST change.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-10T12:00:00Z")
        .unwrap()
        .to_utc()
}

struct Team {
    t: TestTenant,
    /// Display name → user id.
    users: BTreeMap<String, String>,
    roster: String,
    policy: String,
}

impl Team {
    fn user(&self, name: &str) -> &str {
        &self.users[name]
    }

    fn schema(&self) -> String {
        self.t.tenant.slug.schema()
    }
}

async fn ok(app: &TestApp, t: &TestTenant, method: Method, path: &str, body: Value) -> Value {
    let (status, v) = send(app.as_key(&t.admin_key, method, path).json(&body)).await;
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// A tenant with a daily roster (UTC, handoff 09:00, members in order), a team lead, a policy on the
/// roster, and a service `checkout` routed to the roster.
async fn team(app: &TestApp, members: &[&str], lead: &str, tiers: Value, repeat: i32) -> Team {
    let t = app.tenant().await;
    let mut users = BTreeMap::new();
    for name in members.iter().chain(std::iter::once(&lead)) {
        let email: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        let u = ok(
            app,
            &t,
            Method::POST,
            "/api/v1/users",
            json!({"email": format!("{email}@acme.example"), "display_name": name, "role": "engineer"}),
        )
        .await;
        users.insert((*name).to_owned(), u["id"].as_str().unwrap().to_owned());
    }
    let ids: Vec<&str> = members.iter().map(|m| users[*m].as_str()).collect();
    let OnCallSetup { policy, roster } =
        checkout_on_call(app, &t, tiers, repeat, "UTC", &ids, &users[lead]).await;
    Team {
        t,
        users,
        roster,
        policy,
    }
}

fn start(app: &TestApp, team: &Team, name: &str) -> WorkerHandle {
    worker::spawn_scoped(
        app.state.clone(),
        name,
        Scope::Only(vec![team.t.tenant.slug.clone()]),
    )
}

async fn alert(app: &TestApp, team: &Team, fingerprint: &str, severity: &str) -> String {
    let v = ok(
        app,
        &team.t,
        Method::POST,
        "/api/v1/webhooks/generic",
        json!({"title": format!("Checkout down ({fingerprint})"), "fingerprint": fingerprint,
               "severity": severity, "service": "checkout"}),
    )
    .await;
    v["alerts"][0]["id"].as_str().unwrap().to_owned()
}

/// A `(tier, user id, channel, scheduled_at)` step of an escalation.
type Step = (i64, String, String, DateTime<Utc>);

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// Every `notified` event of an alert, in order.
async fn notified(app: &TestApp, team: &Team, alert: &str) -> Vec<Step> {
    let v = ok(
        app,
        &team.t,
        Method::GET,
        &format!("/api/v1/alerts/{alert}/escalation"),
        Value::Null,
    )
    .await;
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "notified")
        .map(|e| {
            (
                e["tier"].as_i64().unwrap(),
                e["detail"]["user_id"].as_str().unwrap().to_owned(),
                e["channel"].as_str().unwrap().to_owned(),
                instant(e["detail"]["scheduled_at"].as_str().unwrap()),
            )
        })
        .collect()
}

/// Outbox rows of the tenant: `(kind, channel, target, status, attempts)`.
/// The pages (and handoff notices) of the outbox; status updates are `updates`'s.
async fn outbox(app: &TestApp, team: &Team) -> Vec<(String, String, String, String, i32)> {
    sqlx::query_as(&format!(
        "select kind, channel, target, status, attempts from {}.notification_outbox where kind <> 'update'
         order by created_at, idempotency_key",
        team.schema()
    ))
    .fetch_all(app.db())
    .await
    .unwrap()
}

async fn escalation_state(app: &TestApp, team: &Team, alert: &str) -> Value {
    ok(
        app,
        &team.t,
        Method::GET,
        &format!("/api/v1/alerts/{alert}/escalation"),
        Value::Null,
    )
    .await
}

fn two_tiers() -> Value {
    json!([
        {"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"]},
        {"timeout_minutes": 10, "notify_via": ["recorder"], "targets": ["oncall_secondary", "team_lead"]}
    ])
}

/// Gives the worker a moment to (wrongly) act, for checks that nothing happens.
async fn settle() {
    tokio::time::sleep(StdDuration::from_millis(300)).await;
}

#[tokio::test]
async fn policies_are_validated_and_kept() {
    let app = TestApp::spawn_with_plugins(&["recorder"], |_| {}).await;
    let t = app.tenant().await;
    let path = "/api/v1/escalation-policies";
    let (s, body) = send(app.as_key(&t.admin_key, Method::POST, path).json(&json!({
        "name": "Bad", "repeat_count": 11,
        "tiers": [{"timeout_minutes": 0, "notify_via": ["pager"], "targets": ["everyone", "user:00000000-0000-0000-0000-000000000001"]}]
    })))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for field in ["repeat_count", "tiers[0].timeout_minutes", "tiers[0].targets"] {
        assert!(body["details"].get(field).is_some(), "{field}: {body}");
    }
    // Well-formed but naming a channel nobody serves and a user that does not exist.
    let (s, body) = send(app.as_key(&t.admin_key, Method::POST, path).json(&json!({
        "name": "Dangling",
        "tiers": [{"timeout_minutes": 5, "notify_via": ["pager"], "targets": ["user:00000000-0000-0000-0000-000000000001"]}]
    })))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("pager") && text.contains("does not exist"),
        "{text}"
    );

    // The editor's channel list: the built-in ones, marked by whether their plugin is installed (only
    // the recorder is, here), and every installed channel plugin.
    let (s, channels) = send(app.as_key(&t.admin_key, Method::GET, &format!("{path}/channels"))).await;
    assert_eq!(s, StatusCode::OK, "{channels}");
    let listed: Vec<(&str, bool)> = channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["installed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("log", true),
            ("slack_dm", false),
            ("slack_channel", false),
            ("phone", false),
            ("sms", false),
            ("recorder", true)
        ]
    );
    assert_eq!(channels[1]["plugin"], "slack");
    assert!(channels[0]["plugin"].is_null());

    let good = json!({"name": "Default", "tiers": two_tiers(), "repeat_count": 1});
    let (s, created) = send(app.as_key(&t.admin_key, Method::POST, path).json(&good)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["tiers"][1]["notify_via"], json!(["recorder"]));
    let (s, dup) = send(app.as_key(&t.admin_key, Method::POST, path).json(&good)).await;
    assert_eq!((s, error_code(&dup)), (StatusCode::CONFLICT, "policy_exists"));
    let id = created["id"].as_str().unwrap();
    let (s, updated) = send(
        app.as_key(&t.admin_key, Method::PUT, &format!("{path}/{id}"))
            .json(&json!({"name": "Default", "tiers": [two_tiers()[0].clone()], "repeat_count": 0})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["tiers"].as_array().unwrap().len(), 1);
    let (s, _) = send(app.as_key(&t.admin_key, Method::DELETE, &format!("{path}/{id}"))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = send(app.as_key(&t.admin_key, Method::GET, &format!("{path}/{id}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tiers_fire_at_their_deadlines_and_acknowledge_stops_everything() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    app.clock.set(t0());
    let team = team(&app, &["Alice", "Bob"], "Carol", two_tiers(), 0).await;
    let w = start(&app, &team, "w1");

    // Warnings do not page.
    let quiet = alert(&app, &team, "disk-warning", "warning").await;
    let a = alert(&app, &team, "checkout-5xx", "critical").await;
    until("tier 1", || async { notified(&app, &team, &a).await.len() == 1 }).await;
    // Today (10 June, from 09:00) is shift 9: Bob primary, Alice secondary.
    let tier1 = notified(&app, &team, &a).await;
    assert_eq!(tier1[0].0, 1);
    assert_eq!(tier1[0].1, team.user("Bob"));
    assert_eq!(tier1[0].2, "log");
    until("tier 1 delivered", || async {
        outbox(&app, &team).await.iter().any(|r| r.3 == "sent")
    })
    .await;

    // One second before the deadline: nothing.
    app.clock.set(t0() + Duration::minutes(5) - Duration::seconds(1));
    settle().await;
    assert_eq!(notified(&app, &team, &a).await.len(), 1);

    // Exactly at the deadline: tier 2, secondary and team lead through the recorder plugin.
    app.clock.set(t0() + Duration::minutes(5));
    until("tier 2", || async { notified(&app, &team, &a).await.len() == 3 }).await;
    let tier2: Vec<_> = notified(&app, &team, &a).await.into_iter().skip(1).collect();
    assert_eq!(
        tier2
            .iter()
            .map(|n| (n.0, n.1.as_str(), n.2.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (2, team.user("Alice"), "recorder"),
            (2, team.user("Carol"), "recorder")
        ]
    );
    assert_eq!(
        tier2[0].3,
        t0() + Duration::minutes(5),
        "scheduled at the deadline"
    );
    until("tier 2 delivered", || async {
        outbox(&app, &team).await.iter().filter(|r| r.3 == "sent").count() == 3
    })
    .await;
    let results: Vec<Value> = sqlx::query_scalar(&format!(
        "select result from {}.notification_outbox where channel = 'recorder' order by target",
        team.schema()
    ))
    .fetch_all(app.db())
    .await
    .unwrap();
    assert!(
        results
            .iter()
            .all(|r| r["external_id"].as_str().unwrap().starts_with("rec:")),
        "{results:?}"
    );

    // Acknowledge: escalation stops and nothing more is sent, however far the clock moves.
    ok(
        &app,
        &team.t,
        Method::PATCH,
        &format!("/api/v1/alerts/{a}/acknowledge"),
        Value::Null,
    )
    .await;
    let state = escalation_state(&app, &team, &a).await;
    assert_eq!(state["state"], "stopped");
    let stop = state["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "acknowledged")
        .expect("the stop is recorded")
        .clone();
    // The acknowledgement and the escalation stop are one action at one instant.
    let (_, alert) = send(app.as_key(&team.t.admin_key, Method::GET, &format!("/api/v1/alerts/{a}"))).await;
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(stop["created_at"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(alert["acknowledged_at"].as_str().unwrap()).unwrap()
    );
    assert_eq!(stop["detail"]["by"], alert["acknowledged_by"]);
    app.clock.set(t0() + Duration::hours(3));
    settle().await;
    assert_eq!(notified(&app, &team, &a).await.len(), 3);
    assert_eq!(outbox(&app, &team).await.len(), 3);
    assert_eq!(escalation_state(&app, &team, &quiet).await["state"], Value::Null);

    let metrics = app.metrics().await;
    for tier in ["1", "2"] {
        let line = format!("nightowl_alerts_escalated_total{{tier=\"{tier}\"}}");
        assert!(metrics.lines().any(|l| l.starts_with(&line)), "{line} missing");
    }
    w.shutdown().await;
}

/// Acting on an alert by its number (as a person types it) is acting on that alert: the escalation
/// is hastened and stopped with the same history as by id, and the audit log names it by its id.
#[tokio::test]
async fn an_alert_escalated_and_acknowledged_by_its_number_has_the_same_history_and_audit_as_by_id() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    app.clock.set(t0());
    let team = team(&app, &["Alice", "Bob"], "Carol", two_tiers(), 0).await;
    let other = alert(&app, &team, "checkout-5xx", "critical").await;
    let a = alert(&app, &team, "checkout-latency", "critical").await;
    let (_, stored) = send(app.as_key(&team.t.admin_key, Method::GET, &format!("/api/v1/alerts/{a}"))).await;
    assert_eq!(stored["number"], 2);
    assert_eq!(escalation_state(&app, &team, "2").await["state"], "active");

    let (status, _) = send(app.as_key(&team.t.admin_key, Method::POST, "/api/v1/alerts/%232/escalate")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let acked = ok(
        &app,
        &team.t,
        Method::PATCH,
        "/api/v1/alerts/2/acknowledge",
        Value::Null,
    )
    .await;
    assert_eq!(
        (acked["id"].as_str(), acked["status"].as_str()),
        (Some(a.as_str()), Some("acknowledged"))
    );

    let state = escalation_state(&app, &team, &a).await;
    assert_eq!(escalation_state(&app, &team, "2").await, state);
    assert_eq!(state["state"], "stopped");
    let by = |action: &str| {
        state["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} recorded: {state}"))["detail"]["by"]
            .clone()
    };
    assert_eq!(by("escalated"), acked["acknowledged_by"]);
    assert_eq!(by("acknowledged"), acked["acknowledged_by"]);
    assert_eq!(
        escalation_state(&app, &team, &other).await["state"],
        "active",
        "only #2"
    );

    let path = format!("/api/v1/audit-log?resource_type=alerts&resource_id={a}");
    let mut actions = Vec::new();
    for _ in 0..50 {
        let (_, page) = send(app.as_key(&team.t.admin_key, Method::GET, &path)).await;
        actions = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap().to_owned())
            .collect();
        if actions.len() >= 2 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(actions, ["acknowledge", "escalate"], "newest first, under the id");
    let (_, by_number) = send(app.as_key(
        &team.t.admin_key,
        Method::GET,
        "/api/v1/audit-log?resource_type=alerts",
    ))
    .await;
    let ids: Vec<&str> = by_number["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str(), a.as_str()], "never under the number");
}

#[tokio::test]
async fn the_policy_repeats_then_gives_up() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    app.clock.set(t0());
    let tiers = json!([{"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"]}]);
    let team = team(&app, &["Alice", "Bob"], "Carol", tiers, 2).await;
    let w = start(&app, &team, "w1");
    let a = alert(&app, &team, "repeat", "major").await;
    for (i, minutes) in [0, 5, 10].iter().enumerate() {
        app.clock.set(t0() + Duration::minutes(*minutes));
        until("next round", || async {
            notified(&app, &team, &a).await.len() == i + 1
        })
        .await;
    }
    let state = escalation_state(&app, &team, &a).await;
    assert_eq!(state["state"], "active");
    assert_eq!(state["next_at"], "2026-06-10T12:15:00Z");
    app.clock.set(t0() + Duration::minutes(15));
    until("exhausted", || async {
        escalation_state(&app, &team, &a).await["state"] == "exhausted"
    })
    .await;
    let rounds: Vec<i64> = escalation_state(&app, &team, &a).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "notified")
        .map(|e| e["round"].as_i64().unwrap())
        .collect();
    assert_eq!(rounds, vec![0, 1, 2]);
    app.clock.set(t0() + Duration::hours(2));
    settle().await;
    assert_eq!(notified(&app, &team, &a).await.len(), 3);
    w.shutdown().await;
}

#[tokio::test]
async fn two_workers_notify_each_tier_exactly_once() {
    let app = TestApp::spawn_custom(14, &["generic", "recorder"], |_| {}).await;
    app.clock.set(t0());
    let team = team(&app, &["Alice", "Bob"], "Carol", two_tiers(), 0).await;
    let (w1, w2) = (start(&app, &team, "w1"), start(&app, &team, "w2"));
    let mut alerts = Vec::new();
    for i in 0..20 {
        alerts.push(alert(&app, &team, &format!("many-{i}"), "critical").await);
    }
    let count = |status: &'static str| {
        let (app, schema) = (&app, team.schema());
        async move {
            sqlx::query(&format!(
                "select count(*) as n from {schema}.notification_outbox where status = $1"
            ))
            .bind(status)
            .fetch_one(app.db())
            .await
            .unwrap()
            .get::<i64, _>("n")
        }
    };
    until("tier 1 for all", || async { count("sent").await == 20 }).await;
    app.clock.set(t0() + Duration::minutes(5));
    until("tier 2 for all", || async { count("sent").await == 60 }).await;
    settle().await;
    // Each (alert, tier, person, channel) exactly once, in the outbox and in the event log.
    let rows = outbox(&app, &team).await;
    assert_eq!(rows.len(), 60);
    assert!(rows.iter().all(|r| r.3 == "sent" && r.4 == 1), "{rows:?}");
    let events: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {}.escalation_events where action = 'notified'",
        team.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(events, 60);
    let deadlines: Vec<String> = sqlx::query_scalar(&format!(
        "select distinct detail->>'scheduled_at' from {}.escalation_events where action = 'notified'",
        team.schema()
    ))
    .fetch_all(app.db())
    .await
    .unwrap();
    assert_eq!(deadlines.len(), 2, "two deadlines: creation and +5 min");
    w1.shutdown().await;
    w2.shutdown().await;
}

#[tokio::test]
async fn a_killed_worker_loses_nothing() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    app.clock.set(t0());
    let team = team(&app, &["Alice", "Bob"], "Carol", two_tiers(), 0).await;
    let first = start(&app, &team, "doomed");
    let a = alert(&app, &team, "killed", "critical").await;
    until("tier 1", || async { notified(&app, &team, &a).await.len() == 1 }).await;
    // The worker dies between tiers.
    first.abort();
    app.clock.set(t0() + Duration::minutes(5));
    settle().await;
    assert_eq!(
        notified(&app, &team, &a).await.len(),
        1,
        "nobody is left to fire tier 2"
    );

    // A worker that dies holding the row mid-transaction: simulated by a transaction that claimed
    // the row the way a worker does and never commits.
    let mut zombie = app.db().begin().await.unwrap();
    sqlx::query(&format!(
        "select alert_id from {}.alert_escalations where alert_id = $1 for update",
        team.schema()
    ))
    .bind(uuid::Uuid::parse_str(&a).unwrap())
    .execute(&mut *zombie)
    .await
    .unwrap();
    let second = start(&app, &team, "successor");
    settle().await;
    assert_eq!(
        notified(&app, &team, &a).await.len(),
        1,
        "a locked row is skipped, not waited on"
    );
    drop(zombie);
    until("tier 2 by the successor", || async {
        notified(&app, &team, &a).await.len() == 3
    })
    .await;
    // The first worker may have died holding tier 1's notification mid-send: its lease runs out
    // and the successor delivers it.
    app.clock
        .set(t0() + Duration::minutes(5) + nightowl::notify::outbox::LEASE);
    until("delivered", || async {
        outbox(&app, &team).await.iter().filter(|r| r.3 == "sent").count() == 3
    })
    .await;
    settle().await;
    assert!(outbox(&app, &team).await.iter().all(|r| r.4 <= 2));
    assert_eq!(notified(&app, &team, &a).await.len(), 3, "tier 1 is not repeated");
    assert_eq!(outbox(&app, &team).await.len(), 3);
    second.shutdown().await;
}

#[tokio::test]
async fn the_dry_run_is_what_the_worker_then_does() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    // 08:52: the roster hands off at 09:00 while the alert escalates, and an override covers Dave
    // in from 09:10 to 09:20.
    let start_at = DateTime::parse_from_rfc3339("2026-06-10T08:52:00Z")
        .unwrap()
        .to_utc();
    app.clock.set(start_at);
    let tiers = json!([
        {"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"]},
        {"timeout_minutes": 7, "notify_via": ["recorder", "log"], "targets": ["oncall_primary", "oncall_secondary"]},
        {"timeout_minutes": 6, "notify_via": ["log"], "targets": ["team_lead", "oncall_primary"]}
    ]);
    let team = team(&app, &["Alice", "Bob", "Dave"], "Carol", tiers, 1).await;
    ok(
        &app,
        &team.t,
        Method::POST,
        &format!("/api/v1/rosters/{}/overrides", team.roster),
        json!({"user_id": team.user("Dave"), "starts_at": "2026-06-10T09:10:00Z", "ends_at": "2026-06-10T09:20:00Z"}),
    )
    .await;
    let dry = ok(
        &app,
        &team.t,
        Method::POST,
        &format!("/api/v1/escalation-policies/{}/dry-run", team.policy),
        json!({"start": start_at}),
    )
    .await;
    assert_eq!(dry["roster_id"], team.roster.as_str());
    let steps = dry["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 6, "{dry}");
    assert_eq!(
        steps
            .iter()
            .map(|s| s["after_minutes"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![0, 5, 12, 18, 23, 30]
    );
    assert_eq!(dry["exhausted_at"], "2026-06-10T09:28:00Z");
    // The handoff and the override change who is reached while the policy runs (who exactly is the
    // on-call module's answer; the worker must match it step for step below).
    let primaries: Vec<&str> = steps
        .iter()
        .map(|s| s["recipients"][0]["user_id"].as_str().unwrap())
        .collect();
    assert!(primaries.windows(2).any(|w| w[0] != w[1]), "{primaries:?}");

    let w = start(&app, &team, "w1");
    let a = alert(&app, &team, "dry-run", "critical").await;
    let expected: Vec<Step> = steps
        .iter()
        .flat_map(|s| {
            s["recipients"].as_array().unwrap().iter().map(move |r| {
                (
                    s["tier"].as_i64().unwrap(),
                    r["user_id"].as_str().unwrap().to_owned(),
                    r["channel"].as_str().unwrap().to_owned(),
                    instant(s["at"].as_str().unwrap()),
                )
            })
        })
        .collect();
    let mut seen = 0;
    for step in steps {
        let at = DateTime::parse_from_rfc3339(step["at"].as_str().unwrap())
            .unwrap()
            .to_utc();
        app.clock.set(at);
        seen += step["recipients"].as_array().unwrap().len();
        until("the step", || async {
            notified(&app, &team, &a).await.len() == seen
        })
        .await;
    }
    let done = notified(&app, &team, &a).await;
    assert_eq!(done, expected);
    app.clock.set(
        DateTime::parse_from_rfc3339("2026-06-10T09:28:00Z")
            .unwrap()
            .to_utc(),
    );
    until("exhausted", || async {
        escalation_state(&app, &team, &a).await["state"] == "exhausted"
    })
    .await;
    w.shutdown().await;
}

#[tokio::test]
async fn a_failing_channel_is_retried_once_then_the_next_tier_fires() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    app.clock.set(t0());
    // Shift 9 (10 June) has "Flaky Fred" as primary and "Broken Bill" as secondary.
    let tiers = json!([
        {"timeout_minutes": 5, "notify_via": ["recorder"], "targets": ["oncall_primary"]},
        {"timeout_minutes": 30, "notify_via": ["recorder"], "targets": ["oncall_secondary"]},
        {"timeout_minutes": 30, "notify_via": ["log"], "targets": ["team_lead"]}
    ]);
    let team = team(&app, &["Broken Bill", "Flaky Fred"], "Carol", tiers, 0).await;
    let w = start(&app, &team, "w1");
    let a = alert(&app, &team, "flaky", "critical").await;
    until("first attempt failed", || async {
        outbox(&app, &team)
            .await
            .first()
            .is_some_and(|r| r.3 == "pending" && r.4 == 1)
    })
    .await;
    // The retry waits 30 s.
    app.clock.set(t0() + Duration::seconds(30));
    until("retried and sent", || async {
        outbox(&app, &team)
            .await
            .first()
            .is_some_and(|r| r.3 == "sent" && r.4 == 2)
    })
    .await;
    let state = escalation_state(&app, &team, &a).await;
    assert_eq!(state["next_tier"], 2, "a delivered tier waits for its deadline");

    // Tier 2 goes to Broken Bill, whose channel always fails: after the retry, tier 3 fires at
    // once instead of 30 minutes later.
    app.clock.set(t0() + Duration::minutes(5));
    until("tier 2's first attempt failed", || async {
        let rows = outbox(&app, &team).await;
        rows.len() == 2 && rows[1].3 == "pending" && rows[1].4 == 1
    })
    .await;
    app.clock.set(t0() + Duration::minutes(5) + Duration::seconds(30));
    until("tier 3 after the failure", || async {
        notified(&app, &team, &a).await.len() == 3
    })
    .await;
    let events = escalation_state(&app, &team, &a).await["events"].clone();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"delivery_failed") && actions.contains(&"escalated"),
        "{actions:?}"
    );
    let failed: Vec<_> = outbox(&app, &team)
        .await
        .into_iter()
        .filter(|r| r.3 == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].4, 2, "tried twice");
    assert_eq!(notified(&app, &team, &a).await[2].1, team.user("Carol"));
    w.shutdown().await;
}

#[tokio::test]
async fn a_slow_channel_call_holds_up_only_its_own_notification() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    app.clock.set(t0());
    // Shift 9 (10 June) has "Quick Quinn" as primary and "Slow Sam" as secondary. The recorder spins
    // on notifications to Sam until the runtime stops it at its 3 s deadline.
    let tiers = json!([
        {"timeout_minutes": 5, "notify_via": ["recorder"], "targets": ["oncall_secondary"]},
        {"timeout_minutes": 5, "notify_via": ["recorder"], "targets": ["oncall_primary"]}
    ]);
    let team = team(&app, &["Slow Sam", "Quick Quinn"], "Carol", tiers, 0).await;
    let row = |who: &'static str| {
        let (app, team) = (&app, &team);
        async move {
            let id = team.user(who).to_owned();
            outbox(app, team).await.into_iter().find(|r| r.2 == id)
        }
    };
    let w = start(&app, &team, "w1");
    let a = alert(&app, &team, "slow", "critical").await;
    until("Sam's notification in flight", || async {
        row("Slow Sam").await.is_some_and(|r| r.3 == "sending")
    })
    .await;
    // While the worker waits on Sam's channel, tier 2 is fired by hand: Quinn's notification must
    // not wait behind Sam's.
    ok(
        &app,
        &team.t,
        Method::POST,
        &format!("/api/v1/alerts/{a}/escalate"),
        Value::Null,
    )
    .await;
    until("Quinn's notification sent", || async {
        row("Quick Quinn").await.is_some_and(|r| r.3 == "sent")
    })
    .await;
    let sam = row("Slow Sam").await.unwrap();
    assert_eq!(
        (sam.3.as_str(), sam.4),
        ("sending", 1),
        "Sam's call is still running"
    );
    // Shutting down waits for the call in flight to be stopped and settled, not abandoned.
    w.shutdown().await;
    let sam = row("Slow Sam").await.unwrap();
    assert_eq!((sam.3.as_str(), sam.4), ("pending", 1), "queued for its retry");
    let error: String = sqlx::query_scalar(&format!(
        "select last_error from {}.notification_outbox where target = $1",
        team.schema()
    ))
    .bind(team.user("Slow Sam"))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert!(error.contains("deadline"), "{error}");
}

#[tokio::test]
async fn handoffs_send_a_summary_a_briefing_and_a_team_notice_once() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    // 10 June 08:30, half an hour before the daily handoff. Who leaves and who arrives is read from
    // the on-call API.
    let before = DateTime::parse_from_rfc3339("2026-06-10T08:30:00Z")
        .unwrap()
        .to_utc();
    app.clock.set(before);
    let team = team(&app, &["Alice", "Bob"], "Carol", two_tiers(), 0).await;
    let (w1, w2) = (start(&app, &team, "w1"), start(&app, &team, "w2"));
    alert(&app, &team, "night-shift", "warning").await;
    settle().await;
    assert!(outbox(&app, &team).await.is_empty());
    let oncall = |at: &str| {
        let (app, team) = (&app, &team);
        let path = format!("/api/v1/rosters/{}/oncall?at={at}", team.roster);
        async move {
            ok(app, &team.t, Method::GET, &path, Value::Null).await["primary"]["user_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let leaving = oncall("2026-06-10T08:59:59Z").await;
    let arriving = oncall("2026-06-10T09:00:00Z").await;
    assert_ne!(leaving, arriving);

    app.clock.set(
        DateTime::parse_from_rfc3339("2026-06-10T09:00:00Z")
            .unwrap()
            .to_utc(),
    );
    until("three notices sent", || async {
        let rows = outbox(&app, &team).await;
        rows.len() == 3 && rows.iter().all(|r| r.3 == "sent")
    })
    .await;
    settle().await;
    let rows: Vec<(String, String, Value)> = sqlx::query_as(&format!(
        "select kind, target, payload from {}.notification_outbox order by kind",
        team.schema()
    ))
    .fetch_all(app.db())
    .await
    .unwrap();
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["handoff_incoming", "handoff_outgoing", "oncall_changed"]
    );
    assert_eq!(rows[0].1, arriving);
    assert_eq!(rows[1].1, leaving);
    let summary = rows[1].2["notification"]["subject"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("- #1 [warning] Checkout down (night-shift) (firing)"),
        "alerts listed with their numbers: {summary}"
    );
    assert_eq!(
        rows[1].2["notification"]["subject"]["alerts"][0]["number"], 1,
        "and in the notice's alerts"
    );
    let briefing = rows[0].2["notification"]["subject"]["summary"].as_str().unwrap();
    assert!(briefing.contains("night-shift"), "{briefing}");
    assert_eq!(rows[2].2["notification"]["destination"]["group"], "Checkout");
    // The next day's handoff is another set; nothing in between.
    app.clock.set(
        DateTime::parse_from_rfc3339("2026-06-10T20:00:00Z")
            .unwrap()
            .to_utc(),
    );
    settle().await;
    assert_eq!(outbox(&app, &team).await.len(), 3);
    w1.shutdown().await;
    w2.shutdown().await;
}

/// `(event, channel, target, status, previous external id)` of the status updates of an alert.
async fn updates(
    app: &TestApp,
    team: &Team,
    alert: &str,
) -> Vec<(String, String, String, String, Option<String>)> {
    sqlx::query_as(&format!(
        "select payload -> 'notification' -> 'subject' ->> 'event', channel, target, status,
                payload -> 'notification' ->> 'previous_external_id'
         from {}.notification_outbox where kind = 'update' and alert_id = $1::uuid
         order by created_at, idempotency_key",
        team.schema()
    ))
    .bind(alert)
    .fetch_all(app.db())
    .await
    .unwrap()
}

/// When an alert escalates, fires again, is acknowledged and resolved, every conversation a channel
/// plugin already has a message about it in gets a notice that carries that message's id (so Slack
/// can edit it and reply in its thread), through the outbox; the built-in `log` channel, which has
/// nothing to edit, gets none.
#[tokio::test]
async fn every_conversation_with_a_message_about_an_alert_hears_what_happened_to_it() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    app.clock.set(t0());
    let tiers = json!([
        {"timeout_minutes": 5, "notify_via": ["recorder", "log"], "targets": ["oncall_primary"]},
        {"timeout_minutes": 5, "notify_via": ["recorder"], "targets": ["oncall_secondary"]}
    ]);
    let team = team(&app, &["Quick Quinn", "Ann"], "Carol", tiers, 0).await;
    let w = start(&app, &team, "w1");
    let a = alert(&app, &team, "updates", "critical").await;
    let first = |who: &'static str| {
        let (app, team) = (&app, &team);
        async move {
            let id = team.user(who).to_owned();
            sqlx::query_scalar::<_, String>(&format!(
                "select result ->> 'external_id' from {}.notification_outbox
                 where kind = 'alert' and channel = 'recorder' and target = $1 and status = 'sent'",
                team.schema()
            ))
            .bind(id)
            .fetch_optional(app.db())
            .await
            .unwrap()
        }
    };
    // Shift 9 (10 June): the second member is primary, the first secondary.
    let (primary, secondary) = ("Ann", "Quick Quinn");
    until("tier 1 delivered", || async { first(primary).await.is_some() }).await;
    let tier1 = first(primary).await.unwrap();

    // The alert fires again: one "fired again" notice per window, into tier 1's conversation only.
    for _ in 0..3 {
        alert(&app, &team, "updates", "critical").await;
    }
    until("the repeat notice sent", || async {
        updates(&app, &team, &a)
            .await
            .iter()
            .any(|u| u.0 == "reminder" && u.3 == "sent")
    })
    .await;
    let seen = updates(&app, &team, &a).await;
    assert_eq!(seen.len(), 1, "three repeats in one window, one notice: {seen:?}");
    assert_eq!(
        (seen[0].1.as_str(), seen[0].2.as_str(), seen[0].4.as_deref()),
        ("recorder", team.user(primary), Some(tier1.as_str())),
        "the notice threads onto tier 1's message; log gets none"
    );

    // Tier 2 fires: tier 1's conversation hears the alert escalated.
    app.clock.set(t0() + Duration::minutes(5));
    until("tier 2 delivered", || async { first(secondary).await.is_some() }).await;
    until("the escalation notice sent", || async {
        updates(&app, &team, &a)
            .await
            .iter()
            .any(|u| u.0 == "escalated" && u.3 == "sent")
    })
    .await;

    // Acknowledged through the API: both conversations hear it, each with its own first message.
    ok(
        &app,
        &team.t,
        Method::PATCH,
        &format!("/api/v1/alerts/{a}/acknowledge"),
        Value::Null,
    )
    .await;
    ok(
        &app,
        &team.t,
        Method::PATCH,
        &format!("/api/v1/alerts/{a}/resolve"),
        Value::Null,
    )
    .await;
    until("acknowledged and resolved notices sent", || async {
        let u = updates(&app, &team, &a).await;
        u.iter().filter(|u| u.3 == "sent").count() == 6
    })
    .await;
    let tier2 = first(secondary).await.unwrap();
    let seen = updates(&app, &team, &a).await;
    for (event, who, message) in [
        ("acknowledged", primary, &tier1),
        ("acknowledged", secondary, &tier2),
        ("resolved", primary, &tier1),
        ("resolved", secondary, &tier2),
    ] {
        assert!(
            seen.iter()
                .any(|u| u.0 == event && u.2 == team.user(who) && u.4.as_deref() == Some(message.as_str())),
            "{event} for {who} threads onto {message}: {seen:?}"
        );
    }
    assert!(
        seen.iter().all(|u| u.1 == "recorder"),
        "never through log: {seen:?}"
    );
    // What the channel was handed is the alert as it is at delivery, and its earlier message.
    let handed: Vec<String> = sqlx::query_scalar(&format!(
        "select result -> 'details' -> 0 ->> 1 from {}.notification_outbox where kind = 'update' and status = 'sent'",
        team.schema()
    ))
    .fetch_all(app.db())
    .await
    .unwrap();
    assert!(
        handed.iter().all(|d| d.starts_with(&format!("alert:{a}"))),
        "{handed:?}"
    );
    w.shutdown().await;
}

//! FakeSlack over real HTTPS: a reqwest client that trusts only the test CA calls it as the Slack
//! plugin would, and the fake checks, answers, records and fails like Slack.

use std::time::Duration;

use nightowl_fakes::slack::{BOT_USER_ID, RESPONSE_URL};
use nightowl_fakes::{Failure, FakeSlack, TestCa};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "xoxb-test-token";

/// A client that trusts the test CA and nothing else.
fn client() -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(TestCa::shared().pem().as_bytes()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .tls_built_in_root_certs(false)
        .https_only(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn slack_with_channel(channel: &str) -> FakeSlack {
    let slack = FakeSlack::start(TOKEN).await;
    slack.add_channel(channel);
    slack
}

/// Calls `method` with a JSON body as the plugin does; answers status, `Retry-After` and JSON.
async fn call(
    slack: &FakeSlack,
    token: Option<&str>,
    method: &str,
    body: Value,
) -> (StatusCode, Option<String>, Value) {
    let mut req = client()
        .post(format!("{}/{method}", slack.api_url()))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string());
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("the fake answers");
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, resp.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn a_good_post_message_is_recorded_and_answered_like_slack() {
    let slack = slack_with_channel("C0ALERTS").await;
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Disk full*"}}]);
    let (status, _, answer) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "text": "Disk full", "blocks": blocks}),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["channel"], "C0ALERTS");
    assert_eq!(answer["ts"], "1700000000.000100");
    assert_eq!(answer["message"]["text"], "Disk full");
    assert_eq!(answer["message"]["user"], BOT_USER_ID);
    assert_eq!(answer["message"]["blocks"], blocks);
    assert!(answer.get("warning").is_none(), "{answer}");

    let calls = slack
        .wait_for("chat.postMessage", 1, Duration::from_secs(5))
        .await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].header("authorization"), Some("Bearer xoxb-test-token"));
    assert_eq!(calls[0].body["channel"], "C0ALERTS");
    assert_eq!(calls[0].answer.as_ref().unwrap().body, answer);
    assert_eq!(
        slack.message("C0ALERTS", "1700000000.000100").unwrap().text,
        "Disk full"
    );

    let (_, _, second) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "text": "again"}),
    )
    .await;
    assert!(second["ts"].as_str().unwrap() > answer["ts"].as_str().unwrap());
}

#[tokio::test]
async fn update_answers_channel_ts_and_text_and_changes_the_message() {
    let slack = slack_with_channel("C0ALERTS").await;
    let (_, _, posted) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "text": "firing"}),
    )
    .await;
    let ts = posted["ts"].as_str().unwrap();

    let (_, _, updated) = call(
        &slack,
        Some(TOKEN),
        "chat.update",
        json!({"channel": "C0ALERTS", "ts": ts, "text": "acknowledged"}),
    )
    .await;
    assert_eq!(updated["ok"], true, "{updated}");
    assert_eq!(
        (updated["channel"].as_str(), updated["ts"].as_str()),
        (Some("C0ALERTS"), Some(ts))
    );
    assert_eq!(updated["text"], "acknowledged");
    let message = slack.message("C0ALERTS", ts).unwrap();
    assert_eq!((message.text.as_str(), message.edits), ("acknowledged", 1));

    let (_, _, no_ts) = call(
        &slack,
        Some(TOKEN),
        "chat.update",
        json!({"channel": "C0ALERTS", "text": "x"}),
    )
    .await;
    assert_eq!(no_ts["error"], "invalid_arguments");
    let (_, _, wrong_ts) = call(
        &slack,
        Some(TOKEN),
        "chat.update",
        json!({"channel": "C0ALERTS", "ts": "1.000001", "text": "x"}),
    )
    .await;
    assert_eq!(wrong_ts["error"], "message_not_found");
}

#[tokio::test]
async fn a_wrong_token_is_invalid_auth_and_none_is_not_authed() {
    let slack = slack_with_channel("C0ALERTS").await;
    let body = json!({"channel": "C0ALERTS", "text": "hi"});
    let (status, _, wrong) = call(&slack, Some("xoxb-other"), "chat.postMessage", body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wrong, json!({"ok": false, "error": "invalid_auth"}));
    let (_, _, none) = call(&slack, None, "chat.postMessage", body).await;
    assert_eq!(none, json!({"ok": false, "error": "not_authed"}));
    // Both recorded, nothing posted.
    assert_eq!(slack.calls_to("chat.postMessage").len(), 2);
    assert!(slack.messages().is_empty());
}

#[tokio::test]
async fn a_scripted_rate_limit_is_a_429_with_retry_after_then_calls_pass() {
    let slack = slack_with_channel("C0ALERTS").await;
    slack.fail_next(
        Some("chat.postMessage"),
        Failure::RateLimited { retry_after_secs: 30 },
        1,
    );
    let body = json!({"channel": "C0ALERTS", "text": "hi"});
    // Another method is not affected.
    let (_, _, auth) = call(&slack, Some(TOKEN), "auth.test", json!({})).await;
    assert_eq!(auth["ok"], true);

    let (status, retry_after, limited) = call(&slack, Some(TOKEN), "chat.postMessage", body.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.as_deref(), Some("30"));
    assert_eq!(limited, json!({"ok": false, "error": "ratelimited"}));

    let (status, _, passed) = call(&slack, Some(TOKEN), "chat.postMessage", body).await;
    assert_eq!((status, &passed["ok"]), (StatusCode::OK, &json!(true)));
    let calls = slack.calls_to("chat.postMessage");
    assert_eq!(calls[0].answer.as_ref().unwrap().retry_after, Some(30));
    assert_eq!(
        calls
            .iter()
            .map(|c| c.answer.as_ref().unwrap().status)
            .collect::<Vec<_>>(),
        [429, 200]
    );
}

#[tokio::test]
async fn an_unknown_channel_is_channel_not_found_and_one_not_joined_is_not_in_channel() {
    let slack = slack_with_channel("C0ALERTS").await;
    slack.add_channel_not_joined("C0PRIVATE");
    let (_, _, unknown) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": "C0NOPE", "text": "hi"}),
    )
    .await;
    assert_eq!(unknown, json!({"ok": false, "error": "channel_not_found"}));
    let (_, _, not_in) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": "C0PRIVATE", "text": "hi"}),
    )
    .await;
    assert_eq!(not_in, json!({"ok": false, "error": "not_in_channel"}));
    let (_, _, no_text) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": "C0ALERTS"}),
    )
    .await;
    assert_eq!(no_text["error"], "no_text");
    let (_, _, bad_blocks) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": "C0ALERTS", "blocks": [{"text": "no type"}]}),
    )
    .await;
    assert_eq!(bad_blocks["error"], "invalid_blocks");
    assert_eq!(
        bad_blocks["response_metadata"]["messages"],
        json!(["[ERROR] missing required field: type [json-pointer:/blocks/0]"])
    );
}

#[tokio::test]
async fn scripted_errors_and_server_errors_are_answered_once_each() {
    let slack = slack_with_channel("C0ALERTS").await;
    slack.fail_next(None, Failure::ServerError, 1);
    slack.fail_next(
        Some("chat.postMessage"),
        Failure::Error("not_in_channel".into()),
        1,
    );
    let body = json!({"channel": "C0ALERTS", "text": "hi"});
    let (status, _, _) = call(&slack, Some(TOKEN), "chat.postMessage", body.clone()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _, error) = call(&slack, Some(TOKEN), "chat.postMessage", body.clone()).await;
    assert_eq!(
        (status, error),
        (StatusCode::OK, json!({"ok": false, "error": "not_in_channel"}))
    );
    let (_, _, ok) = call(&slack, Some(TOKEN), "chat.postMessage", body).await;
    assert_eq!(ok["ok"], true);
}

#[tokio::test]
async fn a_stall_runs_the_client_into_its_timeout() {
    let slack = slack_with_channel("C0ALERTS").await;
    slack.fail_next(
        Some("chat.postMessage"),
        Failure::Stall(Duration::from_secs(3)),
        1,
    );
    let impatient = client()
        .post(format!("{}/chat.postMessage", slack.api_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({"channel": "C0ALERTS", "text": "hi"}).to_string())
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(impatient.unwrap_err().is_timeout());
    let calls = slack
        .wait_for("chat.postMessage", 1, Duration::from_secs(1))
        .await;
    assert!(calls[0].answer.is_none(), "still stalled");
}

#[tokio::test]
async fn form_bodies_are_read_like_slack_reads_them() {
    let slack = slack_with_channel("C0ALERTS").await;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", TOKEN)
        .append_pair("channel", "C0ALERTS")
        .append_pair("blocks", r#"[{"type":"divider"}]"#)
        .finish();
    let answer: Value = client()
        .post(format!("{}/chat.postMessage", slack.api_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(slack.calls()[0].body["blocks"], json!([{"type": "divider"}]));
}

#[tokio::test]
async fn json_without_a_charset_passes_with_slacks_warning() {
    let slack = slack_with_channel("C0ALERTS").await;
    let answer: Value = client()
        .post(format!("{}/chat.postMessage", slack.api_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(json!({"channel": "C0ALERTS", "text": "hi"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["warning"], "missing_charset");
    assert_eq!(
        answer["response_metadata"]["warnings"],
        json!(["missing_charset"])
    );
}

#[tokio::test]
async fn ephemeral_messages_modals_and_dms() {
    let slack = slack_with_channel("C0ALERTS").await;
    let (_, _, ephemeral) = call(
        &slack,
        Some(TOKEN),
        "chat.postEphemeral",
        json!({"channel": "C0ALERTS", "user": "U0ONCALL", "text": "only you"}),
    )
    .await;
    assert_eq!(ephemeral["ok"], true, "{ephemeral}");
    assert!(ephemeral["message_ts"].is_string());
    let (_, _, no_user) = call(
        &slack,
        Some(TOKEN),
        "chat.postEphemeral",
        json!({"channel": "C0ALERTS", "text": "x"}),
    )
    .await;
    assert_eq!(no_user["error"], "invalid_arguments");

    let view = json!({
        "type": "modal",
        "callback_id": "kb_add",
        "title": {"type": "plain_text", "text": "Knowledge base"},
        "blocks": [{"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
                    "element": {"type": "plain_text_input", "action_id": "value"}}],
    });
    let (_, _, opened) = call(
        &slack,
        Some(TOKEN),
        "views.open",
        json!({"trigger_id": "1.2.abc", "view": view}),
    )
    .await;
    assert_eq!(opened["ok"], true, "{opened}");
    assert_eq!(opened["view"]["callback_id"], "kb_add");
    let (_, _, no_trigger) = call(&slack, Some(TOKEN), "views.open", json!({"view": view})).await;
    assert_eq!(no_trigger["error"], "invalid_arguments");

    let (_, _, dm) = call(
        &slack,
        Some(TOKEN),
        "conversations.open",
        json!({"users": "U0ONCALL"}),
    )
    .await;
    let dm_id = dm["channel"]["id"].as_str().unwrap();
    assert_eq!(slack.dm_with("U0ONCALL").as_deref(), Some(dm_id));
    let (_, _, posted) = call(
        &slack,
        Some(TOKEN),
        "chat.postMessage",
        json!({"channel": dm_id, "text": "hi"}),
    )
    .await;
    assert_eq!(posted["channel"], dm_id);
}

#[tokio::test]
async fn response_urls_take_json_without_a_token() {
    let slack = FakeSlack::start(TOKEN).await;
    let url = slack.response_url("click-1");
    let resp = client()
        .post(&url)
        .json(&json!({"response_type": "ephemeral", "replace_original": false, "text": "Link your account"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let calls = slack.calls_to(RESPONSE_URL);
    assert_eq!(calls[0].path, "/response/click-1");
    assert_eq!(calls[0].body["text"], "Link your account");

    let empty = client().post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_clients_that_trust_the_test_ca_get_through() {
    let slack = FakeSlack::start(TOKEN).await;
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let refused = untrusting
        .post(format!("{}/auth.test", slack.api_url()))
        .send()
        .await;
    assert!(refused.is_err(), "a client without the CA must not connect");

    // The certificate also names 127.0.0.1, and the CA file is what a host would load.
    let pem = std::fs::read(TestCa::pem_file()).unwrap();
    let from_file = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let by_ip = format!("https://127.0.0.1:{}/api/auth.test", slack.server().addr().port());
    let answer: Value = from_file
        .post(by_ip)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["user_id"], BOT_USER_ID);
}

#[tokio::test]
async fn unknown_methods_are_unknown_method() {
    let slack = FakeSlack::start(TOKEN).await;
    let (status, _, answer) = call(&slack, Some(TOKEN), "chat.scheduleMessage", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["error"], "unknown_method");
}

#[tokio::test]
async fn dropping_the_fake_stops_it() {
    let slack = FakeSlack::start(TOKEN).await;
    let url = format!("{}/auth.test", slack.api_url());
    drop(slack);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(client().post(url).send().await.is_err());
}

//! Plugin sandbox and hot reload, with real misbehaving components.

use std::time::Duration;

use nightowl_tests::{TestApp, error_code, install_plugin, send};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn looping_hogging_and_panicking_plugins_fail_their_call_and_the_server_keeps_serving() {
    let app = TestApp::spawn_with_plugins(&["looper", "hog", "panicker", "generic"], |_| {}).await;
    let t = app.tenant().await;
    let call = |source: &str, body: &str| {
        app.as_key(&t.admin_key, Method::POST, &format!("/api/v1/webhooks/{source}"))
            .header("content-type", "application/json")
            .body(body.to_owned())
    };

    // While three loopers burn their deadline, other requests are answered.
    let loopers: Vec<_> = (0..3).map(|_| tokio::spawn(send(call("looper", "{}")))).collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (status, _) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/ping")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        loopers.iter().any(|h| !h.is_finished()),
        "ping was answered while loopers still ran"
    );
    for handle in loopers {
        let (status, err) = handle.await.unwrap();
        assert_eq!(
            (status, error_code(&err)),
            (StatusCode::GATEWAY_TIMEOUT, "plugin_fault"),
            "{err}"
        );
        assert_eq!(err["details"]["kind"], "timeout");
        assert!(err["message"].as_str().unwrap().contains("200 ms deadline"));
    }

    let (status, err) = send(call("hog", "{}")).await;
    assert_eq!(
        (status, err["details"]["kind"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("memory")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("16 MiB"));

    let (status, err) = send(call("panicker", "{}")).await;
    assert_eq!(
        (status, err["details"]["kind"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("trap")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("unreachable"));
    // The same plugin works on the next call: nothing survives between instances.
    let (status, ok) = send(call("panicker", "{\"behave\": true}")).await;
    assert_eq!(status, StatusCode::OK, "{ok}");

    let (status, _) = send(call("generic", "{\"title\": \"after the storm\"}")).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = app.metrics().await;
    for line in [
        r#"nightowl_plugin_faults_total{kind="timeout",plugin="looper"} 3"#,
        r#"nightowl_plugin_faults_total{kind="memory",plugin="hog"} 1"#,
        r#"nightowl_plugin_faults_total{kind="trap",plugin="panicker"} 1"#,
    ] {
        assert!(metrics.contains(line), "missing {line}");
    }
    // The admin's plugin list shows the same counts, and where to send alerts to a source.
    let (status, list) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/admin/plugins")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let plugin = |id: &str| {
        list["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(plugin("looper")["faults"], json!({"timeout": 3}));
    assert_eq!(plugin("hog")["faults"], json!({"memory": 1}));
    assert_eq!(plugin("panicker")["faults"], json!({"trap": 1}));
    assert_eq!(plugin("generic")["faults"], json!({}));
    assert_eq!(plugin("generic")["kind"], "source");
    assert!(
        plugin("generic")["webhook_url"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/webhooks/generic")
    );
}

#[tokio::test]
async fn a_plugin_importing_an_ungranted_interface_is_refused_at_load() {
    let app = TestApp::spawn_with_plugins(&["greedy", "generic"], |_| {}).await;
    let t = app.tenant().await;
    let (status, list) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/admin/plugins")).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<_> = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["generic"]);
    let failure = &list["failed"][0];
    assert_eq!(failure["directory"], "greedy");
    let reason = failure["error"].as_str().unwrap();
    assert!(
        reason.contains("nightowl:plugin/http-client@0.1.0") && reason.contains("does not grant"),
        "{reason}"
    );
    let (status, _) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/greedy")
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dropping_a_plugin_in_makes_its_route_live_and_removing_it_makes_it_404_without_restart() {
    let app = TestApp::spawn_with_plugins(&[], |c| c.plugin_poll_secs = 1).await;
    let _watcher = app.state.plugins.spawn_watcher(Duration::from_millis(200));
    let t = app.tenant().await;
    let post = || {
        app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/keep")
            .json(&json!({"name": "hot reloaded", "severity": "high"}))
    };
    assert_eq!(send(post()).await.0, StatusCode::NOT_FOUND);

    install_plugin(&app.state.config.plugin_dir, "keep");
    let mut status = StatusCode::NOT_FOUND;
    for _ in 0..50 {
        status = send(post()).await.0;
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::OK, "the new plugin went live");

    std::fs::remove_dir_all(app.state.config.plugin_dir.join("keep")).unwrap();
    for _ in 0..50 {
        status = send(post()).await.0;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the removed plugin's route is gone"
    );
}

//! A real Alertmanager (Debian's prometheus-alertmanager) sends a firing group and later its resolution
//! to NightOwl's alertmanager plugin.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nightowl_tests::{TestApp, free_port, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Alertmanager {
    child: Child,
    url: String,
    _dir: std::path::PathBuf,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> &'static str {
    ["prometheus-alertmanager", "alertmanager"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok())
        .expect(
            "Alertmanager is not installed: apt-get install prometheus-alertmanager (scripts/test.sh does)",
        )
}

async fn start(webhook_url: &str, key: &str) -> Alertmanager {
    let dir = std::env::temp_dir().join(format!("nightowl-am-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let config = format!(
        "route:\n  receiver: nightowl\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: nightowl\n    webhook_configs:\n      - url: {webhook_url}\n        send_resolved: true\n\
         \x20       http_config:\n          authorization:\n            credentials: {key}\n"
    );
    std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
    let port = free_port();
    let child = Command::new(binary())
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    let am = Alertmanager {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/-/ready", am.url))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return am;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("alertmanager did not become ready");
}

async fn post_alerts(am: &Alertmanager, ends_at: Option<chrono::DateTime<chrono::Utc>>) {
    let starts = chrono::Utc::now() - chrono::Duration::minutes(5);
    let alerts: Vec<Value> = ["db-1", "db-2"]
        .iter()
        .map(|instance| {
            let mut a = json!({
                "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical", "service": "payments-db"},
                "annotations": {"summary": format!("Disk full on {instance}"), "description": "No space left on device"},
                "startsAt": starts,
                "generatorURL": "http://prometheus.example/graph",
            });
            if let Some(end) = ends_at {
                a["endsAt"] = json!(end);
            }
            a
        })
        .collect();
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/alerts", am.url))
        .json(&alerts)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

#[tokio::test]
async fn a_real_alertmanager_fires_and_resolves_through_the_plugin() {
    let app = TestApp::spawn_with_plugins(&["alertmanager"], |_| {}).await;
    let t = app.tenant().await;
    let (_, key) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/admin/api-keys")
            .json(&json!({"name": "alertmanager", "role": "engineer", "scopes": ["ingest"]})),
    )
    .await;
    let am = start(
        &format!("{}/api/v1/webhooks/alertmanager", app.base),
        key["key"].as_str().unwrap(),
    )
    .await;
    post_alerts(&am, None).await;

    let list = |status: &'static str| {
        let req = app.as_key(
            &t.admin_key,
            Method::GET,
            &format!("/api/v1/alerts?status={status}&source=alertmanager"),
        );
        async move { send(req).await.1["items"].as_array().cloned().unwrap_or_default() }
    };
    let mut firing = Vec::new();
    for _ in 0..150 {
        firing = list("firing").await;
        if firing.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(firing.len(), 2, "both alerts arrived");

    // NightOwl stores exactly the fingerprints Alertmanager computed.
    let am_alerts: Vec<Value> = reqwest::get(format!("{}/api/v2/alerts", am.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut theirs: Vec<&str> = am_alerts
        .iter()
        .map(|a| a["fingerprint"].as_str().unwrap())
        .collect();
    let mut ours: Vec<&str> = firing
        .iter()
        .map(|a| a["fingerprint"].as_str().unwrap())
        .collect();
    theirs.sort();
    ours.sort();
    assert_eq!(ours, theirs);
    for alert in &firing {
        assert_eq!(alert["severity"], "critical");
        assert_eq!(alert["service"], "payments-db");
        assert!(alert["title"].as_str().unwrap().starts_with("Disk full on db-"));
        assert_eq!(alert["links"][0], "http://prometheus.example/graph");
    }

    post_alerts(&am, Some(chrono::Utc::now() - chrono::Duration::seconds(1))).await;
    let mut resolved = Vec::new();
    for _ in 0..150 {
        resolved = list("resolved").await;
        if resolved.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        resolved.len(),
        2,
        "both alerts resolved by Alertmanager's notification"
    );
    assert!(resolved.iter().all(|a| a["resolved_by"] == "source:alertmanager"));
    assert_eq!(list("open").await.len(), 0);
    let (status, _) = send(app.request(Method::GET, "/healthz")).await;
    assert_eq!(status, StatusCode::OK);
}

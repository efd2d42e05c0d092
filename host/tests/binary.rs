//! Smoke test of the real `nightowl` binary: admin commands, `serve`, a request, graceful stop.

use std::process::{Command, Stdio};
use std::time::Duration;

fn database_url() -> String {
    std::env::var("NIGHTOWL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://nightowl:nightowl@127.0.0.1:5432/nightowl_test".to_owned())
}

fn nightowl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nightowl"))
        .args(args)
        .env("NIGHTOWL_DATABASE_URL", database_url())
        .env("NIGHTOWL_LOG", "warn")
        .output()
        .expect("run nightowl")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `nightowl serve` on `port`, logging to a pipe.
fn serve(port: u16) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_nightowl"))
        .arg("serve")
        .env("NIGHTOWL_DATABASE_URL", database_url())
        .env("NIGHTOWL_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "NIGHTOWL_PLUGIN_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/dist"),
        )
        .env("NIGHTOWL_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (up to 10 s) for `/readyz` to answer 2xx.
async fn ready(http: &reqwest::Client, base: &str) -> bool {
    for _ in 0..100 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test]
async fn binary_creates_a_tenant_and_key_then_serves_and_stops_cleanly() {
    let slug = format!("bin_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    // The test database exists once the integration tests or this test created it.
    let admin_url = database_url()
        .rsplit_once('/')
        .map(|(s, _)| format!("{s}/postgres"))
        .unwrap();
    let name = database_url().rsplit_once('/').unwrap().1.to_owned();
    let _ = Command::new("psql")
        .args([&admin_url, "-qc", &format!("create database {name}")])
        .stderr(Stdio::null())
        .status();

    ok(&nightowl(&["migrate"]));
    ok(&nightowl(&["migrate"])); // idempotent
    ok(&nightowl(&["tenant", "create", &slug, "--name", "Binary test"]));
    let refused = nightowl(&["tenant", "create", &slug]);
    assert!(!refused.status.success(), "creating a tenant twice must fail");
    assert!(!nightowl(&["tenant", "create", "Bad-Slug"]).status.success());
    // Seeding: idempotent `seed`, destructive `seed-demo` with a key and demo knowledge.
    let first = ok(&nightowl(&["seed"]));
    let second = ok(&nightowl(&["seed"]));
    assert!(
        second.contains("tenant acme ready") && !second.contains("generated"),
        "{first}\n{second}"
    );
    let demo = ok(&nightowl(&["seed-demo"]));
    assert!(demo.contains("admin API key (shown once): nwl_"), "{demo}");
    let key = ok(&nightowl(&[
        "apikey", "create", "--tenant", &slug, "--role", "manager",
    ]))
    .trim()
    .to_owned();
    assert!(key.starts_with("nwl_"), "{key}");

    let port = free_port();
    let mut server = serve(port);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    assert!(ready(&http, &base).await, "server became ready");
    // A request with a key, answered with JSON.
    let call = |req: reqwest::RequestBuilder, key: &str| {
        let req = req.header("x-api-key", key);
        async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let me = call(http.get(format!("{base}/api/v1/ping")), &key).await;
    assert_eq!(me["tenant"], slug.as_str());
    assert_eq!(me["role"], "manager");

    // The README's first alert, with the demo key: the demo knowledge base knows this failure.
    let demo_key = demo
        .split_whitespace()
        .find(|w| w.starts_with("nwl_"))
        .unwrap()
        .to_owned();
    let readme_alert =
        serde_json::json!({"title": "Disk full on db-1", "severity": "critical", "labels": {"host": "db-1"}});
    let ingested = call(
        http.post(format!("{base}/api/v1/webhooks/generic"))
            .json(&readme_alert),
        &demo_key,
    )
    .await;
    let matched = ingested["alerts"][0]["matched_incident_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{ingested}"));
    let incident = call(http.get(format!("{base}/api/v1/incidents/{matched}")), &demo_key).await;
    assert_eq!(incident["title"], "Disk full on database host");
    let created = http
        .post(format!("{base}/api/v1/services"))
        .header("x-api-key", &key)
        .json(&serde_json::json!({ "name": "audited-before-shutdown" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    assert!(status.success(), "graceful stop on SIGTERM: {status}");
    let mut logs = String::new();
    std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut logs).unwrap();
    let first = logs.lines().next().unwrap_or_default();
    assert!(
        serde_json::from_str::<serde_json::Value>(first).is_ok(),
        "logs are JSON lines: {first}"
    );
    assert!(!logs.contains(&key), "the API key never appears in logs");
    // The audit entry of the last request was written before the process exited.
    let pool = sqlx::PgPool::connect(&database_url()).await.unwrap();
    let audited: i64 = sqlx::query_scalar(&format!(
        "select count(*) from tenant_{slug}.audit_log where action = 'create' and resource_type = 'services'"
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

/// `kill -9` in the middle of a burst of creates: every create that was answered 201 has its audit
/// row (entries are written before the answer, not buffered in memory).
#[tokio::test]
async fn after_kill_9_every_answered_mutation_has_its_audit_row() {
    let slug = format!("kill_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    ok(&nightowl(&["migrate"]));
    ok(&nightowl(&["tenant", "create", &slug]));
    let key = ok(&nightowl(&[
        "apikey", "create", "--tenant", &slug, "--role", "engineer",
    ]))
    .trim()
    .to_owned();
    let port = free_port();
    let mut server = serve(port);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    assert!(ready(&http, &base).await, "server became ready");

    let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..400 {
        let (http, base, key, answered) = (http.clone(), base.clone(), key.clone(), answered.clone());
        creates.spawn(async move {
            let sent = http
                .post(format!("{base}/api/v1/incidents"))
                .header("x-api-key", key)
                .json(&serde_json::json!({ "title": format!("burst {i}"), "severity": "info" }))
                .send()
                .await;
            if let Ok(response) = sent
                && response.status() == 201
                && let Ok(body) = response.json::<serde_json::Value>().await
            {
                answered
                    .lock()
                    .unwrap()
                    .push(body["id"].as_str().unwrap().to_owned());
            }
        });
    }
    // Kill once a good part of the burst has been answered, with the rest in flight.
    for _ in 0..200 {
        if answered.lock().unwrap().len() >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    while creates.join_next().await.is_some() {}
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() >= 100,
        "only {} answered before the kill",
        answered.len()
    );

    let pool = sqlx::PgPool::connect(&database_url()).await.unwrap();
    let audited: Vec<String> = sqlx::query_scalar(&format!(
        "select resource_id from tenant_{slug}.audit_log where action = 'create' and resource_type = 'incidents'"
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    let missing: Vec<_> = answered.iter().filter(|id| !audited.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered creates have no audit row: {missing:?}",
        missing.len(),
        answered.len()
    );
    println!(
        "{} creates answered 201 before kill -9, all audited",
        answered.len()
    );
}

#[test]
fn plugin_test_prints_what_ingest_would_store_or_the_plugins_error() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let plugin = root.join("plugins/dist/generic");
    assert!(
        plugin.join("plugin.wasm").exists(),
        "plugins are not built: run `bash scripts/build-plugins.sh`"
    );
    let dir = std::env::temp_dir().join(format!("nightowl-plugin-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        r#"{"title": "Disk full", "severity": "P1", "labels": {"host": "db-1"}}"#,
    )
    .unwrap();
    let out = nightowl(&["plugin", "test", plugin.to_str().unwrap(), good.to_str().unwrap()]);
    let printed: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let alert = &printed["alerts"][0];
    assert_eq!(
        (
            alert["title"].as_str(),
            alert["severity"].as_str(),
            alert["priority"].as_str()
        ),
        (Some("Disk full"), Some("critical"), Some("P1"))
    );
    assert_eq!(
        alert["fingerprint"].as_str().unwrap().len(),
        64,
        "derived fingerprint, as ingest stores it"
    );

    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"severity": "critical"}"#).unwrap();
    let out = nightowl(&["plugin", "test", plugin.to_str().unwrap(), bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        printed["error"].as_str().unwrap().starts_with("invalid payload"),
        "{printed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

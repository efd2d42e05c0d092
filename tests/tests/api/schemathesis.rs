//! The OpenAPI document matches the API: schemathesis (PyPI) generates requests from the document
//! served at `/api/docs/openapi.json`, sends them to a live server, and checks every answer against
//! it: no 5xx, every status documented, every body matching its schema. Bounded examples keep it to
//! a minute. `scripts/test.sh` installs schemathesis.

use nightowl_tests::TestApp;

/// How many examples schemathesis generates per operation.
const EXAMPLES: &str = "8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_answer_the_openapi_document_does_not_describe() {
    let app = TestApp::spawn_with_plugins(&["generic", "alertmanager", "keep"], |_| {}).await;
    let t = app.tenant().await;
    let spec = format!("{}/api/docs/openapi.json", app.base);
    let report = std::env::temp_dir().join(format!("nightowl-schemathesis-{}", uuid::Uuid::new_v4()));
    let output = tokio::process::Command::new("schemathesis")
        .args(["run", &spec, "--url", &app.base, "--header"])
        .arg(format!("X-API-Key: {}", t.admin_key))
        .args([
            "--max-examples",
            EXAMPLES,
            "--seed",
            "1",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--generation-allow-x00",
            "false",
            // Our key authenticates every request: generated credentials (a random session cookie
            // comes first in the credential order) would make every answer a 401.
            "--generation-with-security-parameters",
            "false",
            // One worker: with two, Hypothesis describes lambdas by parsing source with `ast` from two
            // threads at once, which CPython 3.11 can fail with "AST constructor recursion depth
            // mismatch": a crash of the tool, reported as an error of whatever operation it hit.
            "--workers",
            "1",
            // Revoking the key that authenticates the run would turn the rest into 401s.
            "--exclude-operation-id",
            "revoke_api_key",
            // The live event stream never ends.
            "--exclude-operation-id",
            "alert_events",
            "--report-dir",
        ])
        .arg(&report)
        // schemathesis keeps a cache in its working directory: not the repository's.
        .current_dir(std::env::temp_dir())
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("schemathesis must be installed (scripts/test.sh installs it with pip)");
    let _ = std::fs::remove_dir_all(&report);
    let text = String::from_utf8_lossy(&output.stdout);
    // The summary, for the CI log.
    let lines: Vec<&str> = text.lines().collect();
    println!("{}", lines[lines.len().saturating_sub(25)..].join("\n"));
    assert!(
        output.status.success(),
        "schemathesis found answers the document does not describe:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

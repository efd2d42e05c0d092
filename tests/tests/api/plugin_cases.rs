//! Every plugin's data cases (`plugins/<id>/tests/cases/<name>/{request.json,expected.json}`) through the
//! compiled component and the host runtime, as `nightowl plugin test <plugin> --cases <dir>` runs them.
//! `cargo test` in `plugins/` runs the same cases natively; this proves the built `.wasm` answers alike.

use std::path::{Path, PathBuf};

use nightowl::plugins::Manifest;
use nightowl::plugins::tester::run_cases;
use nightowl_tests::workspace_root;

/// Plugin folders as `scripts/build-plugins.sh` lays them out: a `plugin.toml` in
/// `plugins/integrations/<id>/` (built into `dist/<id>`) or `plugins/testing/<id>/` (into `dist-test/<id>`).
fn plugin_dirs(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut found = Vec::new();
    for (folder, dist) in [("integrations", "dist"), ("testing", "dist-test")] {
        for entry in std::fs::read_dir(root.join(folder))
            .unwrap()
            .filter_map(Result::ok)
        {
            let dir = entry.path();
            let Ok(text) = std::fs::read_to_string(dir.join("plugin.toml")) else {
                continue;
            };
            let manifest = Manifest::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            found.push((dir, root.join(dist).join(&manifest.id)));
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn every_plugins_cases_pass_through_the_compiled_component() {
    let root = workspace_root().join("plugins");
    let mut ran = Vec::new();
    let mut failures = Vec::new();
    for (source, built) in plugin_dirs(&root) {
        let cases = source.join("tests").join("cases");
        if !cases.is_dir() {
            continue;
        }
        assert!(
            built.join("plugin.wasm").exists(),
            "{} is not built: run `bash scripts/build-plugins.sh` first",
            built.display()
        );
        for outcome in run_cases(&built, &cases).await.unwrap() {
            let name = format!(
                "{}/{}",
                source.file_name().unwrap().to_string_lossy(),
                outcome.name
            );
            if let Some(why) = outcome.failure {
                failures.push(format!("{name}: {why}"));
            }
            ran.push(name);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for plugin in ["alertmanager", "keep", "generic"] {
        assert!(
            ran.iter().any(|c| c.starts_with(&format!("{plugin}/"))),
            "no cases of {plugin} ran: {ran:?}"
        );
    }
}

#[tokio::test]
async fn a_case_the_plugin_answers_differently_fails_and_says_why() {
    let built = workspace_root().join("plugins/dist/generic");
    assert!(
        built.join("plugin.wasm").exists(),
        "plugins are not built: run `bash scripts/build-plugins.sh` first"
    );
    let cases = std::env::temp_dir().join(format!("nightowl-cases-{}", uuid::Uuid::new_v4().simple()));
    let write = |case: &str, request: &str, expected: &str| {
        std::fs::create_dir_all(cases.join(case)).unwrap();
        std::fs::write(cases.join(case).join("request.json"), request).unwrap();
        std::fs::write(cases.join(case).join("expected.json"), expected).unwrap();
    };
    write(
        "right",
        r#"{"body": {"title": "Disk full"}}"#,
        r#"{"alerts": [{"status": "firing", "title": "Disk full"}]}"#,
    );
    write(
        "wrong-title",
        r#"{"body": {"title": "Disk full"}}"#,
        r#"{"alerts": [{"status": "firing", "title": "Disk empty"}]}"#,
    );
    write(
        "wrong-error-kind",
        r#"{"body": {"severity": "critical"}}"#,
        r#"{"error": "upstream"}"#,
    );
    write(
        "error-message",
        r#"{"body": {"title": "x", "status": "meh"}}"#,
        r#"{"error": "invalid_payload", "message_contains": "unknown status \"meh\""}"#,
    );
    let outcomes = run_cases(&built, &cases).await.unwrap();
    let _ = std::fs::remove_dir_all(&cases);
    let by_name = |name: &str| {
        outcomes
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no outcome for {name}: {outcomes:?}"))
            .failure
            .clone()
    };
    assert_eq!(by_name("right"), None);
    assert_eq!(by_name("error-message"), None);
    let why = by_name("wrong-title").expect("a different title fails");
    assert!(why.contains("Disk empty") && why.contains("Disk full"), "{why}");
    let why = by_name("wrong-error-kind").expect("a different error kind fails");
    assert!(why.contains("expected the error kind \"upstream\""), "{why}");
}

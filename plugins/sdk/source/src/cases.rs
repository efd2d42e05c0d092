//! Data-driven test cases for source plugins, run natively. The case format (a directory
//! `tests/cases/<name>/` with `request.json` and `expected.json`) is documented, read and judged by
//! the `nightowl-plugin-cases` crate, which the host's `nightowl plugin test --cases` uses too, so the
//! native logic and the built `.wasm` answer the same cases by the same rules.
//!
//! [`check`] runs every case of a plugin; a plugin's `tests/cases.rs` calls it in one line. An alert
//! is compared as [`Alert`] serialises it.
//!
//! To write a new case's `expected.json`, run the tests with `NIGHTOWL_BLESS_CASES=1`: cases without
//! an `expected.json` get one written from what the plugin answered. Read it before committing it.

use std::path::Path;

use nightowl_plugin_cases::{self as cases, Answer};

use crate::{Alert, Error, Request, Source};

/// Runs every case under `<plugin_dir>/tests/cases` through `T::parse` and panics listing each case
/// that failed. Pass `env!("CARGO_MANIFEST_DIR")`.
pub fn check<T: Source>(plugin_dir: &str) {
    let dir = Path::new(plugin_dir).join("tests").join("cases");
    let dirs = cases::case_dirs(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(!dirs.is_empty(), "no cases in {}", dir.display());
    let bless = std::env::var_os("NIGHTOWL_BLESS_CASES").is_some();
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|case| run_case::<T>(case, bless).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

fn run_case<T: Source>(case: &Path, bless: bool) -> Result<(), String> {
    let name = cases::case_name(case);
    let fail = |why: String| format!("case {name}: {why}");
    let r = cases::read_request(case).map_err(fail)?;
    let req = Request {
        method: r.method,
        path: r.path,
        query: r.query,
        headers: r.headers,
        body: r.body,
        public_url: r.public_url,
    };
    let answer = answer(&T::parse(&req));
    let expected_path = case.join("expected.json");
    if bless && !expected_path.exists() {
        let text = serde_json::to_string_pretty(&cases::answer_json(&answer)).expect("answers serialise");
        std::fs::write(&expected_path, text + "\n").map_err(|e| fail(e.to_string()))?;
    }
    let expected = cases::read_expected(case).map_err(fail)?;
    cases::compare(&expected, &answer).map_err(fail)
}

/// What the plugin answered, in the terms cases speak.
fn answer(parsed: &Result<Vec<Alert>, Error>) -> Answer {
    match parsed {
        Ok(alerts) => Answer::Alerts(
            alerts
                .iter()
                .map(|a| serde_json::to_value(a).expect("alerts serialise"))
                .collect(),
        ),
        Err(e) => Answer::Error {
            kind: e.kind().to_owned(),
            message: e.message().to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn alerts_are_compared_as_they_serialise() {
        let alert = Alert {
            title: "t".into(),
            labels: vec![("a".into(), "b".into())],
            ..Alert::default()
        };
        let Answer::Alerts(json) = answer(&Ok(vec![alert.clone()])) else {
            panic!("alerts answer");
        };
        assert_eq!(
            cases::canonical(json[0].clone()),
            serde_json::json!({"status": "firing", "title": "t", "labels": [["a", "b"]]})
        );
        let resolved = Alert {
            status: Status::Resolved,
            ..alert
        };
        let expected = cases::Expected {
            alerts: Some(json),
            error: None,
            message_contains: None,
        };
        assert!(cases::compare(&expected, &answer(&Ok(vec![resolved]))).is_err());
    }

    #[test]
    fn errors_carry_their_kind_and_message() {
        let err = answer(&Err(Error::InvalidPayload("no title".into())));
        assert_eq!(
            err,
            Answer::Error {
                kind: "invalid_payload".into(),
                message: "no title".into()
            }
        );
    }
}

//! The web UI: the files `scripts/build-ui.sh` writes to `ui/dist` (an `index.html`, and content-hashed
//! assets under `assets/`), served at `/` by the router's fallback.
//!
//! - `/api/...` and `/api` never reach the UI: an unknown API path is the JSON 404 every other API
//!   error is.
//! - A path naming a file serves it; hashed assets are cacheable for a year (`immutable`), anything
//!   else must be revalidated.
//! - Any other `GET` is a route of the single-page app: `index.html`, never cached, so a deep link
//!   (`/alerts/1234`) opens the app there.
//!
//! Where the files come from: `NIGHTOWL_UI_DIR` when set; else `ui/dist`, embedded at compile time in
//! release builds and read from the source tree by debug builds.
//! Without a bundle, `/` says how to build one.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::state::AppState;

/// `ui/dist`, built into release binaries.
#[derive(rust_embed::Embed)]
#[folder = "../ui/dist"]
#[allow_missing = true]
struct Bundle;

/// What a browser may run and load on a UI page: its own scripts and the WebAssembly module, its own
/// styles, the API; no frames, no other origins.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                   img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   frame-ancestors 'none'; form-action 'self'";

/// The router's fallback: the UI for `GET`/`HEAD` outside `/api`, the JSON 404 otherwise.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api || !(req.method() == Method::GET || req.method() == Method::HEAD) {
        return ApiError::not_found(&format!("route {} {}", req.method(), path)).into_response();
    }
    let files = Files::of(&state);
    let wanted = path.trim_start_matches('/');
    if !wanted.is_empty()
        && let Some(file) = files.get(wanted)
    {
        return serve(wanted, file);
    }
    // A route of the app (or `/`): the page that starts it.
    match files.get("index.html") {
        Some(index) => serve("index.html", index),
        None => not_built(),
    }
}

/// Where the UI's files are read from.
enum Files {
    Dir(PathBuf),
    Embedded,
}

impl Files {
    fn of(state: &AppState) -> Files {
        match &state.config.ui_dir {
            Some(dir) => Files::Dir(dir.clone()),
            // A debug build reads the source tree's bundle as it is now (rebuilt by build-ui.sh
            // while the server runs).
            None if cfg!(debug_assertions) => {
                Files::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist"))
            }
            None => Files::Embedded,
        }
    }

    /// A file by its path relative to the bundle; nothing outside it (no `..`, no absolute paths).
    fn get(&self, relative: &str) -> Option<Cow<'static, [u8]>> {
        let clean = Path::new(relative);
        if !clean.components().all(|c| matches!(c, Component::Normal(_))) {
            return None;
        }
        match self {
            Files::Dir(dir) => {
                let full = dir.join(clean);
                if !full.is_file() {
                    return None;
                }
                std::fs::read(full).ok().map(Cow::Owned)
            }
            Files::Embedded => Bundle::get(relative).map(|f| f.data),
        }
    }
}

/// Whether a file carries its content's hash, in its name (`assets/style-3f2a9c1d0b7e6a54.css`) or in
/// its directory's (`assets/3f2a9c1d0b7e6a54/chunk_7.wasm`, a build's modules): such a file never
/// changes under its name.
fn is_hashed(path: &str) -> bool {
    let hex = |s: &str| s.len() >= 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let Some(rest) = path.strip_prefix("assets/") else {
        return false;
    };
    match rest.split_once('/') {
        Some((dir, file)) => hex(dir) && !file.is_empty(),
        None => rest
            .rsplit_once('-')
            .and_then(|(_, tail)| tail.split('.').next())
            .is_some_and(hex),
    }
}

fn serve(path: &str, body: Cow<'static, [u8]>) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let cache = if is_hashed(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(Body::from(body.into_owned()));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if path.ends_with(".html") {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// `/` of a binary built without the UI.
fn not_built() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        "The NightOwl web UI is not built into this binary. Build it with `bash scripts/build-ui.sh` \
         (or point NIGHTOWL_UI_DIR at a built bundle); the API is at /api/v1 and documented at /api/docs.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_assets_are_immutable() {
        assert!(is_hashed("assets/nightowl_ui-3f2a9c1d0b7e6a54.js"));
        assert!(is_hashed("assets/nightowl_ui_bg-3f2a9c1d0b7e6a54.wasm"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("assets/logo.svg"));
        assert!(!is_hashed("favicon-3f2a9c1d0b7e6a54.ico"));
        assert!(is_hashed("assets/3f2a9c1d0b7e6a54/chunk_7.wasm"));
        assert!(is_hashed("assets/3f2a9c1d0b7e6a54/nightowl_ui.js"));
        assert!(!is_hashed("assets/images/chunk_7.wasm"));
        assert!(!is_hashed("assets/3f2a9c1d0b7e6a54/"));
    }

    #[test]
    fn paths_outside_the_bundle_are_not_files() {
        let files = Files::Dir(std::env::temp_dir());
        assert!(files.get("../etc/passwd").is_none());
        assert!(files.get("/etc/passwd").is_none());
        assert!(files.get("assets/../../x").is_none());
    }
}

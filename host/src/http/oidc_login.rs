//! Single sign-on in the browser (`auth::oidc::login`): `/auth/oidc/login` sends the browser to the
//! issuer, `/auth/oidc/callback` brings it back signed in. Both answer redirects only: to the issuer,
//! to the page the person came from, or to `/login?error=<code>` (never with a secret or token).
//!
//! The state also travels in a short-lived cookie (SameSite=Lax, so it comes along on the issuer's
//! redirect back; Path=/auth/oidc), so a callback completes only in the browser that started it: a
//! link to someone else's callback cannot sign a victim in to the attacker's account.

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::client::ClientAddr;
use super::routes::Route;
use crate::auth;
use crate::auth::oidc::login::{Callback, LoginError, PENDING_TTL, same_origin_path};
use crate::state::AppState;

/// The cookie holding the state of this browser's sign-in in progress.
const STATE_COOKIE: &str = "nightowl_oidc_state";

/// The routes of the browser sign-in, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::public(routes!(start_oidc_login)),
        Route::public(routes!(finish_oidc_login)),
    ]
}

/// Where to come back to.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// The path to go to once signed in: a path on this site (`/alerts/42`); anything else means `/`.
    pub next: Option<String>,
}

/// Starts single sign-on: redirects to the issuer's authorization endpoint (code flow, PKCE S256,
/// scope `openid email profile`) and sets the state cookie.
#[utoipa::path(get, path = "/auth/oidc/login", tag = "identity", security(()), params(LoginQuery),
    responses((status = 303, description = "To the issuer's sign-in page; when single sign-on is not \
        configured or the issuer or Redis cannot be reached, to `/login?error=<code>`")))]
pub async fn start_oidc_login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Query(query): Query<LoginQuery>,
) -> Response {
    let pending = &state.logins.pending_sso;
    let address = client.map(|ip| ip.to_string());
    let started = match &state.oidc_login {
        // Each start holds a state in Redis until it is finished or expires: unfinished starts are
        // counted per address, and a finished one is given back.
        Some(_)
            if address
                .as_ref()
                .is_some_and(|a| pending.attempt(a, state.clock.now()).is_err()) =>
        {
            Err(LoginError::TooMany)
        }
        Some(login) => login.start(&state.redis, query.next.as_deref()).await,
        None => Err(LoginError::NotConfigured),
    };
    match started {
        Ok(started) => {
            let mut response = redirect(started.authorize_url.as_str());
            let cookie = state_cookie(&state, &started.state, PENDING_TTL.as_secs());
            response.headers_mut().insert(SET_COOKIE, cookie);
            response
        }
        Err(err) => failed(&err),
    }
}

/// Where the issuer sends the browser back: checks the state against this browser's cookie, exchanges
/// the code, verifies the ID token, signs the person in (session cookie, as the password sign-in) and
/// redirects to the path the sign-in started from. Any failure redirects to `/login?error=<code>`:
/// `oidc_state_mismatch`, `oidc_denied`, `oidc_token_rejected`, `oidc_unknown_tenant`,
/// `oidc_user_deactivated`, `oidc_account_conflict`, `oidc_unavailable` or `oidc_not_configured`.
/// (The start answers `oidc_too_many` when one address has 30 sign-ins unfinished in 15 minutes.)
#[utoipa::path(get, path = "/auth/oidc/callback", tag = "identity", security(()), params(Callback),
    responses((status = 303, description = "Signed in: to the path the sign-in started from, with the \
        session cookie; otherwise to `/login?error=<code>`")))]
pub async fn finish_oidc_login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let cookie_state = auth::session::cookie(&headers, STATE_COOKIE);
    let finished = match &state.oidc_login {
        Some(login) => login.finish(&state, callback, cookie_state.as_deref()).await,
        None => Err(LoginError::NotConfigured),
    };
    let mut response = match finished {
        Ok(signed_in) => {
            if let Some(ip) = client {
                state.logins.pending_sso.succeeded(&ip.to_string());
            }
            let who = &signed_in.principal;
            tracing::info!(tenant = %who.tenant.slug, user = %who.label(), "signed in through the OIDC issuer");
            let mut response = redirect(same_origin_path(Some(&signed_in.next)));
            response
                .headers_mut()
                .insert(SET_COOKIE, signed_in.session_cookie);
            response
        }
        Err(err) => failed(&err),
    };
    // The state is used up either way.
    response
        .headers_mut()
        .append(SET_COOKIE, state_cookie(&state, "", 0));
    response
}

/// Back to the sign-in page with the failure's code, logged without secrets.
fn failed(err: &LoginError) -> Response {
    tracing::warn!(code = err.code(), error = %err, "OIDC sign-in failed");
    redirect(&format!("/login?error={}", err.code()))
}

/// A 303 to `location`; characters a header cannot hold (a `next` path with non-ASCII letters) are
/// percent-encoded.
fn redirect(location: &str) -> Response {
    let mut encoded = String::with_capacity(location.len());
    for c in location.chars() {
        if c.is_ascii_graphic() {
            encoded.push(c);
        } else {
            for byte in c.to_string().bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let location = HeaderValue::from_str(&encoded).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// The state cookie: `value` for `max_age` seconds (0 clears it).
fn state_cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{STATE_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    // The state is URL-safe base64, so the cookie is always a valid header.
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_percent_encode_what_a_header_cannot_hold() {
        let response = redirect("/incidents?q=über alles");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[LOCATION], "/incidents?q=%C3%BCber%20alles");
    }
}

//! Callbacks from channels: `POST /api/v1/channels/{plugin}/{path}?tenant=<slug>` hands the request
//! to that channel plugin's `handle-inbound`, and the seed's Slack and Twilio paths are aliases of it
//! (`/api/v1/slack/{events,interactions,commands}`, `/api/v1/twilio/{acknowledge,escalate,sms,status}`).
//!
//! These requests carry no NightOwl credentials. The tenant is named in the URL (a self-hosted tenant
//! has its own Slack app and signing secret, and Slack's `url_verification` names no team), the host
//! resolves it, and **the plugin verifies the signature with that tenant's secret before doing
//! anything** (`crypto.verify-hmac`). A request it refuses is answered 401 and changes nothing. What
//! the plugin then does, it does as the person it maps through `incidents`, which writes the audit
//! rows; the route itself is not audited.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nightowl_api::ErrorBody;
use utoipa_axum::routes;

use super::error::ApiError;
use super::routes::{BoxFuture, Route, SignedCallback};
use crate::auth::{self, AuthError, Principal};
use crate::plugins::{CallError, FaultKind, InboundRequest, Kind, PluginError};
use crate::state::AppState;

/// The routes of channel callbacks.
pub fn routes() -> Vec<Route> {
    const WHY: &str = "the plugin's actions are audited by the incident operations, as the person it maps";
    vec![
        Route::signed(routes!(channel_callback), &TenantInUrl).unaudited(WHY),
        Route::signed(routes!(slack_callback), &TenantInUrl).unaudited(WHY),
        Route::signed(routes!(twilio_callback), &TenantInUrl).unaudited(WHY),
    ]
}

/// Content types a plugin's answer may have (JSON for Slack, XML for Twilio's TwiML, text); any
/// other is answered as `text/plain`, so an unauthenticated callback never serves a page.
const ANSWER_TYPES: [&str; 4] = ["application/json", "application/xml", "text/xml", "text/plain"];

/// Resolves the tenant named by `?tenant=`. The signature is the plugin's to check, with that
/// tenant's secret (`crypto.verify-hmac`); the host lets the call change nothing until it has (see
/// `channels::ops`), and answers 401 when the plugin refuses the request.
struct TenantInUrl;

impl SignedCallback for TenantInUrl {
    fn verify<'a>(
        &'a self,
        state: &'a AppState,
        parts: &'a Parts,
        _body: &'a Bytes,
    ) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move {
            let slug = parts
                .uri
                .query()
                .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "tenant"))
                .map(|(_, v)| v.into_owned())
                .ok_or(AuthError::Missing)?;
            let tenant = crate::tenancy::find_tenant(&state.db, &slug)
                .await?
                .ok_or(AuthError::UnknownTenant(slug))?;
            let plugin = plugin_of(parts.uri.path());
            Ok(Principal {
                tenant,
                role: nightowl_api::Role::Readonly,
                actor: auth::Actor::Channel { plugin },
                scopes: Vec::new(),
            })
        })
    }
}

/// The plugin id of a callback path.
fn plugin_of(path: &str) -> String {
    let rest = path
        .strip_prefix("/api/v1/channels/")
        .or_else(|| path.strip_prefix("/api/v1/"))
        .unwrap_or_default();
    rest.split('/').next().unwrap_or_default().to_owned()
}

/// A channel's callback (Slack interactions, slash commands, events; Twilio webhooks).
#[utoipa::path(post, path = "/api/v1/channels/{plugin}/{path}", tag = "channels",
    params(("plugin" = String, Path, description = "Channel plugin id"),
           ("path" = String, Path, description = "Path below the plugin's mount point"),
           ("tenant" = String, Query, description = "Tenant slug")),
    request_body(content = String, description = "The channel's payload, signed by it", content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The plugin's answer"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn channel_callback(
    State(state): State<AppState>,
    principal: Principal,
    Path((plugin, path)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    inbound(
        &state,
        &principal,
        &plugin,
        &format!("/{path}"),
        &uri,
        &headers,
        body,
    )
    .await
}

/// Slack's request URLs as the seed named them: `events` (Events API), `interactions` (buttons,
/// modals) and `commands` (slash commands); aliases of `/api/v1/channels/slack/{kind}`.
#[utoipa::path(post, path = "/api/v1/slack/{kind}", tag = "channels",
    params(("kind" = String, Path, description = "events, interactions or commands"),
           ("tenant" = String, Query, description = "Tenant slug")),
    request_body(content = String, description = "Slack's payload, signed by Slack", content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The plugin's answer"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn slack_callback(
    State(state): State<AppState>,
    principal: Principal,
    Path(kind): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = (&uri, &headers, body);
    alias(&state, &principal, "slack", &SLACK_PATHS, &kind, req).await
}

/// The Slack request URLs that are aliases.
const SLACK_PATHS: [&str; 3] = ["events", "interactions", "commands"];

/// Twilio's webhook URLs as the seed named them: `acknowledge` and `escalate` (the digits pressed in
/// a call), `sms` (a text message reply) and `status` (how a call ended); aliases of
/// `/api/v1/channels/twilio/{kind}`.
#[utoipa::path(post, path = "/api/v1/twilio/{kind}", tag = "channels",
    params(("kind" = String, Path, description = "acknowledge, escalate, sms or status"),
           ("tenant" = String, Query, description = "Tenant slug")),
    request_body(content = String, description = "Twilio's webhook, signed by Twilio", content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The plugin's TwiML"), (status = 401, body = ErrorBody), (status = 403, description = "The plugin refused the signature"),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody),
              (status = 504, body = ErrorBody)))]
pub async fn twilio_callback(
    State(state): State<AppState>,
    principal: Principal,
    Path(kind): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = (&uri, &headers, body);
    alias(&state, &principal, "twilio", &TWILIO_PATHS, &kind, req).await
}

/// The Twilio webhook URLs that are aliases.
const TWILIO_PATHS: [&str; 4] = ["acknowledge", "escalate", "sms", "status"];

/// A seed-named callback URL of `plugin`: one of `kinds`, else 404.
async fn alias(
    state: &AppState,
    principal: &Principal,
    plugin: &str,
    kinds: &[&str],
    kind: &str,
    (uri, headers, body): (&axum::http::Uri, &HeaderMap, Bytes),
) -> Result<Response, ApiError> {
    if !kinds.contains(&kind) {
        return Err(ApiError::not_found("callback URL"));
    }
    inbound(state, principal, plugin, &format!("/{kind}"), uri, headers, body).await
}

async fn inbound(
    state: &AppState,
    principal: &Principal,
    plugin_id: &str,
    path: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let plugin = state
        .plugins
        .get(plugin_id)
        .filter(|p| p.manifest.kind == Kind::Channel)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_channel",
                format!("no channel plugin {plugin_id:?} is installed"),
            )
        })?;
    let pre = plugin
        .channel()
        .ok_or_else(|| ApiError::not_found("channel plugin"))?;
    let tenant = &principal.tenant.slug;
    let call = crate::channels::prepare(state, tenant, &plugin.manifest, true).await?;
    if !call.settings.missing.is_empty() {
        // A tenant that has not set the plugin up has no such channel.
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_channel",
            format!("channel {plugin_id:?} is not configured for this tenant"),
        ));
    }
    let mut config = call.settings.values.clone();
    config.insert("nightowl.tenant".to_owned(), tenant.to_string());
    config.insert(
        "nightowl.public_url".to_owned(),
        state.config.public_url.trim_end_matches('/').to_owned(),
    );
    let req = InboundRequest {
        method: "POST".into(),
        path: path.to_owned(),
        query: uri.query().map(str::to_owned),
        headers: InboundRequest::headers_from(headers),
        body: body.to_vec(),
        // What the sender signed over (Twilio signs the full URL it called).
        public_url: format!(
            "{}{}",
            state.config.public_url.trim_end_matches('/'),
            uri.path_and_query().map_or(uri.path(), |pq| pq.as_str())
        ),
    };
    let answer = state
        .plugins
        .runtime()
        .handle_inbound(&plugin.manifest, pre, tenant.as_str(), config, Some(call), &req)
        .await
        .map_err(|e| call_error(plugin_id, e))?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let header = |name: &str| {
        answer
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let content_type = header("content-type")
        .filter(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            ANSWER_TYPES.contains(&essence.as_str())
        })
        .unwrap_or("text/plain; charset=utf-8");
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = header("retry-after").and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::RETRY_AFTER, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

fn call_error(plugin: &str, e: CallError) -> ApiError {
    match e {
        CallError::Plugin(PluginError::Unauthorized(m)) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            format!("{plugin} refused the request: {m}"),
        ),
        CallError::Plugin(PluginError::InvalidPayload(m)) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload", m)
        }
        CallError::Plugin(other) => ApiError::new(StatusCode::BAD_GATEWAY, "plugin_error", other.to_string()),
        CallError::Busy => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "plugins_busy",
            "every plugin slot is busy and the queue is full; retry shortly",
        )
        .retry_after(1),
        CallError::Fault {
            plugin,
            kind,
            message,
        } => ApiError::new(
            if kind == FaultKind::Timeout {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            },
            "plugin_fault",
            format!("plugin {plugin} failed: {message}"),
        )
        .with_details(serde_json::json!({ "plugin": plugin, "kind": kind.as_str() })),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn callback_paths_name_their_plugin() {
        assert_eq!(super::plugin_of("/api/v1/channels/twilio/sms"), "twilio");
        assert_eq!(super::plugin_of("/api/v1/slack/commands"), "slack");
        assert_eq!(super::plugin_of("/api/v1/twilio/sms"), "twilio");
    }
}

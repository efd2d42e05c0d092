//! How the fake reads a Web API request, as Slack does: arguments from the query string and from a
//! JSON or form body, the token from `Authorization: Bearer` (or a form's `token` field: Slack never
//! reads one from a JSON body), and the warnings Slack adds about the charset of the content type.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Map, Value};

use super::SlackError;

/// Arguments that Slack takes as JSON-encoded strings in a form (and also accepts so in JSON bodies).
const JSON_ARGS: [&str; 4] = ["blocks", "attachments", "view", "metadata"];

/// A Web API request as the fake understood it.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    /// Every argument, JSON-encoded strings among [`JSON_ARGS`] decoded.
    pub args: Map<String, Value>,
    /// The token presented, if any.
    pub token: Option<String>,
    /// Slack's warnings (`missing_charset`, `superfluous_charset`), answered with the result.
    pub warnings: Vec<&'static str>,
}

/// Reads the arguments and the token, or the error Slack answers a body it cannot read with.
pub(crate) fn read(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<ApiRequest, SlackError> {
    let mut args: Map<String, Value> = query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect()
        })
        .unwrap_or_default();
    let mut warnings = Vec::new();
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(MediaType::parse);
    let is_json = media.as_ref().is_some_and(|m| m.essence == "application/json");
    match (media, body.is_empty()) {
        (None, true) => {}
        (None, false) => return Err(SlackError::new("missing_post_type")),
        (Some(media), _) if media.essence == "application/json" => {
            match media.charset.as_deref() {
                None => warnings.push("missing_charset"),
                Some("utf-8" | "utf8") => {}
                Some(_) => return Err(SlackError::new("invalid_charset")),
            }
            if !body.is_empty() {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(fields)) => args.extend(fields),
                    Ok(_) => return Err(SlackError::new("json_not_object")),
                    Err(_) => return Err(SlackError::new("invalid_json")),
                }
            }
        }
        (Some(media), _) if media.essence == "application/x-www-form-urlencoded" => {
            if media.charset.is_some() {
                warnings.push("superfluous_charset");
            }
            args.extend(
                form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))),
            );
        }
        // multipart/form-data and text/plain, which Slack also takes, are not needed by NightOwl.
        (Some(_), _) => return Err(SlackError::new("invalid_post_type")),
    }
    for name in JSON_ARGS {
        if let Some(Value::String(encoded)) = args.get(name)
            && let Ok(decoded) = serde_json::from_str::<Value>(encoded)
            && (decoded.is_array() || decoded.is_object())
        {
            args.insert(name.to_owned(), decoded);
        }
    }
    let body_token = if is_json {
        None
    } else {
        args.get("token").and_then(Value::as_str).map(str::to_owned)
    };
    let token = bearer_token(headers).or(body_token);
    Ok(ApiRequest {
        args,
        token,
        warnings,
    })
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// A `Content-Type` value: its media type and charset, lowercased.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MediaType {
    pub essence: String,
    pub charset: Option<String>,
}

impl MediaType {
    pub(crate) fn parse(value: &str) -> MediaType {
        let mut parts = value.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let charset = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase());
        MediaType { essence, charset }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn json_without_charset_is_read_with_a_warning() {
        let h = headers(&[
            ("content-type", "application/json"),
            ("authorization", "Bearer xoxb-1"),
        ]);
        let r = read(&h, None, br#"{"channel":"C1","text":"hi"}"#).unwrap();
        assert_eq!(r.args["channel"], "C1");
        assert_eq!(r.token.as_deref(), Some("xoxb-1"));
        assert_eq!(r.warnings, ["missing_charset"]);
    }

    #[test]
    fn a_token_in_a_json_body_is_not_a_token() {
        let h = headers(&[("content-type", "application/json; charset=utf-8")]);
        let r = read(&h, None, br#"{"token":"xoxb-1","channel":"C1"}"#).unwrap();
        assert_eq!(r.token, None);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn form_fields_are_arguments_and_encoded_blocks_are_decoded() {
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", "xoxb-2")
            .append_pair("channel", "C1")
            .append_pair("blocks", r#"[{"type":"divider"}]"#)
            .finish();
        let r = read(&h, None, body.as_bytes()).unwrap();
        assert_eq!(r.token.as_deref(), Some("xoxb-2"));
        assert_eq!(r.args["blocks"], json!([{"type": "divider"}]));
    }

    #[test]
    fn unreadable_bodies_get_slacks_errors() {
        let json = headers(&[("content-type", "application/json; charset=utf-8")]);
        assert_eq!(read(&json, None, b"{").unwrap_err().error, "invalid_json");
        assert_eq!(read(&json, None, b"[1]").unwrap_err().error, "json_not_object");
        let latin = headers(&[("content-type", "application/json; charset=iso-8859-2")]);
        assert_eq!(read(&latin, None, b"{}").unwrap_err().error, "invalid_charset");
        assert_eq!(
            read(&HeaderMap::new(), None, b"a=b").unwrap_err().error,
            "missing_post_type"
        );
        let xml = headers(&[("content-type", "application/xml")]);
        assert_eq!(read(&xml, None, b"<a/>").unwrap_err().error, "invalid_post_type");
    }
}

//! Pagination parameters: offsets for small, stable lists; opaque `(created_at, id)` cursors for
//! streams that grow while someone pages through them.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::ApiError;

/// Where a cursor page ends: the `(created_at, id)` of its last item.
pub type Position = (DateTime<Utc>, Uuid);

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// `?offset=&limit=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OffsetParams {
    /// Items to skip (default 0).
    pub offset: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

impl OffsetParams {
    /// `(limit, offset)` after defaults and bounds.
    pub fn resolve(&self) -> Result<(i64, i64), ApiError> {
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::bad_request(
                "invalid_pagination",
                "offset must not be negative",
            ));
        }
        Ok((limit(self.limit)?, offset))
    }
}

/// `?cursor=&limit=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

impl CursorParams {
    /// `(limit, position after which to continue)`.
    pub fn resolve(&self) -> Result<(i64, Option<Position>), ApiError> {
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok((limit(self.limit)?, after))
    }
}

fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    bounded_limit(raw, DEFAULT_LIMIT, MAX_LIMIT, "invalid_pagination")
}

/// A `?limit=` with its default and upper bound; out of `1..=max` it is a 400 with `code`.
pub fn bounded_limit(raw: Option<i64>, default: i64, max: i64, code: &'static str) -> Result<i64, ApiError> {
    let limit = raw.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::bad_request(
            code,
            format!("limit must be between 1 and {max}"),
        ));
    }
    Ok(limit)
}

/// Encodes the position of the last item of a page.
pub fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    let raw = format!(
        "{}|{id}",
        created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Result<Position, ApiError> {
    let invalid = || ApiError::bad_request("invalid_cursor", "cursor is not one this server issued");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| invalid())?.to_utc();
    let id = id.parse().map_err(|_| invalid())?;
    Ok((at, id))
}

/// The cursor of the next page: present only when the page came back full.
pub fn next_cursor<T>(items: &[T], limit: i64, position: impl Fn(&T) -> Position) -> Option<String> {
    if items.len() as i64 == limit {
        items.last().map(|last| {
            let (at, id) = position(last);
            encode_cursor(at, id)
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_with_microseconds() {
        let at = DateTime::parse_from_rfc3339("2026-11-28T08:00:00.123456Z")
            .unwrap()
            .to_utc();
        let id = Uuid::new_v4();
        assert_eq!(decode_cursor(&encode_cursor(at, id)).unwrap(), (at, id));
    }

    #[test]
    fn garbage_cursors_and_limits_are_client_errors() {
        for bad in ["", "!!!", "bm90IGEgY3Vyc29y", "MjAyNi0xMS0yOHxub3QtYS11dWlk"] {
            assert_eq!(decode_cursor(bad).unwrap_err().code, "invalid_cursor", "{bad}");
        }
        for bad in [0, -1, 201] {
            assert!(
                OffsetParams {
                    offset: None,
                    limit: Some(bad)
                }
                .resolve()
                .is_err()
            );
        }
        assert!(
            OffsetParams {
                offset: Some(-1),
                limit: None
            }
            .resolve()
            .is_err()
        );
        assert_eq!(OffsetParams::default().resolve().unwrap(), (50, 0));
    }

    #[test]
    fn next_cursor_only_for_full_pages() {
        let at = Utc::now();
        let items = vec![(at, Uuid::new_v4()), (at, Uuid::new_v4())];
        assert!(next_cursor(&items, 2, |i| *i).is_some());
        assert!(next_cursor(&items, 3, |i| *i).is_none());
    }
}

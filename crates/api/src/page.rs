//! Pagination envelopes: cursors for append-heavy streams (alerts, audit), offsets for small lists.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A page of a list that is walked with an opaque cursor (stable under concurrent inserts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CursorPage<T> {
    /// The items of this page, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of a list addressed by offset, with the total count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OffsetPage<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Number of items matching the filters, over all pages.
    pub total: i64,
    /// Offset of the first item of this page.
    pub offset: i64,
    /// Page size that was applied.
    pub limit: i64,
}

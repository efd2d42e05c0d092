//! Tenant slugs: the name a tenant is known by in URLs, sign-in and its database schema.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::text::{sqlx_text, string_schema};

/// A tenant slug that matched `^[a-z][a-z0-9_]{1,30}$`: 2 to 31 characters, a lowercase letter
/// first, then lowercase letters, digits and `_`. Chosen when the tenant is created and never
/// changed; the tenant's schema is `tenant_<slug>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a slug was refused: the text that does not match `^[a-z][a-z0-9_]{1,30}$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSlug(pub String);

impl fmt::Display for InvalidSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenant slug {:?} must match ^[a-z][a-z0-9_]{{1,30}}$", self.0)
    }
}

impl std::error::Error for InvalidSlug {}

impl Slug {
    /// Validates `raw`; nothing else can make a `Slug`.
    pub fn parse(raw: &str) -> Result<Slug, InvalidSlug> {
        let bytes = raw.as_bytes();
        let ok = (2..=31).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes[1..]
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        if ok {
            Ok(Slug(raw.to_owned()))
        } else {
            Err(InvalidSlug(raw.to_owned()))
        }
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's schema, `tenant_<slug>`. Safe to splice into SQL: the slug alphabet needs no quoting.
    pub fn schema(&self) -> String {
        format!("tenant_{}", self.0)
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Slug {
    type Err = InvalidSlug;

    fn from_str(s: &str) -> Result<Slug, InvalidSlug> {
        Slug::parse(s)
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidSlug;

    fn try_from(s: String) -> Result<Slug, InvalidSlug> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl utoipa::PartialSchema for Slug {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema("Tenant slug", "acme", Some("^[a-z][a-z0-9_]{1,30}$"))
    }
}

impl ToSchema for Slug {}

sqlx_text!(Slug);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_schema_name_rules() {
        for ok in ["acme", "a1", "team_42", "a234567890123456789012345678901"] {
            assert_eq!(Slug::parse(ok).map(|s| s.to_string()), Ok(ok.to_owned()));
        }
        for bad in [
            "",
            "a",
            "1acme",
            "_acme",
            "Acme",
            "ac-me",
            "a2345678901234567890123456789012",
            "ac me",
        ] {
            assert_eq!(
                Slug::parse(bad),
                Err(InvalidSlug(bad.to_owned())),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn slug_json_is_a_checked_string() {
        let slug: Slug = serde_json::from_str(r#""acme""#).unwrap();
        assert_eq!(slug.schema(), "tenant_acme");
        assert_eq!(serde_json::to_string(&slug).unwrap(), r#""acme""#);
        let err = serde_json::from_str::<Slug>(r#""Tenant A""#).unwrap_err();
        assert!(err.to_string().contains("must match"), "{err}");
    }
}

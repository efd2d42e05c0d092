//! Values spelled as fixed strings: in JSON, in query strings and in the database's text columns.
//!
//! [`string_enum!`] declares such an enum once, with its wire strings next to its variants, and gives
//! it `ALL`, `as_str`, `parse`, `Display`, `FromStr`, serde, an OpenAPI string-enum schema and, with the
//! `sqlx` feature, text encoding. [`sqlx_text!`] gives the text encoding to any type that has
//! `Display` and `FromStr` (targets, channels, slugs). Text encoding is written by hand rather than
//! derived with `sqlx(type_name = "text")`: the derive names the type, so sqlx would look the `text`
//! OID up on every connection and accept only `text` columns, where this accepts every type `&str`
//! does (`text`, `varchar`, `name`, ...) with the OID known up front.

use std::fmt;

/// A string that is none of the values a type allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// What was being parsed, e.g. `alert status`.
    pub kind: &'static str,
    /// The text that did not parse.
    pub value: String,
    /// The accepted spellings, for the message.
    pub expected: &'static [&'static str],
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a valid {}; expected one of {}",
            self.value,
            self.kind,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for InvalidValue {}

/// Declares a fieldless enum whose variants are the given strings everywhere outside Rust.
///
/// ```ignore
/// string_enum! {
///     /// Docs of the enum.
///     pub enum AlertStatus("alert status") {
///         /// Docs of the variant.
///         Firing = "firing",
///     }
/// }
/// ```
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($wire),+].len()] = [$($name::$variant),+];

            /// The spelling used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }

            /// Parses the spelling used in the API and the database; `None` for anything else.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $wire => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::text::InvalidValue;

            fn from_str(s: &str) -> Result<$name, Self::Err> {
                $name::parse(s).ok_or_else(|| $crate::text::InvalidValue {
                    kind: $what,
                    value: s.to_owned(),
                    expected: &[$($wire),+],
                })
            }
        }

        $crate::text::sqlx_text!($name);
    };
}

/// Stores a type with `Display` and `FromStr` in a text column (feature `sqlx`): encoded as its
/// `Display`, decoded with `FromStr`, so an unknown value in the database is a decode error.
macro_rules! sqlx_text {
    ($name:ty) => {
        #[cfg(feature = "sqlx")]
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::postgres::PgHasArrayType>::array_type_info()
            }

            fn array_compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::postgres::PgHasArrayType>::array_compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q> sqlx::Encode<'q, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, sqlx::Postgres>>::encode(self.to_string(), buf)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }
    };
}

pub(crate) use {sqlx_text, string_enum};

/// An OpenAPI string schema with a description and an example, for types serialised as strings
/// whose values are not a fixed list.
pub(crate) fn string_schema(
    description: &str,
    example: &str,
    pattern: Option<&str>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .examples([example])
        .pattern(pattern)
        .into()
}

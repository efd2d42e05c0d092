//! The WIT bindings this crate owns — `types`, `log` and `config` of `nightowl:plugin@0.1.0` — and the
//! conversions between their records and the plain types. The world crates point wit-bindgen's `with`
//! at these modules, so a plugin holds one copy of each whichever world it implements.

// wit-bindgen's generated FFI glue is `unsafe`; plugin code itself stays under `deny(unsafe_code)`.
#![allow(unsafe_code)]

wit_bindgen::generate!({
    inline: "
        package nightowl:sdk;
        world shared {
            import nightowl:plugin/types@0.1.0;
            import nightowl:plugin/log@0.1.0;
            import nightowl:plugin/config@0.1.0;
        }
    ",
    path: "../../../wit/nightowl-plugin-0.1.0",
    world: "nightowl:sdk/shared",
    generate_all,
});

use crate::{Error, Request};
use nightowl::plugin::types;

/// WIT request → plain request.
pub fn request(req: types::InboundRequest) -> Request {
    Request {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: pairs(req.headers),
        body: req.body,
        public_url: req.public_url,
    }
}

/// Plain error → WIT error.
pub fn error(e: Error) -> types::PluginError {
    match e {
        Error::InvalidPayload(m) => types::PluginError::InvalidPayload(m),
        Error::Unauthorized(m) => types::PluginError::Unauthorized(m),
        Error::Upstream(m) => types::PluginError::Upstream(m),
        Error::Internal(m) => types::PluginError::Internal(m),
    }
}

/// Plain pairs → WIT key/value records.
pub fn kvs(pairs: Vec<(String, String)>) -> Vec<types::Kv> {
    pairs
        .into_iter()
        .map(|(key, value)| types::Kv { key, value })
        .collect()
}

/// WIT key/value records → plain pairs.
pub fn pairs(kvs: Vec<types::Kv>) -> Vec<(String, String)> {
    kvs.into_iter().map(|kv| (kv.key, kv.value)).collect()
}

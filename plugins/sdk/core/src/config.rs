//! Per-tenant, non-secret plugin settings (the host validates them against the manifest). Always empty
//! outside wasm (native unit tests).

/// The value of a setting, or `None` when it is not set.
pub fn get(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::wit::nightowl::plugin::config::get(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        None
    }
}

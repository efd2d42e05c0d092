//! Per-tenant, non-secret plugin settings (the host validates them against the manifest). Outside wasm
//! (native unit tests) the settings are what a test set on its thread with [`set_native`]: empty
//! unless it did.

/// The value of a setting, or `None` when it is not set.
pub fn get(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::wit::nightowl::plugin::config::get(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        NATIVE.with_borrow(|settings| settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static NATIVE: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Natively only (unit tests): replaces the settings [`get`] answers on the calling thread. The test
/// doubles of the world SDKs (e.g. the channel SDK's `testing::Host`) call it; each test runs on its
/// own thread, so tests do not see each other's settings.
#[cfg(not(target_arch = "wasm32"))]
pub fn set_native(settings: Vec<(String, String)>) {
    NATIVE.set(settings);
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn native_settings_are_what_the_test_set() {
        assert_eq!(get("default_channel"), None);
        set_native(vec![("default_channel".into(), "C1".into())]);
        assert_eq!(get("default_channel").as_deref(), Some("C1"));
        assert_eq!(get("other"), None);
    }
}

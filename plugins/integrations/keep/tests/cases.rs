//! The data cases in `tests/cases/` through the plugin, natively; the host runs the same cases through
//! the compiled component.

#[test]
fn cases() {
    nightowl_plugin_sdk_source::cases::check::<nightowl_plugin_keep::Keep>(env!("CARGO_MANIFEST_DIR"));
}

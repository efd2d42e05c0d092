//! WIT bindings of the `channel` world of `nightowl:plugin@0.1.1`.
//!
//! `http-client`, `crypto`, `incidents` and `channel-api` are generated here from the 0.1.1 folder;
//! `types`, `log` and `config` are not: wit-bindgen's `with` points them at the shared SDK crate's
//! 0.1.0 bindings, which 0.1.1 left unchanged. That keeps one copy of `log`/`config` and of the
//! request/error conversions in a plugin. Generating them here as well would put a second
//! `nightowl::plugin::log` beside the one `nightowl_plugin_sdk::log` calls, and a channel-SDK `log`
//! module next to the re-exported shared one is the `E0255 defined multiple times` this layout
//! avoids. The component stays a plain 0.1.1 one: when wit-component links the plugin it merges the
//! worlds embedded by both crates and unifies semver-compatible package versions to the newest, so
//! the finished component imports `log@0.1.1`, `config@0.1.1`, `types@0.1.1`, `http-client@0.1.1`,
//! `crypto@0.1.1` and `incidents@0.1.1` (checked on the built Slack plugin), and exports
//! `channel-api@0.1.1`. (The host's linker would resolve a 0.1.0 import against 0.1.1 anyway.)

// wit-bindgen's generated FFI glue is `unsafe`; plugin code itself stays under `deny(unsafe_code)`.
#![allow(unsafe_code)]

wit_bindgen::generate!({
    world: "channel",
    path: "../../../wit/nightowl-plugin-0.1.1",
    with: {
        "nightowl:plugin/types@0.1.1": nightowl_plugin_sdk::wit::nightowl::plugin::types,
        "nightowl:plugin/log@0.1.1": nightowl_plugin_sdk::wit::nightowl::plugin::log,
        "nightowl:plugin/config@0.1.1": nightowl_plugin_sdk::wit::nightowl::plugin::config,
    },
    default_bindings_module: "nightowl_plugin_sdk_channel::wit",
    pub_export_macro: true,
    export_macro_name: "export_channel_world",
});

//! WIT bindings of the `channel` world. `types`, `log` and `config` come from the shared SDK crate; the
//! rest (`incidents`, `http-client`, `crypto`, `channel-api`) is generated here.

// wit-bindgen's generated FFI glue is `unsafe`; plugin code itself stays under `deny(unsafe_code)`.
#![allow(unsafe_code)]

wit_bindgen::generate!({
    world: "channel",
    path: "../../../wit/nightowl-plugin-0.1.0",
    with: {
        "nightowl:plugin/types@0.1.0": nightowl_plugin_sdk::wit::nightowl::plugin::types,
        "nightowl:plugin/log@0.1.0": nightowl_plugin_sdk::wit::nightowl::plugin::log,
        "nightowl:plugin/config@0.1.0": nightowl_plugin_sdk::wit::nightowl::plugin::config,
    },
    default_bindings_module: "nightowl_plugin_sdk_channel::wit",
    pub_export_macro: true,
    export_macro_name: "export_channel_world",
});

//! WIT bindings of the `source` world. `types`, `log` and `config` come from the shared SDK crate.

// wit-bindgen's generated FFI glue is `unsafe`; plugin code itself stays under `deny(unsafe_code)`.
#![allow(unsafe_code)]

wit_bindgen::generate!({
    world: "source",
    path: "../../../wit/nightowl-plugin-0.1.0",
    with: {
        "nightowl:plugin/types@0.1.0": nightowl_plugin_sdk::wit::nightowl::plugin::types,
        "nightowl:plugin/log@0.1.0": nightowl_plugin_sdk::wit::nightowl::plugin::log,
        "nightowl:plugin/config@0.1.0": nightowl_plugin_sdk::wit::nightowl::plugin::config,
    },
    default_bindings_module: "nightowl_plugin_sdk_source::wit",
    pub_export_macro: true,
    export_macro_name: "export_source_world",
});

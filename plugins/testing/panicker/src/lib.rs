//! Test plugin: panics on every call (a trap; the next call must work again).

use nightowl_plugin_sdk_source::{Alert, Error, Request, Source, source_plugin};

pub struct Panicker;

impl Source for Panicker {
    fn parse(req: &Request) -> Result<Vec<Alert>, Error> {
        if req.body == b"{\"behave\": true}" {
            return Ok(vec![Alert {
                title: "well behaved".into(),
                ..Alert::default()
            }]);
        }
        panic!("the panicker plugin panics, as designed");
    }
}

source_plugin!(Panicker);

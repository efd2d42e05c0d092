//! Test plugin: never returns (the sandbox must stop it at its deadline).

use nightowl_plugin_sdk_source::{Alert, Error, Request, Source, source_plugin};

pub struct Looper;

impl Source for Looper {
    fn parse(req: &Request) -> Result<Vec<Alert>, Error> {
        let mut n: u64 = req.body.len() as u64;
        loop {
            n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

source_plugin!(Looper);

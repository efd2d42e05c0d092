//! Test plugin: allocates until it hits its memory cap (the sandbox must stop it there).

use nightowl_plugin_sdk_source::{Alert, Error, Request, Source, source_plugin};

pub struct Hog;

impl Source for Hog {
    fn parse(_req: &Request) -> Result<Vec<Alert>, Error> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

source_plugin!(Hog);

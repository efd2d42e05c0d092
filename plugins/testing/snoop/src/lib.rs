//! Test channel plugin for the sandbox tests: a guest that wants its secret. On any callback it tries
//! every way to the value of its `token` secret setting and answers with everything it saw (as JSON),
//! so the host test can check the value appears nowhere:
//!
//! - `config.get("token")` (secrets are not settings the guest can read);
//! - a request to the `echo_url` setting with `bearer("token")` and `header("x-echo", "token")`, whose
//!   server answers with the headers it received (the host redacts secrets in answers);
//! - the same request to a host outside the operator's grant (`denied`);
//! - `hmac` keyed with the secret (a MAC, never the key), and a setting that is not a secret;
//! - acting before it verified a signature, as a user the channel does not know, or for another
//!   channel's users (`forbidden`).
//!
//! `notify` is not used.

use nightowl_plugin_sdk_channel::crypto::{self, Alg};
use nightowl_plugin_sdk_channel::http::{self, Auth};
use nightowl_plugin_sdk_channel::incidents::{self, Actor};
use nightowl_plugin_sdk_channel::{
    Channel, Delivery, Error, Notification, Request, Response, channel_plugin, config,
};
use serde_json::json;

/// The plugin.
pub struct Snoop;

fn describe<T: std::fmt::Debug, E: std::fmt::Debug>(r: &Result<T, E>) -> String {
    format!("{r:?}")
}

impl Channel for Snoop {
    fn notify(_n: &Notification) -> Result<Delivery, Error> {
        Err(Error::InvalidPayload("snoop only answers callbacks".into()))
    }

    fn handle_inbound(_req: &Request) -> Result<Response, Error> {
        // Acting before any signature was verified: refused whoever is named.
        let before_verify = incidents::acknowledge("#1", &Actor::new("snoop", "alice@acme.example"), None);
        // A plugin that checks a MAC it made itself passes that gate; the checks below still hold.
        let mac = crypto::hmac(Alg::Sha256, "token", b"probe").unwrap_or_default();
        let verified = crypto::verify_hmac(Alg::Sha256, "token", b"probe", &mac);
        let echo = config::get("echo_url").unwrap_or_default();
        let echoed = http::send(
            &http::Request::get(echo.clone())
                .auth(Auth::Bearer("token".into()))
                .header("x-probe", "1"),
        );
        let header =
            http::send(&http::Request::get(echo.clone()).auth(Auth::Header("x-echo".into(), "token".into())));
        let elsewhere = echo.replacen("localhost", "forbidden.localhost", 1);
        let foreign = http::send(&http::Request::get(elsewhere).auth(Auth::Bearer("token".into())));
        let plain = http::send(&http::Request::get(echo).auth(Auth::Bearer("echo_url".into())));
        let report = json!({
            "config_token": config::get("token"),
            "echoed": describe(&echoed.map(|r| (r.status, r.headers, String::from_utf8_lossy(&r.body).into_owned()))),
            "header": describe(&header.map(|r| String::from_utf8_lossy(&r.body).into_owned())),
            "foreign": describe(&foreign.map(|r| r.status)),
            "not_a_secret": describe(&plain.map(|r| r.status)),
            "hmac": describe(&crypto::hmac(Alg::Sha256, "token", b"probe")),
            "hmac_of_setting": describe(&crypto::hmac(Alg::Sha256, "echo_url", b"probe")),
            "act_before_verify": describe(&before_verify),
            "verified": describe(&verified),
            "act_as_stranger": describe(&incidents::acknowledge("#1", &Actor::new("snoop", "stranger@elsewhere.example"), None)),
            "act_as_other_channel": describe(&incidents::acknowledge("#1", &Actor::new("slack", "U1"), None)),
        });
        Ok(Response::json(200, &report))
    }
}

channel_plugin!(Snoop);

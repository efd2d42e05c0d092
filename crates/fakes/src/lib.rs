//! Local fakes of the services NightOwl's channel plugins call, for tests where the real ones are not
//! reachable: served over HTTPS ([`tls`]) with a test CA the host is told to trust, they check what
//! they receive as the real service does, record every call and fail on cue.
//!
//! - [`slack`]: the Slack Web API methods the Slack plugin calls, and `response_url`s.
//! - [`slack_signing`]: requests as Slack sends them to an app (signed slash commands, interactions,
//!   events), for tests that play Slack towards NightOwl.
//! - [`twilio`]: the Twilio REST API resources the Twilio plugin creates (calls with inline TwiML,
//!   SMS).
//! - [`twilio_signing`]: requests as Twilio sends them to a webhook (signed gather results, inbound
//!   SMS, call status changes), for tests that play Twilio towards NightOwl.
//!
//! A host test trusts the test CA with `NIGHTOWL_PLUGIN_HTTP_CA_FILE` = [`TestCa::pem_file`] (one CA
//! signs every fake of the process), allows loopback (`NIGHTOWL_PLUGIN_HTTP_ALLOW_LOOPBACK`) and
//! points the plugin at the fake (the Slack plugin's `api_base_url` setting = [`FakeSlack::api_url`]):
//!
//! ```no_run
//! # async fn example() {
//! use std::time::Duration;
//! use nightowl_fakes::{Failure, FakeSlack, TestCa};
//!
//! let slack = FakeSlack::start("xoxb-test").await;
//! slack.add_channel("C0ALERTS");
//! let ca_file = TestCa::pem_file(); // -> config.plugin_http_ca_file
//! let api_base_url = slack.api_url(); // -> the plugin's api_base_url setting
//! slack.fail_next(Some("chat.postMessage"), Failure::RateLimited { retry_after_secs: 1 }, 1);
//! // ... make the host notify ...
//! let posts = slack.wait_for("chat.postMessage", 2, Duration::from_secs(10)).await;
//! assert_eq!(posts[1].body["channel"], "C0ALERTS");
//! # let _ = (ca_file, api_base_url);
//! # }
//! ```

pub mod slack;
pub mod slack_signing;
pub mod tls;
pub mod twilio;
pub mod twilio_signing;

pub use slack::{Failure, FakeSlack};
pub use tls::{TestCa, TlsServer};
pub use twilio::FakeTwilio;

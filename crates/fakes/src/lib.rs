//! Local fakes of the services NightOwl's channel plugins call, for tests where the real ones are not
//! reachable: served over HTTPS ([`tls`]) with a test CA the host is told to trust.

pub mod tls;

pub use tls::{TestCa, TlsServer};

//! Who is calling, by address: the peer of the connection, or, when that peer is a proxy the
//! operator trusts (`NIGHTOWL_TRUSTED_PROXIES`), the address that proxy reports in
//! `X-Forwarded-For`. From anyone else the header is ignored: a client could write any address in it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// The caller's address, as [`client_ip`] decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr(client_ip(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The client's address: `peer`, unless `peer` is a trusted proxy; then the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy (each proxy appends the address it
/// saw, so entries left of the last untrusted one are the client's own claims).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .or(Some(peer))
}

/// Parses a trusted proxy: an address (`10.0.0.7`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is neither an IP address nor a network such as 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let trusted = [
            parse_proxy("10.0.0.0/8").unwrap(),
            parse_proxy("192.168.1.5").unwrap(),
        ];
        let spoofed = headers(&["6.6.6.6"]);
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), &spoofed, &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), &spoofed, &[]),
            Some(ip("203.0.113.9"))
        );
        // Through two trusted proxies: the client claims 6.6.6.6, the first proxy saw 198.51.100.2.
        let chain = headers(&["6.6.6.6, 198.51.100.2", "10.1.2.3"]);
        assert_eq!(
            client_ip(Some(ip("192.168.1.5")), &chain, &trusted),
            Some(ip("198.51.100.2"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &HeaderMap::new(), &trusted),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(client_ip(None, &chain, &trusted), None);
        assert!(parse_proxy("not an ip").is_err());
    }
}

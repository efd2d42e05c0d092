//! `http-client.send`: the only way a channel plugin reaches the outside, and every rule it passes.
//!
//! - **https only**, no user info in the URL (credentials come from [`Auth`]).
//! - The host name must match the manifest's `[http] allowed_hosts` **and** the operator's grant
//!   ([`Grants`], `NIGHTOWL_PLUGIN_GRANTS`).
//! - **Addresses are checked after DNS**, in the client's own resolver, so the address checked is
//!   the address connected to (no rebinding between a check and the connect): private, link-local,
//!   loopback, multicast and other non-public addresses are refused, loopback only allowed when the
//!   operator says so (tests against local fakes). An IP literal in the URL gets the same check.
//! - Redirects are followed only on the same host (at most 3); another host's redirect is handed to
//!   the plugin as the 3xx it is.
//! - The timeout is the plugin's wish capped by [`MAX_TIMEOUT`] and by what is left of the call's
//!   deadline; the response body is capped at [`MAX_RESPONSE_BYTES`].
//! - **Secrets never reach the guest**: the plugin names a secret setting, the host adds its value
//!   to the request, and any echo of the value in the response (headers or body) is replaced by
//!   `[redacted]` before the plugin sees it. Errors and logs never carry a secret or a header.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::plugins::manifest::{HostPattern, Manifest};

/// Longest one outbound request may take.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body handed to a plugin.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;
/// Largest request body a plugin may send.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
const MAX_REDIRECTS: usize = 3;

/// The operator's grants: per plugin id, the host patterns it may reach (narrowing its manifest).
#[derive(Debug, Clone, Default)]
pub struct Grants {
    entries: HashMap<String, Vec<HostPattern>>,
    /// `*=`: plugins without an entry get no hosts.
    deny_unlisted: bool,
}

impl Grants {
    /// Parses `id=host,*.domain;id2=host` (empty: no entries).
    pub fn parse(text: &str) -> Result<Grants, String> {
        let mut grants = Grants::default();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, hosts) = entry
                .split_once('=')
                .ok_or_else(|| format!("grant {entry:?} must look like id=host,host"))?;
            let hosts: Vec<HostPattern> = hosts
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(|h| {
                    HostPattern::parse(h).ok_or_else(|| format!("grant for {id}: {h:?} is not a host name"))
                })
                .collect::<Result<_, _>>()?;
            match id.trim() {
                "*" if hosts.is_empty() => grants.deny_unlisted = true,
                "*" => return Err("`*=` takes no hosts: it only denies plugins without an entry".into()),
                id => {
                    grants.entries.insert(id.to_owned(), hosts);
                }
            }
        }
        Ok(grants)
    }

    /// Whether `plugin` may reach `host`: its manifest allows it and the grant (if any) too.
    pub fn allows(&self, manifest: &Manifest, host: &str) -> bool {
        let asked = manifest
            .http
            .allowed_hosts
            .iter()
            .filter_map(|h| HostPattern::parse(h))
            .any(|p| p.matches(host));
        let granted = match self.entries.get(&manifest.id) {
            Some(patterns) => patterns.iter().any(|p| p.matches(host)),
            None => !self.deny_unlisted,
        };
        asked && granted
    }
}

/// Whether an address is one a plugin may connect to: public unicast, or loopback when allowed.
pub fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    if ip.is_loopback() {
        return allow_loopback;
    }
    let blocked: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/32",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    ];
    !blocked.iter().any(|net| {
        net.parse::<ipnet::IpNet>()
            .expect("the list holds valid networks")
            .contains(&ip)
    })
}

/// A name that resolves only to addresses plugins may not reach (or to none).
#[derive(Debug)]
struct NotAllowed(String);

impl std::fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAllowed {}

/// A DNS resolver that hands the client only addresses a plugin may connect to.
#[derive(Debug, Clone)]
struct CheckedResolver {
    allow_loopback: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| address_allowed(a.ip(), allow_loopback))
                .collect();
            if allowed.is_empty() {
                let why = if found.is_empty() {
                    format!("{host} has no address")
                } else {
                    format!("{host} resolves only to addresses plugins may not reach")
                };
                return Err(Box::new(NotAllowed(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// HTTP method of an outbound request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// Credentials the host adds by secret name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
    Header(String, String),
}

/// A plugin's outbound request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub auth: Auth,
    pub timeout: Option<Duration>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `Retry-After` of a 429 or 503, in seconds.
    pub retry_after: Option<Duration>,
}

/// Why a request was not made or did not complete. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error("denied: {0}")]
    Denied(String),
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// The secret values of one tenant's plugin settings, by setting key (kept host-side).
#[derive(Clone, Default)]
pub struct Secrets(HashMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Secrets {
    /// Secrets from `key → value`.
    pub fn new(values: HashMap<String, String>) -> Secrets {
        Secrets(values)
    }

    /// The value of a secret setting.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Replaces every occurrence of a secret value in `bytes` — as it is, base64-encoded,
    /// percent-encoded and JSON-escaped — and of `extra` (e.g. the `user:secret` of basic auth).
    /// This is defence in depth against an allowed host that echoes what it received; what keeps a
    /// secret from hosts that would collect it is the grant of hosts.
    fn redact(&self, bytes: Vec<u8>, extra: Option<&str>) -> Vec<u8> {
        use base64::Engine as _;
        let mut out = bytes;
        for secret in self
            .0
            .values()
            .map(String::as_str)
            .chain(extra)
            .filter(|v| !v.is_empty())
        {
            let json = serde_json::to_string(secret).unwrap_or_default();
            let forms = [
                secret.to_owned(),
                base64::engine::general_purpose::STANDARD.encode(secret),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
                url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
                json.trim_matches('"').to_owned(),
            ];
            for form in forms {
                out = replace_all(&out, form.as_bytes(), b"[redacted]");
            }
        }
        out
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Refuses a header the host sets itself, or one that would let a response hide an echoed secret
/// (compressed, in ranges).
fn reserved(name: &str) -> Result<(), EgressError> {
    let lower = name.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "host"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "proxy-authorization"
            | "accept-encoding"
            | "range"
            | "te"
    ) {
        return Err(EgressError::Invalid(format!("header {name} is set by the host")));
    }
    Ok(())
}

/// The outbound HTTP gate shared by every channel call.
#[derive(Debug, Clone)]
pub struct Egress {
    client: reqwest::Client,
    grants: Arc<Grants>,
    allow_loopback: bool,
}

impl Egress {
    /// Builds the client: checked resolver, same-host redirects, extra CA certificates.
    pub fn new(grants: Grants, allow_loopback: bool, extra_ca_pem: Option<&[u8]>) -> anyhow::Result<Egress> {
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            let same_host = attempt
                .previous()
                .first()
                .is_some_and(|first| first.host_str() == attempt.url().host_str());
            if attempt.previous().len() > MAX_REDIRECTS || !same_host || attempt.url().scheme() != "https" {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver { allow_loopback }))
            .redirect(redirects)
            .https_only(true)
            .no_proxy()
            .user_agent(concat!("NightOwl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5));
        if let Some(pem) = extra_ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(Egress {
            client: builder.build()?,
            grants: Arc::new(grants),
            allow_loopback,
        })
    }

    /// Sends one request for `manifest`'s plugin, with `secrets` of the calling tenant, finishing
    /// before `deadline`.
    pub async fn send(
        &self,
        manifest: &Manifest,
        secrets: &Secrets,
        req: Request,
        deadline: Instant,
    ) -> Result<Response, EgressError> {
        let url = self.checked_url(manifest, &req.url)?;
        if req.body.len() > MAX_REQUEST_BYTES {
            return Err(EgressError::Invalid(format!(
                "request body larger than {MAX_REQUEST_BYTES} bytes"
            )));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = req.timeout.unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT).min(left);
        if timeout.is_zero() {
            return Err(EgressError::Timeout);
        }
        // What an echo of this request's credentials would look like, besides the secrets themselves.
        let extra = match &req.auth {
            Auth::Basic(user, name) => secrets.get(name).map(|s| format!("{user}:{s}")),
            _ => None,
        };
        let started = Instant::now();
        let builder = self.build(manifest, secrets, url, &req, timeout)?;
        let response = builder.body(req.body).send().await.map_err(|e| classify(&e))?;
        let redact = |bytes: Vec<u8>| secrets.redact(bytes, extra.as_deref());
        read(response, timeout.saturating_sub(started.elapsed()), redact).await
    }

    /// The request's URL when the plugin may call it: https, no user info, a host in the manifest
    /// and the grant, an IP literal only when it is an address plugins may reach.
    fn checked_url(&self, manifest: &Manifest, text: &str) -> Result<reqwest::Url, EgressError> {
        let url = reqwest::Url::parse(text).map_err(|e| EgressError::Invalid(format!("bad URL: {e}")))?;
        if url.scheme() != "https" {
            return Err(EgressError::Denied("only https URLs are allowed".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EgressError::Denied(
                "credentials in the URL are not allowed; name a secret instead".into(),
            ));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => {
                self.check_literal(IpAddr::V4(ip))?;
                ip.to_string()
            }
            Some(url::Host::Ipv6(ip)) => {
                self.check_literal(IpAddr::V6(ip))?;
                ip.to_string()
            }
            None => return Err(EgressError::Invalid("URL has no host".into())),
        };
        if !self.grants.allows(manifest, &host) {
            return Err(EgressError::Denied(format!(
                "host {host} is not in plugin {}'s allowed hosts and the operator's grant",
                manifest.id
            )));
        }
        Ok(url)
    }

    /// The request as reqwest sends it: the plugin's headers (none the host sets itself), an
    /// uncompressed answer, and the credentials it named.
    fn build(
        &self,
        manifest: &Manifest,
        secrets: &Secrets,
        url: reqwest::Url,
        req: &Request,
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder, EgressError> {
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, url).timeout(timeout);
        for (name, value) in &req.headers {
            reserved(name)?;
            builder = builder.header(name.as_str(), value.as_str());
        }
        // Bodies come back as sent, so an echoed secret can be found and redacted in them.
        builder = builder.header(reqwest::header::ACCEPT_ENCODING, "identity");
        let secret = |name: &str| {
            let declared = manifest.setting(name).is_some_and(|s| s.secret);
            match secrets.get(name) {
                Some(value) if declared => Ok(value.to_owned()),
                _ if !declared => Err(EgressError::Denied(format!(
                    "{name:?} is not a secret setting of plugin {}",
                    manifest.id
                ))),
                _ => Err(EgressError::Denied(format!(
                    "secret {name:?} is not configured for this tenant"
                ))),
            }
        };
        Ok(match &req.auth {
            Auth::None => builder,
            Auth::Bearer(name) => builder.bearer_auth(secret(name)?),
            Auth::Basic(user, name) => builder.basic_auth(user, Some(secret(name)?)),
            Auth::Header(header, name) => {
                reserved(header)?;
                let mut value = reqwest::header::HeaderValue::from_str(&secret(name)?).map_err(|_| {
                    EgressError::Invalid(format!("secret {name:?} is not a valid header value"))
                })?;
                value.set_sensitive(true);
                builder.header(header.as_str(), value)
            }
        })
    }

    fn check_literal(&self, ip: IpAddr) -> Result<(), EgressError> {
        if address_allowed(ip, self.allow_loopback) {
            Ok(())
        } else {
            Err(EgressError::Denied(format!(
                "address {ip} may not be reached by plugins"
            )))
        }
    }
}

/// Reads an answer within `time` and at most [`MAX_RESPONSE_BYTES`], with `redact` applied to its
/// headers and body, and the `Retry-After` of a 429 or 503.
async fn read(
    mut response: reqwest::Response,
    time: Duration,
    redact: impl Fn(Vec<u8>) -> Vec<u8>,
) -> Result<Response, EgressError> {
    let status = response.status().as_u16();
    let retry_after = matches!(status, 429 | 503)
        .then(|| {
            response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
        })
        .flatten();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(&redact(v.as_bytes().to_vec())).into_owned();
            (k.as_str().to_owned(), value)
        })
        .collect();
    let mut body = Vec::new();
    let chunks = async {
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(EgressError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(())
    };
    tokio::time::timeout(time, chunks)
        .await
        .map_err(|_| EgressError::Timeout)??;
    Ok(Response {
        status,
        headers,
        body: redact(body),
        retry_after,
    })
}

/// A reqwest error as the plugin may see it: the kind and the root cause, without the URL's query.
fn classify(e: &reqwest::Error) -> EgressError {
    if e.is_timeout() {
        return EgressError::Timeout;
    }
    let mut cause: &dyn std::error::Error = e;
    loop {
        if let Some(refused) = cause.downcast_ref::<NotAllowed>() {
            return EgressError::Denied(refused.0.clone());
        }
        match cause.source() {
            Some(next) => cause = next,
            None => return EgressError::Connection(cause.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(hosts: &[&str]) -> Manifest {
        let mut m = Manifest::parse(
            r#"
            id = "chat"
            name = "Chat"
            version = "0.1.0"
            kind = "channel"
            api = "0.1"
            capabilities = ["http-client"]
            [[settings]]
            key = "token"
            secret = true
            "#,
        )
        .unwrap();
        m.http.allowed_hosts = hosts.iter().map(|h| (*h).to_owned()).collect();
        m
    }

    #[test]
    fn a_host_must_be_in_the_manifest_and_the_grant() {
        let m = manifest(&["chat.example", "*.hooks.chat.example"]);
        let none = Grants::parse("").unwrap();
        assert!(none.allows(&m, "chat.example") && none.allows(&m, "x.hooks.chat.example"));
        assert!(!none.allows(&m, "evil.example"), "the manifest bounds it");
        let narrowed = Grants::parse("chat=chat.example; other=evil.example").unwrap();
        assert!(narrowed.allows(&m, "chat.example"));
        assert!(
            !narrowed.allows(&m, "x.hooks.chat.example"),
            "the grant narrows it"
        );
        let off = Grants::parse("chat=").unwrap();
        assert!(!off.allows(&m, "chat.example"));
        let strict = Grants::parse("*=").unwrap();
        assert!(!strict.allows(&m, "chat.example"), "unlisted plugins get nothing");
        let widened = Grants::parse("chat=evil.example").unwrap();
        assert!(
            !widened.allows(&m, "evil.example"),
            "a grant never widens the manifest"
        );
        assert!(Grants::parse("chat").is_err() && Grants::parse("*=x.com").is_err());
    }

    #[test]
    fn only_public_addresses_are_allowed_and_loopback_on_request() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "fd00::1",
            "fe80::1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:0:a00:1::1",
            "::a00:1",
            "::",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!address_allowed(ip.parse().unwrap(), false), "{ip}");
        }
        for ip in ["127.0.0.1", "::1"] {
            assert!(!address_allowed(ip.parse().unwrap(), false), "{ip}");
            assert!(address_allowed(ip.parse().unwrap(), true), "{ip}");
        }
        assert!(
            !address_allowed("10.0.0.1".parse().unwrap(), true),
            "loopback only"
        );
        for ip in ["1.1.1.1", "54.230.10.1", "2606:4700::1111"] {
            assert!(address_allowed(ip.parse().unwrap(), false), "{ip}");
        }
    }

    #[test]
    fn secrets_echoed_back_are_redacted_and_never_debug_printed() {
        let secrets = Secrets::new(HashMap::from([(
            "token".to_owned(),
            "xoxb-very-secret".to_owned(),
        )]));
        let body = br#"{"echo":"Bearer xoxb-very-secret","again":"xoxb-very-secret"}"#.to_vec();
        let out = String::from_utf8(secrets.redact(body, None)).unwrap();
        assert!(!out.contains("xoxb-very-secret"), "{out}");
        assert_eq!(out.matches("[redacted]").count(), 2);
        use base64::Engine as _;
        let encoded = [
            base64::engine::general_purpose::STANDARD.encode("xoxb-very-secret"),
            base64::engine::general_purpose::STANDARD.encode("bot:xoxb-very-secret"),
            "xoxb%2Dvery%2Dsecret".replace("%2D", "-"),
        ]
        .join(" ");
        let out =
            String::from_utf8(secrets.redact(encoded.into_bytes(), Some("bot:xoxb-very-secret"))).unwrap();
        assert_eq!(out, "[redacted] [redacted] [redacted]", "encoded echoes too");
        assert!(!format!("{secrets:?}").contains("xoxb"));
    }

    #[tokio::test]
    async fn requests_outside_the_rules_are_refused_before_anything_is_sent() {
        let egress = Egress::new(Grants::default(), false, None).unwrap();
        let m = manifest(&["chat.example", "127.0.0.1", "localhost"]);
        let secrets = Secrets::default();
        let deadline = Instant::now() + Duration::from_secs(5);
        let send = |url: &str, auth: Auth| Request {
            method: Method::Post,
            url: url.to_owned(),
            headers: vec![],
            body: vec![],
            auth,
            timeout: None,
        };
        for (url, auth, expect) in [
            ("http://chat.example/api", Auth::None, "only https"),
            (
                "https://user:pw@chat.example/api",
                Auth::None,
                "credentials in the URL",
            ),
            (
                "https://evil.example/api",
                Auth::None,
                "not in plugin chat's allowed hosts",
            ),
            ("https://127.0.0.1/api", Auth::None, "may not be reached"),
            ("https://localhost:1/api", Auth::None, "may not reach"),
            (
                "https://chat.example/api",
                Auth::Bearer("token".into()),
                "not configured",
            ),
            (
                "https://chat.example/api",
                Auth::Bearer("other".into()),
                "not a secret setting",
            ),
        ] {
            let err = egress
                .send(&m, &secrets, send(url, auth), deadline)
                .await
                .unwrap_err();
            assert!(err.to_string().contains(expect), "{url}: {err}");
        }
        for header in ["Accept-Encoding", "range", "Host"] {
            let mut req = send("https://chat.example/api", Auth::None);
            req.headers.push((header.to_owned(), "x".to_owned()));
            let err = egress.send(&m, &secrets, req, deadline).await.unwrap_err();
            assert!(err.to_string().contains("set by the host"), "{header}: {err}");
        }
        let header_auth = send(
            "https://chat.example/api",
            Auth::Header("host".into(), "token".into()),
        );
        let err = egress
            .send(&m, &secrets, header_auth, deadline)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("set by the host"), "{err}");
    }
}

//! HTTPS for the fakes: a test certificate authority, leaf certificates for `localhost` and
//! `127.0.0.1` signed by it, and a server that serves any axum [`Router`] over TLS on a loopback port
//! until it is dropped.
//!
//! Every server in a test process is signed by the same CA ([`TestCa::shared`]), so a host under test
//! needs one CA file ([`TestCa::pem_file`]) to trust every fake it talks to.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// The names every leaf certificate is valid for: what a test may put into a base URL.
const LEAF_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A certificate authority made up for tests; it signs the fakes' server certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A fresh CA with its own key (ECDSA P-256).
    pub fn generate() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names to check");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "NightOwl fakes test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("self-signed CA certificate");
        let pem = issuer.pem();
        TestCa { issuer, pem }
    }

    /// The CA every server of this process uses unless told otherwise, made on first use.
    pub fn shared() -> &'static TestCa {
        static SHARED: OnceLock<TestCa> = OnceLock::new();
        SHARED.get_or_init(TestCa::generate)
    }

    /// The CA certificate, PEM-encoded: what a client adds as its (only) trusted root.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate, DER-encoded.
    pub fn der(&self) -> &CertificateDer<'static> {
        self.issuer.der()
    }

    /// Writes the PEM certificate to `path` (for a setting that names a CA file).
    pub fn write_pem(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, &self.pem)
    }

    /// A file holding the PEM certificate of the [shared](TestCa::shared) CA, written once per process
    /// into the temporary directory; the path to give a host as its extra trusted CA.
    pub fn pem_file() -> &'static Path {
        static FILE: OnceLock<PathBuf> = OnceLock::new();
        FILE.get_or_init(|| {
            let path = std::env::temp_dir().join(format!("nightowl-fakes-ca-{}.pem", std::process::id()));
            TestCa::shared()
                .write_pem(&path)
                .unwrap_or_else(|e| panic!("writing the test CA to {}: {e}", path.display()));
            path
        })
    }

    /// A server certificate for `localhost` and `127.0.0.1` and its key, signed by this CA.
    fn leaf(&self) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let names = LEAF_NAMES.map(String::from).to_vec();
        let mut params = CertificateParams::new(names).expect("valid names");
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (cert.der().clone(), key)
    }

    /// A rustls server configuration presenting a fresh leaf certificate (and this CA after it), HTTP/1.1.
    fn server_config(&self) -> ServerConfig {
        let (leaf, key) = self.leaf();
        // ring explicitly: the provider reqwest's `rustls-tls` builds with, so the tree has one.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf, self.der().clone()], key)
            .expect("the leaf key matches its certificate");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }
}

/// An HTTPS server on `127.0.0.1:<free port>` serving one [`Router`]; it stops when dropped, closing
/// the connections it has open.
#[derive(Debug)]
pub struct TlsServer {
    addr: SocketAddr,
    ca: &'static TestCa,
    task: JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        // The accept loop owns the connection tasks (a JoinSet), so they end with it.
        self.task.abort();
    }
}

impl TlsServer {
    /// Serves `router` with a certificate from the [shared](TestCa::shared) CA.
    pub async fn start(router: Router) -> io::Result<TlsServer> {
        TlsServer::start_with_ca(router, TestCa::shared()).await
    }

    /// Serves `router` with a certificate from `ca`.
    pub async fn start_with_ca(router: Router, ca: &'static TestCa) -> io::Result<TlsServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(ca.server_config()));
        let task = tokio::spawn(accept_loop(listener, acceptor, router));
        Ok(TlsServer { addr, ca, task })
    }

    /// `https://localhost:<port>`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA that signed its certificate.
    pub fn ca(&self) -> &'static TestCa {
        self.ca
    }

    /// The PEM certificate of the CA that signed its certificate.
    pub fn ca_pem(&self) -> &str {
        self.ca.pem()
    }

    /// Writes [`TlsServer::ca_pem`] to `path`.
    pub fn write_ca_pem(&self, path: &Path) -> io::Result<()> {
        self.ca.write_pem(path)
    }
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connections so a long test does not pile them up.
        while connections.try_join_next().is_some() {}
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(_) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        connections.spawn(async move {
            // A client that gives up during the handshake (or does not trust the CA) is its own
            // business: the fake just forgets the connection.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

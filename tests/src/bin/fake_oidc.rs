//! The fake OIDC provider of the API tests (`nightowl_tests::jwks::Issuer`), standalone, for the
//! browser tests: it approves every sign-in as one scripted user. Prints one line,
//! `fake-oidc listening on http://127.0.0.1:PORT` (the issuer URL), and serves until killed.
//!
//! ```sh
//! cargo run -p nightowl-tests --bin fake-oidc -- --port 0 --client-id nightowl \
//!     --client-secret s3cret --redirect-uri http://127.0.0.1:8080/auth/oidc/callback \
//!     --email olga@acme.example --name 'Olga Oidc' --tenant acme --role engineer
//! ```

use std::io::Write as _;

use clap::Parser;
use nightowl_tests::jwks::{Issuer, Registration, SigningKey};
use serde_json::{Value, json};

/// A fake OpenID Connect provider on 127.0.0.1 that signs one user in without asking.
#[derive(Parser)]
#[command(name = "fake-oidc")]
struct Args {
    /// Port to listen on (0: any free port; the line printed at start names it).
    #[arg(long, env = "FAKE_OIDC_PORT", default_value_t = 0)]
    port: u16,
    /// The relying party's client id.
    #[arg(long, env = "FAKE_OIDC_CLIENT_ID", default_value = "nightowl")]
    client_id: String,
    /// The relying party's client secret (HTTP basic at the token endpoint).
    #[arg(long, env = "FAKE_OIDC_CLIENT_SECRET", default_value = "fake-oidc-secret")]
    client_secret: String,
    /// The one redirect URI accepted, e.g. `http://127.0.0.1:8080/auth/oidc/callback`.
    #[arg(long, env = "FAKE_OIDC_REDIRECT_URI")]
    redirect_uri: String,
    /// The user's e-mail (`email` claim).
    #[arg(long, env = "FAKE_OIDC_EMAIL", default_value = "olga@acme.example")]
    email: String,
    /// The user's name (`name` claim).
    #[arg(long, env = "FAKE_OIDC_NAME", default_value = "Olga Oidc")]
    name: String,
    /// The user's subject (`sub` claim); default: `sub-<email>`.
    #[arg(long, env = "FAKE_OIDC_SUBJECT")]
    subject: Option<String>,
    /// The tenant slug, put in the tenant claim.
    #[arg(long, env = "FAKE_OIDC_TENANT")]
    tenant: String,
    /// The NightOwl role, put in the role claim (none when unset: the host's default role applies).
    #[arg(long, env = "FAKE_OIDC_ROLE")]
    role: Option<String>,
    /// Name of the tenant claim (the host's `NIGHTOWL_OIDC_TENANT_CLAIM`).
    #[arg(long, env = "FAKE_OIDC_TENANT_CLAIM", default_value = "nightowl_tenant")]
    tenant_claim: String,
    /// Name of the role claim (the host's `NIGHTOWL_OIDC_ROLE_CLAIM`).
    #[arg(long, env = "FAKE_OIDC_ROLE_CLAIM", default_value = "nightowl_role")]
    role_claim: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let key = SigningKey::generate("fake-oidc-1");
    let issuer = Issuer::start_on(([127, 0, 0, 1], args.port).into(), &[&key]).await;
    issuer.register(Registration {
        client_id: args.client_id,
        client_secret: args.client_secret,
        redirect_uri: args.redirect_uri,
    });
    let mut user = json!({
        "sub": args.subject.unwrap_or_else(|| format!("sub-{}", args.email)),
        "email": args.email,
        "email_verified": true,
        "name": args.name,
    });
    user[&args.tenant_claim] = Value::String(args.tenant);
    if let Some(role) = args.role {
        user[&args.role_claim] = Value::String(role);
    }
    issuer.set_user(user);
    println!("fake-oidc listening on {}", issuer.url);
    std::io::stdout().flush().expect("stdout");
    std::future::pending::<()>().await;
}

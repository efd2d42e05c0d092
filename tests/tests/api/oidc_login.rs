//! Single sign-on in the browser, end to end: the authorization code flow with PKCE against the fake
//! provider (`nightowl_tests::jwks::Issuer`), driven as a browser drives it (no redirect followed
//! without looking at it, cookies kept by hand), with a Redis of the test's own.

use std::collections::BTreeMap;

use base64::Engine as _;
use nightowl_tests::jwks::{Issuer, Registration, SigningKey};
use nightowl_tests::{TestApp, TestTenant, free_port, send, start_redis, until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "nightowl-web";
/// Characters HTTP basic authentication must form-encode (RFC 6749 section 2.3.1).
const CLIENT_SECRET: &str = "s3cret/with:odd chars";
/// Where NightOwl says it is: the issuer sends the browser back to this origin.
const PUBLIC_URL: &str = "https://nightowl.example";

/// A `redis-server` of the test's own, stopped with it.
struct RedisServer(std::process::Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// NightOwl with single sign-on through a fake provider, and a tenant whose manager the provider
/// signs in.
struct Sso {
    app: TestApp,
    issuer: Issuer,
    tenant: TestTenant,
    _redis: RedisServer,
}

impl Sso {
    async fn start() -> Sso {
        let port = free_port();
        let redis = RedisServer(start_redis(port));
        until("redis to listen", || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await;
        let issuer = Issuer::start(&[&SigningKey::generate("key-1")]).await;
        let issuer_url = issuer.url.clone();
        let app = TestApp::spawn_with(|c| {
            c.oidc_issuer = Some(issuer_url);
            c.oidc_client_id = Some(CLIENT_ID.into());
            c.oidc_client_secret = Some(CLIENT_SECRET.into());
            c.public_url = PUBLIC_URL.into();
            c.redis_url = Some(format!("redis://127.0.0.1:{port}"));
        })
        .await;
        issuer.register(Registration {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: format!("{PUBLIC_URL}/auth/oidc/callback"),
        });
        let tenant = app.tenant().await;
        issuer.set_user(json!({
            "sub": "sub-olga", "email": "olga@acme.example", "name": "Olga Oidc",
            "nightowl_tenant": tenant.tenant.slug.as_str(), "nightowl_role": "manager",
        }));
        Sso {
            app,
            issuer,
            tenant,
            _redis: redis,
        }
    }

    fn browser(&self) -> Browser<'_> {
        Browser {
            app: &self.app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    /// The tenant's users, as its admin lists them.
    async fn users(&self) -> Vec<Value> {
        let (status, body) = send(
            self.app
                .as_key(&self.tenant.admin_key, Method::GET, "/api/v1/users"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().unwrap().clone()
    }
}

/// One answer as a browser sees it.
struct Answer {
    status: StatusCode,
    location: String,
    set_cookies: Vec<String>,
}

impl Answer {
    /// The `Set-Cookie` of the cookie `name`.
    fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .map(String::as_str)
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// A browser: follows nothing by itself, keeps NightOwl's cookies and sends them back to it.
struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser<'_> {
    async fn get(&mut self, url: &str) -> Answer {
        // The issuer sends the browser to NightOwl's public URL, which is this test's server.
        let nightowl = url
            .strip_prefix(PUBLIC_URL)
            .or_else(|| url.starts_with('/').then_some(url));
        let mut request = match nightowl {
            Some(path) => self.http.get(format!("{}{path}", self.app.base)),
            None => self.http.get(url),
        };
        if nightowl.is_some() && !self.cookies.is_empty() {
            let header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        let response = request.send().await.unwrap();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for cookie in &set_cookies {
            let (name, value) = cookie.split(';').next().unwrap().split_once('=').unwrap();
            if cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            set_cookies,
        }
    }

    /// Starts the sign-in and lets the provider answer: where the provider sends the browser back.
    async fn visit_provider(&mut self, next: &str) -> String {
        let start = self.get(&format!("/auth/oidc/login?next={}", encode(next))).await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.location);
        let back = self.get(&start.location).await;
        assert_eq!(back.status, StatusCode::FOUND, "{}", back.location);
        back.location
    }

    /// The whole sign-in: the callback's answer.
    async fn sign_in(&mut self, next: &str) -> Answer {
        let callback = self.visit_provider(next).await;
        self.get(&callback).await
    }

    /// Who NightOwl takes this browser for.
    async fn ping(&mut self) -> (StatusCode, Value) {
        let cookie = self
            .cookies
            .get("nightowl_session")
            .map(|v| format!("nightowl_session={v}"))
            .unwrap_or_default();
        send(
            self.app
                .request(Method::GET, "/api/v1/ping")
                .header("cookie", cookie),
        )
        .await
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn query(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

#[tokio::test]
async fn sso_signs_in_the_mapped_user_with_pkce_and_lands_on_next() {
    let sso = Sso::start().await;
    let mut browser = sso.browser();

    let start = browser
        .get("/auth/oidc/login?next=%2Falerts%2F42%3Fsort%3Doldest")
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    assert!(
        start
            .location
            .starts_with(&format!("{}/authorize?", sso.issuer.url)),
        "{}",
        start.location
    );
    let asked = query(&start.location);
    assert_eq!(asked["response_type"], "code");
    assert_eq!(asked["client_id"], CLIENT_ID);
    assert_eq!(asked["redirect_uri"], format!("{PUBLIC_URL}/auth/oidc/callback"));
    assert_eq!(asked["scope"], "openid email profile");
    assert_eq!(asked["code_challenge_method"], "S256");
    for random in ["state", "nonce", "code_challenge"] {
        assert!(asked[random].len() >= 20, "{random}: {}", asked[random]);
    }
    let state_cookie = start.set_cookie("nightowl_oidc_state").expect("state cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/auth/oidc", "Max-Age=600"] {
        assert!(state_cookie.contains(attribute), "{state_cookie}");
    }
    assert!(state_cookie.starts_with(&format!("nightowl_oidc_state={};", asked["state"])));

    let back = browser.get(&start.location).await;
    let done = browser.get(&back.location).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location, "/alerts/42?sort=oldest");
    let session = done.set_cookie("nightowl_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/;"),
        "{session}"
    );
    assert!(
        done.set_cookie("nightowl_oidc_state")
            .unwrap()
            .contains("Max-Age=0"),
        "the state cookie is cleared"
    );

    let (status, me) = browser.ping().await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["actor_type"], "user");
    assert_eq!(me["actor_label"], "olga@acme.example");
    assert_eq!(me["role"], "manager", "the role claim sets the role");
    assert_eq!(me["tenant"], sso.tenant.tenant.slug.as_str());
    let users = sso.users().await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["display_name"], "Olga Oidc");

    // The provider got the code's verifier, authenticated as the client, from the same redirect URI.
    let exchanges = sso.issuer.token_requests();
    assert_eq!(exchanges.len(), 1);
    let exchange = &exchanges[0];
    assert_eq!(exchange.answer, "ok");
    assert_eq!(exchange.client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(exchange.form["redirect_uri"], asked["redirect_uri"]);
    let verifier = &exchange.form["code_verifier"];
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    assert_eq!(challenge, asked["code_challenge"]);
    assert!(
        !exchange.form.contains_key("client_secret"),
        "the secret goes in the Authorization header"
    );

    // A second sign-in finds the same user.
    let mut again = sso.browser();
    assert_eq!(again.sign_in("/").await.location, "/");
    assert_eq!(again.ping().await.1["actor_id"], me["actor_id"]);
    assert_eq!(sso.users().await.len(), 1);
}

#[tokio::test]
async fn a_callback_whose_state_is_not_this_browsers_is_refused() {
    let sso = Sso::start().await;

    // The state cookie names another sign-in.
    let mut browser = sso.browser();
    let callback = browser.visit_provider("/").await;
    browser
        .cookies
        .insert("nightowl_oidc_state".into(), "someone-elses-state".into());
    let answer = browser.get(&callback).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location, "/login?error=oidc_state_mismatch");
    assert!(answer.set_cookie("nightowl_session").is_none());

    // A callback link opened in a browser that never started a sign-in (login CSRF).
    let mut attacker = sso.browser();
    let callback = attacker.visit_provider("/").await;
    let mut victim = sso.browser();
    let answer = victim.get(&callback).await;
    assert_eq!(answer.location, "/login?error=oidc_state_mismatch");
    assert!(answer.set_cookie("nightowl_session").is_none());

    assert_eq!(victim.ping().await.0, StatusCode::UNAUTHORIZED);
    assert!(sso.issuer.token_requests().is_empty(), "no code was exchanged");
    assert!(sso.users().await.is_empty());
}

#[tokio::test]
async fn a_callback_completes_once() {
    let sso = Sso::start().await;
    let mut browser = sso.browser();
    let callback = browser.visit_provider("/").await;
    let state = browser.cookies["nightowl_oidc_state"].clone();
    let first = browser.get(&callback).await;
    assert_eq!(first.location, "/");
    assert!(first.set_cookie("nightowl_session").is_some());

    // Replayed with the state cookie put back: the state's record is gone.
    let mut replay = sso.browser();
    replay.cookies.insert("nightowl_oidc_state".into(), state);
    let second = replay.get(&callback).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(second.location, "/login?error=oidc_state_mismatch");
    assert!(second.set_cookie("nightowl_session").is_none());
    assert_eq!(
        sso.issuer.token_requests().len(),
        1,
        "the code was exchanged once"
    );
}

#[tokio::test]
async fn an_id_token_with_a_wrong_nonce_or_audience_is_rejected_and_writes_nothing() {
    let sso = Sso::start().await;
    for tampered in [
        json!({ "nonce": "not-the-nonce-of-this-sign-in" }),
        json!({ "aud": "someone-else" }),
        json!({ "iss": "https://evil.example" }),
        json!({ "exp": chrono::Utc::now().timestamp() - 3600 }),
    ] {
        sso.issuer.tamper_id_tokens(tampered.clone());
        let mut browser = sso.browser();
        let answer = browser.sign_in("/alerts").await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{tampered}");
        assert_eq!(answer.location, "/login?error=oidc_token_rejected", "{tampered}");
        assert!(answer.set_cookie("nightowl_session").is_none(), "{tampered}");
        assert!(
            !answer.location.contains("id_token") && !answer.location.contains("code="),
            "{tampered}"
        );
        assert_eq!(browser.ping().await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sso.issuer.token_requests().len(), 4, "each code was exchanged");
    assert!(sso.users().await.is_empty(), "no user was created");

    // The same provider, untampered, signs in.
    sso.issuer.tamper_id_tokens(json!({}));
    assert_eq!(sso.browser().sign_in("/alerts").await.location, "/alerts");
    assert_eq!(sso.users().await.len(), 1);
}

#[tokio::test]
async fn an_existing_account_is_linked_only_through_a_verified_email_and_never_taken_over() {
    let sso = Sso::start().await;
    let slug = sso.tenant.tenant.slug.as_str().to_owned();
    let (status, body) = send(
        sso.app
            .as_key(&sso.tenant.admin_key, Method::POST, "/api/v1/users")
            .json(&json!({ "email": "Olga@acme.example", "display_name": "Olga", "role": "engineer" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let olga = body["id"].clone();
    let as_provider_says = |sub: &str, verified: Option<bool>| {
        let mut user = json!({ "sub": sub, "email": "olga@acme.example", "name": "Olga Oidc",
                               "nightowl_tenant": slug });
        if let Some(verified) = verified {
            user["email_verified"] = json!(verified);
        }
        user
    };

    // The provider does not vouch for the e-mail: the existing account is not handed over.
    for verified in [None, Some(false)] {
        sso.issuer.set_user(as_provider_says("sub-olga", verified));
        let mut browser = sso.browser();
        let answer = browser.sign_in("/").await;
        assert_eq!(
            answer.location, "/login?error=oidc_account_conflict",
            "{verified:?}"
        );
        assert!(answer.set_cookie("nightowl_session").is_none());
        assert_eq!(browser.ping().await.0, StatusCode::UNAUTHORIZED);
    }

    // A verified e-mail links the account; the stored role stays when the token names none.
    sso.issuer.set_user(as_provider_says("sub-olga", Some(true)));
    let mut browser = sso.browser();
    assert_eq!(browser.sign_in("/").await.location, "/");
    let (_, me) = browser.ping().await;
    assert_eq!(me["actor_id"], olga);
    assert_eq!(me["role"], "engineer");

    // Another identity at the same provider claiming the same verified e-mail is refused, and the
    // link stays with the first one.
    sso.issuer.set_user(as_provider_says("sub-mallory", Some(true)));
    let answer = sso.browser().sign_in("/").await;
    assert_eq!(answer.location, "/login?error=oidc_account_conflict");
    assert!(answer.set_cookie("nightowl_session").is_none());
    sso.issuer.set_user(as_provider_says("sub-olga", None));
    let mut again = sso.browser();
    assert_eq!(
        again.sign_in("/").await.location,
        "/",
        "the linked subject signs in by subject"
    );
    assert_eq!(again.ping().await.1["actor_id"], olga);
    assert_eq!(sso.users().await.len(), 1, "no account was created on the side");
}

#[tokio::test]
async fn one_address_cannot_leave_more_than_thirty_sign_ins_pending() {
    let sso = Sso::start().await;
    let starts_at_the_provider = |answer: &Answer| {
        answer.status == StatusCode::SEE_OTHER && answer.location.starts_with(&sso.issuer.url)
    };
    for n in 0..29 {
        let answer = sso.browser().get("/auth/oidc/login?next=%2F").await;
        assert!(starts_at_the_provider(&answer), "start {n}: {}", answer.location);
    }
    // A sign-in that finishes gives its start back.
    assert_eq!(sso.browser().sign_in("/").await.location, "/");
    assert!(starts_at_the_provider(
        &sso.browser().get("/auth/oidc/login").await
    ));

    let refused = sso.browser().get("/auth/oidc/login").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(refused.location, "/login?error=oidc_too_many");
    assert!(
        refused.set_cookie("nightowl_oidc_state").is_none(),
        "no state was stored"
    );
    assert_eq!(sso.issuer.token_requests().len(), 1);
}

#[tokio::test]
async fn a_tenant_claim_naming_no_tenant_is_refused() {
    let sso = Sso::start().await;
    sso.issuer
        .set_user(json!({ "sub": "sub-x", "email": "x@acme.example", "nightowl_tenant": "t_nosuchtenant" }));
    let answer = sso.browser().sign_in("/").await;
    assert_eq!(answer.location, "/login?error=oidc_unknown_tenant");
    assert!(answer.set_cookie("nightowl_session").is_none());
    assert!(sso.users().await.is_empty());
}

#[tokio::test]
async fn the_provider_refusing_sends_the_person_back_to_the_sign_in_page() {
    let sso = Sso::start().await;
    sso.issuer.deny(true);
    let mut browser = sso.browser();
    let callback = browser.visit_provider("/alerts").await;
    assert_eq!(query(&callback)["error"], "access_denied");
    let answer = browser.get(&callback).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location, "/login?error=oidc_denied");
    assert!(answer.set_cookie("nightowl_session").is_none());
    assert!(sso.issuer.token_requests().is_empty());
    assert!(sso.users().await.is_empty());
}

#[tokio::test]
async fn next_outside_this_site_lands_on_the_start_page() {
    let sso = Sso::start().await;
    for next in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "evil.example/alerts",
        "javascript:alert(1)",
    ] {
        let answer = sso.browser().sign_in(next).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(answer.location, "/", "{next}");
        assert!(answer.set_cookie("nightowl_session").is_some(), "{next}");
    }
}

#[tokio::test]
async fn a_signing_key_rotated_during_a_sign_in_is_picked_up() {
    let sso = Sso::start().await;
    let mut browser = sso.browser();
    let callback = browser.visit_provider("/").await;
    // Past the least interval between two discoveries, the provider signs with a new key.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    sso.issuer.publish(&SigningKey::generate("key-2"));
    let answer = browser.get(&callback).await;
    assert_eq!(answer.location, "/");
    assert_eq!(browser.ping().await.0, StatusCode::OK);
}

#[tokio::test]
async fn auth_methods_offer_sso_only_when_it_is_configured() {
    let plain = TestApp::spawn().await;
    let (status, methods) = send(plain.request(Method::GET, "/api/v1/auth/methods")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(methods, json!({ "password": true, "oidc": null }));
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/auth/oidc/login?next=/", plain.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], "/login?error=oidc_not_configured");

    let sso = Sso::start().await;
    let (status, methods) = send(sso.app.request(Method::GET, "/api/v1/auth/methods")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        methods,
        json!({ "password": true, "oidc": { "login_url": "/auth/oidc/login" } })
    );
}

//! Requests as Slack sends them to an app, for tests that play Slack towards NightOwl: the `v0`
//! request signature (`X-Slack-Signature`, HMAC-SHA256 over `v0:<timestamp>:<body>` with the app's
//! signing secret) and the bodies of an Events API `url_verification`, a slash command, a
//! `block_actions` click and a `view_submission`, with the fields Slack sends.
//!
//! Slash commands and interactions are forms (`application/x-www-form-urlencoded`; an interaction's
//! one field `payload` holds its JSON); events are JSON.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::slack::{APP_ID, TEAM_ID};

/// The content type of slash commands and interactions.
pub const FORM: &str = "application/x-www-form-urlencoded";
/// The content type of Events API requests.
pub const JSON: &str = "application/json";

/// The `X-Slack-Signature` of `body` sent at `timestamp` (Unix seconds): `v0=` and the hex HMAC-SHA256
/// of `v0:<timestamp>:<body>` keyed with the signing secret.
pub fn sign(secret: &str, timestamp: i64, body: impl AsRef<[u8]>) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body.as_ref());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The current time in Unix seconds, for `X-Slack-Request-Timestamp` (receivers refuse requests more
/// than five minutes off their clock).
pub fn now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit in i64")
}

/// A signed request body and the headers Slack sends with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// `X-Slack-Request-Timestamp`.
    pub timestamp: i64,
    /// `X-Slack-Signature`.
    pub signature: String,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body, exactly as signed.
    pub body: String,
}

impl SignedRequest {
    /// Signs `body` with `secret` as sent at `timestamp`.
    pub fn new(secret: &str, timestamp: i64, content_type: &'static str, body: String) -> SignedRequest {
        SignedRequest {
            timestamp,
            signature: sign(secret, timestamp, &body),
            content_type,
            body,
        }
    }

    /// The headers to send: content type, timestamp and signature (lowercase names).
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("content-type", self.content_type.to_owned()),
            ("x-slack-request-timestamp", self.timestamp.to_string()),
            ("x-slack-signature", self.signature.clone()),
        ]
    }
}

/// The Events API `url_verification` request body (JSON) Slack sends when the events URL is set; the
/// app must answer the `challenge`.
pub fn url_verification(token: &str, challenge: &str) -> String {
    json!({ "token": token, "challenge": challenge, "type": "url_verification" }).to_string()
}

/// The enterprise grid organisation a workspace belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enterprise {
    /// `E…` id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A slash command invocation (a form). `Default` gives a member of the [fake workspace](TEAM_ID)
/// typing `/nightowl` in `#alerts`; set `response_url` to a [`FakeSlack`](crate::FakeSlack)'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand {
    /// The deprecated verification token.
    pub token: String,
    /// The workspace's id.
    pub team_id: String,
    /// The workspace's subdomain.
    pub team_domain: String,
    /// The organisation, on enterprise grid.
    pub enterprise: Option<Enterprise>,
    /// Where it was typed.
    pub channel_id: String,
    /// That channel's name, without `#`.
    pub channel_name: String,
    /// Who typed it.
    pub user_id: String,
    /// Their user name.
    pub user_name: String,
    /// The command, with its slash: `/nightowl`.
    pub command: String,
    /// Everything after the command.
    pub text: String,
    /// The app's id (left out when `None`).
    pub api_app_id: Option<String>,
    /// Where to send delayed answers (valid for 30 minutes and 5 uses).
    pub response_url: String,
    /// What `views.open` takes to open a modal for the user.
    pub trigger_id: String,
}

impl Default for SlashCommand {
    fn default() -> Self {
        SlashCommand {
            token: "verification_token".into(),
            team_id: TEAM_ID.into(),
            team_domain: "nightowl-fake".into(),
            enterprise: None,
            channel_id: "C0ALERTS".into(),
            channel_name: "alerts".into(),
            user_id: "U0ONCALL".into(),
            user_name: "oncall".into(),
            command: "/nightowl".into(),
            text: String::new(),
            api_app_id: Some(APP_ID.into()),
            response_url: format!("https://hooks.slack.com/commands/{TEAM_ID}/1/fake"),
            trigger_id: new_trigger_id(),
        }
    }
}

impl SlashCommand {
    /// `command` with `text`, the rest [default](SlashCommand::default).
    pub fn new(command: &str, text: &str) -> SlashCommand {
        SlashCommand {
            command: command.into(),
            text: text.into(),
            ..SlashCommand::default()
        }
    }

    /// The form body, fields in Slack's order.
    pub fn form(&self) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", &self.token)
            .append_pair("team_id", &self.team_id)
            .append_pair("team_domain", &self.team_domain)
            .append_pair("channel_id", &self.channel_id)
            .append_pair("channel_name", &self.channel_name)
            .append_pair("user_id", &self.user_id)
            .append_pair("user_name", &self.user_name)
            .append_pair("command", &self.command)
            .append_pair("text", &self.text);
        if let Some(e) = &self.enterprise {
            form.append_pair("enterprise_id", &e.id)
                .append_pair("enterprise_name", &e.name);
        }
        form.append_pair("response_url", &self.response_url)
            .append_pair("trigger_id", &self.trigger_id);
        if let Some(api_app_id) = &self.api_app_id {
            form.append_pair("api_app_id", api_app_id);
        }
        form.finish()
    }

    /// The form, signed with `secret` at `timestamp`.
    pub fn signed(&self, secret: &str, timestamp: i64) -> SignedRequest {
        SignedRequest::new(secret, timestamp, FORM, self.form())
    }
}

/// A `block_actions` interaction: a click on a button of a message. `Default` gives a member clicking
/// a button of a bot message in `#alerts`; set `action_id`, `value`, `message_ts` and `response_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockAction {
    /// The deprecated verification token.
    pub token: String,
    /// The app's id.
    pub api_app_id: String,
    /// The workspace's id.
    pub team_id: String,
    /// The workspace's subdomain.
    pub team_domain: String,
    /// The organisation, on enterprise grid.
    pub enterprise: Option<Enterprise>,
    /// Who clicked.
    pub user_id: String,
    /// Their user name.
    pub user_name: String,
    /// Where the message is.
    pub channel_id: String,
    /// That channel's name, without `#`.
    pub channel_name: String,
    /// The clicked message's `ts`.
    pub message_ts: String,
    /// Whether the clicked message is ephemeral (Slack then sends no `message`).
    pub is_ephemeral: bool,
    /// What `views.open` takes to open a modal for the user.
    pub trigger_id: String,
    /// Where to answer the click later (valid for 30 minutes and 5 uses).
    pub response_url: String,
    /// The button's `action_id`.
    pub action_id: String,
    /// The `block_id` of the block holding the button.
    pub block_id: String,
    /// The button's label.
    pub button_text: String,
    /// The button's `value`.
    pub value: String,
    /// When it was clicked.
    pub action_ts: String,
}

impl Default for BlockAction {
    fn default() -> Self {
        BlockAction {
            token: "verification_token".into(),
            api_app_id: APP_ID.into(),
            team_id: TEAM_ID.into(),
            team_domain: "nightowl-fake".into(),
            enterprise: None,
            user_id: "U0ONCALL".into(),
            user_name: "oncall".into(),
            channel_id: "C0ALERTS".into(),
            channel_name: "alerts".into(),
            message_ts: "1700000000.000100".into(),
            is_ephemeral: false,
            trigger_id: new_trigger_id(),
            response_url: format!("https://hooks.slack.com/actions/{TEAM_ID}/1/fake"),
            action_id: "button".into(),
            block_id: "actions".into(),
            button_text: "Button".into(),
            value: String::new(),
            action_ts: format!("{}.000001", now()),
        }
    }
}

impl BlockAction {
    /// A click on the button `action_id` carrying `value` of the message at `message_ts`.
    pub fn new(action_id: &str, value: &str, message_ts: &str) -> BlockAction {
        BlockAction {
            action_id: action_id.into(),
            value: value.into(),
            message_ts: message_ts.into(),
            ..BlockAction::default()
        }
    }

    /// The payload JSON.
    pub fn payload(&self) -> Value {
        let mut team = json!({ "id": self.team_id, "domain": self.team_domain });
        if let Some(e) = &self.enterprise {
            team["enterprise_id"] = e.id.clone().into();
            team["enterprise_name"] = e.name.clone().into();
        }
        let mut payload = json!({
            "type": "block_actions",
            "user": {
                "id": self.user_id,
                "username": self.user_name,
                "name": self.user_name,
                "team_id": self.team_id,
            },
            "api_app_id": self.api_app_id,
            "token": self.token,
            "container": {
                "type": "message",
                "message_ts": self.message_ts,
                "channel_id": self.channel_id,
                "is_ephemeral": self.is_ephemeral,
            },
            "trigger_id": self.trigger_id,
            "team": team,
            "channel": { "id": self.channel_id, "name": self.channel_name },
            "response_url": self.response_url,
            "actions": [{
                "action_id": self.action_id,
                "block_id": self.block_id,
                "text": { "type": "plain_text", "text": self.button_text, "emoji": true },
                "value": self.value,
                "type": "button",
                "action_ts": self.action_ts,
            }],
        });
        if !self.is_ephemeral {
            // Slack shows the app the message clicked on (not an ephemeral one).
            payload["message"] = json!({ "type": "message", "ts": self.message_ts });
        }
        payload
    }

    /// The form body: `payload=<JSON>`.
    pub fn form(&self) -> String {
        payload_form(&self.payload())
    }

    /// The form, signed with `secret` at `timestamp`.
    pub fn signed(&self, secret: &str, timestamp: i64) -> SignedRequest {
        SignedRequest::new(secret, timestamp, FORM, self.form())
    }
}

/// A `view_submission` interaction: a modal's submit button. `Default` gives an empty submission of a
/// modal of the fake app; set `callback_id` and `private_metadata` and add what was entered with
/// [`ViewSubmission::input`] and [`ViewSubmission::select`].
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSubmission {
    /// The deprecated verification token.
    pub token: String,
    /// The app's id.
    pub api_app_id: String,
    /// The workspace's id.
    pub team_id: String,
    /// The workspace's subdomain.
    pub team_domain: String,
    /// Who submitted.
    pub user_id: String,
    /// Their user name.
    pub user_name: String,
    /// What `views.push` would take to stack another modal.
    pub trigger_id: String,
    /// The modal's id (`views.open` answers it).
    pub view_id: String,
    /// The modal's `callback_id`, as opened.
    pub callback_id: String,
    /// The modal's `private_metadata`, as opened.
    pub private_metadata: String,
    /// `view.state.values`: block_id → action_id → the element's state.
    pub values: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Default for ViewSubmission {
    fn default() -> Self {
        ViewSubmission {
            token: "verification_token".into(),
            api_app_id: APP_ID.into(),
            team_id: TEAM_ID.into(),
            team_domain: "nightowl-fake".into(),
            user_id: "U0ONCALL".into(),
            user_name: "oncall".into(),
            trigger_id: new_trigger_id(),
            view_id: "V0FAKEVIEW".into(),
            callback_id: String::new(),
            private_metadata: String::new(),
            values: BTreeMap::new(),
        }
    }
}

impl ViewSubmission {
    /// A submission of the modal `callback_id` that carried `private_metadata`.
    pub fn new(callback_id: &str, private_metadata: &str) -> ViewSubmission {
        ViewSubmission {
            callback_id: callback_id.into(),
            private_metadata: private_metadata.into(),
            ..ViewSubmission::default()
        }
    }

    /// Adds text typed into a `plain_text_input`.
    pub fn input(mut self, block_id: &str, action_id: &str, text: &str) -> ViewSubmission {
        self.set(
            block_id,
            action_id,
            json!({ "type": "plain_text_input", "value": text }),
        );
        self
    }

    /// Adds the option `value` chosen in a `static_select`.
    pub fn select(mut self, block_id: &str, action_id: &str, value: &str) -> ViewSubmission {
        let option =
            json!({ "text": { "type": "plain_text", "text": value, "emoji": true }, "value": value });
        self.set(
            block_id,
            action_id,
            json!({ "type": "static_select", "selected_option": option }),
        );
        self
    }

    fn set(&mut self, block_id: &str, action_id: &str, state: Value) {
        self.values
            .entry(block_id.to_owned())
            .or_default()
            .insert(action_id.to_owned(), state);
    }

    /// The payload JSON.
    pub fn payload(&self) -> Value {
        let values: Map<String, Value> = self
            .values
            .iter()
            .map(|(block, actions)| {
                let actions: Map<String, Value> =
                    actions.iter().map(|(a, s)| (a.clone(), s.clone())).collect();
                (block.clone(), Value::Object(actions))
            })
            .collect();
        json!({
            "type": "view_submission",
            "team": { "id": self.team_id, "domain": self.team_domain },
            "user": {
                "id": self.user_id,
                "username": self.user_name,
                "name": self.user_name,
                "team_id": self.team_id,
            },
            "api_app_id": self.api_app_id,
            "token": self.token,
            "trigger_id": self.trigger_id,
            "view": {
                "id": self.view_id,
                "team_id": self.team_id,
                "type": "modal",
                "blocks": [],
                "private_metadata": self.private_metadata,
                "callback_id": self.callback_id,
                "state": { "values": values },
                "hash": format!("{}.fakehash", now()),
                "title": { "type": "plain_text", "text": "NightOwl" },
                "clear_on_close": false,
                "notify_on_close": false,
                "close": { "type": "plain_text", "text": "Cancel" },
                "submit": { "type": "plain_text", "text": "Submit" },
                "previous_view_id": null,
                "root_view_id": self.view_id,
                "app_id": self.api_app_id,
                "external_id": "",
                "app_installed_team_id": self.team_id,
                "bot_id": crate::slack::BOT_ID,
            },
            "response_urls": [],
            "is_enterprise_install": false,
        })
    }

    /// The form body: `payload=<JSON>`.
    pub fn form(&self) -> String {
        payload_form(&self.payload())
    }

    /// The form, signed with `secret` at `timestamp`.
    pub fn signed(&self, secret: &str, timestamp: i64) -> SignedRequest {
        SignedRequest::new(secret, timestamp, FORM, self.form())
    }
}

/// An interaction form: one field, `payload`, holding the JSON.
fn payload_form(payload: &Value) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

/// A trigger id in Slack's shape (`<digits>.<digits>.<hex>`), different each time: the fake's
/// `views.open` takes a trigger once.
fn new_trigger_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}.{}.{:032x}", 1_700_000_000 + n, std::process::id(), n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_changes_with_secret_time_and_body() {
        let base = sign("secret", 1, "a=b");
        assert!(base.starts_with("v0=") && base.len() == 3 + 64, "{base}");
        assert_ne!(base, sign("secret2", 1, "a=b"));
        assert_ne!(base, sign("secret", 2, "a=b"));
        assert_ne!(base, sign("secret", 1, "a=c"));
    }

    #[test]
    fn signed_requests_carry_slacks_headers() {
        let r = SignedRequest::new("s", 42, JSON, url_verification("t", "c"));
        let headers = r.headers();
        assert_eq!(headers[0], ("content-type", "application/json".to_owned()));
        assert_eq!(headers[1], ("x-slack-request-timestamp", "42".to_owned()));
        assert_eq!(headers[2], ("x-slack-signature", sign("s", 42, &r.body)));
    }

    #[test]
    fn trigger_ids_differ() {
        assert_ne!(
            BlockAction::default().trigger_id,
            BlockAction::default().trigger_id
        );
    }

    #[test]
    fn a_submission_carries_what_was_entered() {
        let p = ViewSubmission::new("kb_add", r#"{"alert_id":"a"}"#)
            .input("title", "value", "Disk full")
            .select("severity", "value", "major")
            .payload();
        assert_eq!(p["view"]["callback_id"], "kb_add");
        assert_eq!(p["view"]["private_metadata"], r#"{"alert_id":"a"}"#);
        assert_eq!(
            p["view"]["state"]["values"]["title"]["value"]["value"],
            "Disk full"
        );
        assert_eq!(
            p["view"]["state"]["values"]["severity"]["value"]["selected_option"]["value"],
            "major"
        );
    }
}

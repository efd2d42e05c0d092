//! The fake's Slack workspace and the Web API methods acting on it: which conversations exist and
//! which the bot is in, the messages it posted (by channel and `ts`), DMs it opened, triggers it used,
//! and for each method the argument checks Slack makes and the answer it gives.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::{APP_ID, BOT_ID, BOT_USER_ID, Message, SlackError, TEAM_ID};

/// The methods the fake knows; any other is `unknown_method`.
pub(crate) const METHODS: [&str; 6] = [
    "auth.test",
    "chat.postEphemeral",
    "chat.postMessage",
    "chat.update",
    "conversations.open",
    "views.open",
];

/// Slack's limit on blocks in a message.
const MAX_MESSAGE_BLOCKS: usize = 50;
/// Slack's limit on blocks in a modal.
const MAX_VIEW_BLOCKS: usize = 100;

/// A method's answer fields (without `ok`), or Slack's error.
pub(crate) type MethodResult = Result<Map<String, Value>, SlackError>;

/// Whether the bot is a member of a conversation it can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Membership {
    Member,
    NotMember,
}

/// The workspace as the fake's bot sees it.
#[derive(Debug)]
pub(crate) struct Workspace {
    conversations: HashMap<String, Membership>,
    /// User id → the id of the bot's DM with them.
    dms: HashMap<String, String>,
    messages: Vec<Message>,
    used_triggers: HashSet<String>,
    /// Microseconds since the epoch of the last `ts` handed out.
    clock_micros: u64,
    next_id: u64,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            conversations: HashMap::new(),
            dms: HashMap::new(),
            messages: Vec::new(),
            used_triggers: HashSet::new(),
            // The first message is 1700000000.000100.
            clock_micros: 1_700_000_000_000_000,
            next_id: 0,
        }
    }
}

impl Workspace {
    /// Adds a conversation the bot is in.
    pub(crate) fn add_channel(&mut self, id: &str) {
        self.conversations.insert(id.to_owned(), Membership::Member);
    }

    /// Adds a conversation that exists but that the bot has not joined.
    pub(crate) fn add_channel_not_joined(&mut self, id: &str) {
        self.conversations.insert(id.to_owned(), Membership::NotMember);
    }

    /// Messages posted so far, with their latest content.
    pub(crate) fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The id of the bot's DM with `user`, if it opened one.
    pub(crate) fn dm_with(&self, user: &str) -> Option<&str> {
        self.dms.get(user).map(String::as_str)
    }

    /// Runs `method` (one of [`METHODS`]) with the caller already authenticated.
    pub(crate) fn call(&mut self, method: &str, args: &Map<String, Value>) -> MethodResult {
        match method {
            "auth.test" => Ok(auth_test()),
            "chat.postMessage" => self.post_message(args),
            "chat.update" => self.update(args),
            "chat.postEphemeral" => self.post_ephemeral(args),
            "views.open" => self.open_view(args),
            "conversations.open" => self.open_conversation(args),
            other => unreachable!("{other} is not in METHODS"),
        }
    }

    fn post_message(&mut self, args: &Map<String, Value>) -> MethodResult {
        let channel = self.postable_channel(args)?;
        check_content(args, MAX_MESSAGE_BLOCKS)?;
        let ts = self.next_ts();
        let message = Message {
            channel: channel.clone(),
            ts: ts.clone(),
            thread_ts: str_arg(args, "thread_ts").map(str::to_owned),
            text: str_arg(args, "text").unwrap_or_default().to_owned(),
            blocks: args.get("blocks").cloned(),
            edits: 0,
        };
        let answer = object(json!({ "channel": channel, "ts": ts, "message": message_json(&message) }));
        self.messages.push(message);
        Ok(answer)
    }

    fn update(&mut self, args: &Map<String, Value>) -> MethodResult {
        let channel = self.known_channel(args)?;
        let ts = str_arg(args, "ts").ok_or_else(|| SlackError::missing_field("ts"))?;
        check_content(args, MAX_MESSAGE_BLOCKS)?;
        let message = self
            .messages
            .iter_mut()
            .find(|m| m.channel == channel && m.ts == ts)
            .ok_or_else(|| SlackError::new("message_not_found"))?;
        if let Some(text) = str_arg(args, "text") {
            text.clone_into(&mut message.text);
        }
        // As Slack: blocks left out keep the message's blocks; an empty array removes them.
        if let Some(blocks) = args.get("blocks") {
            message.blocks = Some(blocks.clone()).filter(|b| b.as_array().is_some_and(|a| !a.is_empty()));
        }
        message.edits += 1;
        Ok(object(json!({
            "channel": channel,
            "ts": ts,
            "text": message.text,
            "message": message_json(message),
        })))
    }

    fn post_ephemeral(&mut self, args: &Map<String, Value>) -> MethodResult {
        self.postable_channel(args)?;
        if str_arg(args, "user").is_none() {
            return Err(SlackError::missing_field("user"));
        }
        check_content(args, MAX_MESSAGE_BLOCKS)?;
        Ok(object(json!({ "message_ts": self.next_ts() })))
    }

    fn open_view(&mut self, args: &Map<String, Value>) -> MethodResult {
        let view = match args.get("view") {
            None => return Err(SlackError::missing_field("view")),
            Some(Value::Object(view)) => view,
            Some(_) => {
                return Err(SlackError::invalid_arguments(
                    "[ERROR] failed to parse view: not a JSON object",
                ));
            }
        };
        let trigger = str_arg(args, "trigger_id")
            .or_else(|| str_arg(args, "interactivity_pointer"))
            .ok_or_else(|| SlackError::missing_field("trigger_id"))?;
        check_view(view)?;
        // A trigger opens one view; Slack refuses it the second time.
        if !self.used_triggers.insert(trigger.to_owned()) {
            return Err(SlackError::new("exchanged_trigger_id"));
        }
        let id = format!("V{}", self.next_id());
        let mut opened = view.clone();
        for (key, default) in [
            ("private_metadata", json!("")),
            ("callback_id", json!("")),
            ("external_id", json!("")),
            ("clear_on_close", json!(false)),
            ("notify_on_close", json!(false)),
        ] {
            opened.entry(key).or_insert(default);
        }
        opened.extend(object(json!({
            "id": id,
            "team_id": TEAM_ID,
            "state": { "values": {} },
            "hash": format!("{}.{}", self.clock_micros / 1_000_000, self.next_id()),
            "previous_view_id": null,
            "root_view_id": id,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        })));
        Ok(object(json!({ "view": opened })))
    }

    fn open_conversation(&mut self, args: &Map<String, Value>) -> MethodResult {
        if let Some(channel) = str_arg(args, "channel") {
            return match self.conversations.get(channel) {
                Some(_) => Ok(object(json!({ "channel": { "id": channel } }))),
                None if self.dms.values().any(|d| d == channel) => {
                    Ok(object(json!({ "channel": { "id": channel } })))
                }
                None => Err(SlackError::new("channel_not_found")),
            };
        }
        let users: Vec<&str> = str_arg(args, "users")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        match users.as_slice() {
            [] => Err(SlackError::new("users_list_not_supplied")),
            [user] if is_user_id(user) => Ok(object(json!({ "channel": { "id": self.dm(user) } }))),
            users if users.iter().all(|u| is_user_id(u)) => {
                // A group DM: Slack answers a G… id.
                let id = format!("G{}", self.next_id());
                self.add_channel(&id);
                Ok(object(json!({ "channel": { "id": id } })))
            }
            _ => Err(SlackError::new("user_not_found")),
        }
    }

    /// The conversation a message may be posted to: a channel the bot is in, a DM it opened, or a
    /// user id (Slack posts to the bot's DM with them and answers the DM's id).
    fn postable_channel(&mut self, args: &Map<String, Value>) -> Result<String, SlackError> {
        let channel = str_arg(args, "channel").ok_or_else(|| SlackError::new("channel_not_found"))?;
        if is_user_id(channel) {
            return Ok(self.dm(channel));
        }
        match self.conversations.get(channel) {
            Some(Membership::Member) => Ok(channel.to_owned()),
            Some(Membership::NotMember) => Err(SlackError::new("not_in_channel")),
            None if self.dms.values().any(|d| d == channel) => Ok(channel.to_owned()),
            None => Err(SlackError::new("channel_not_found")),
        }
    }

    /// A conversation that exists (for methods that find a message in it).
    fn known_channel(&self, args: &Map<String, Value>) -> Result<String, SlackError> {
        let channel = str_arg(args, "channel").ok_or_else(|| SlackError::new("channel_not_found"))?;
        let known = self.conversations.contains_key(channel) || self.dms.values().any(|d| d == channel);
        known
            .then(|| channel.to_owned())
            .ok_or_else(|| SlackError::new("channel_not_found"))
    }

    /// The bot's DM with `user`, opened on first use.
    fn dm(&mut self, user: &str) -> String {
        if let Some(id) = self.dms.get(user) {
            return id.clone();
        }
        let id = format!("D{}", self.next_id());
        self.dms.insert(user.to_owned(), id.clone());
        id
    }

    /// The next message timestamp: strictly increasing across the workspace, 100 µs apart.
    fn next_ts(&mut self) -> String {
        self.clock_micros += 100;
        format!(
            "{}.{:06}",
            self.clock_micros / 1_000_000,
            self.clock_micros % 1_000_000
        )
    }

    /// A fresh suffix for ids (`V…`, `D…`, `G…`): uppercase alphanumerics as Slack's.
    fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("0FAKE{:04}", self.next_id)
    }
}

fn auth_test() -> Map<String, Value> {
    object(json!({
        "url": "https://nightowl-fake.slack.com/",
        "team": "NightOwl Fake",
        "user": "nightowl",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": false,
    }))
}

/// A posted message as Slack shows it in answers.
fn message_json(m: &Message) -> Value {
    let mut message = object(json!({
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": TEAM_ID,
        "text": m.text,
        "ts": m.ts,
    }));
    if let Some(blocks) = &m.blocks {
        message.insert("blocks".into(), blocks.clone());
    }
    if let Some(thread_ts) = &m.thread_ts {
        message.insert("thread_ts".into(), thread_ts.clone().into());
    }
    Value::Object(message)
}

/// Slack's rule for message content: `text`, `blocks` or `attachments`, and blocks that are blocks.
fn check_content(args: &Map<String, Value>, max_blocks: usize) -> Result<(), SlackError> {
    let text = str_arg(args, "text").is_some_and(|t| !t.is_empty());
    let blocks = match args.get("blocks") {
        None => false,
        Some(Value::Array(blocks)) => {
            check_blocks(blocks, "/blocks", max_blocks).map_err(SlackError::invalid_blocks)?;
            !blocks.is_empty()
        }
        Some(_) => return Err(SlackError::new("invalid_blocks_format")),
    };
    let attachments = args
        .get("attachments")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if text || blocks || attachments {
        Ok(())
    } else {
        Err(SlackError::new("no_text"))
    }
}

/// Checks a modal the way `views.open` does (the parts a mistake is likely in).
fn check_view(view: &Map<String, Value>) -> Result<(), SlackError> {
    let mut errors = Vec::new();
    match view.get("type").and_then(Value::as_str) {
        Some("modal") => {}
        Some(_) => errors.push("[ERROR] must be one of `modal`, `home` [json-pointer:/view/type]".to_owned()),
        None => errors.push("[ERROR] missing required field: type [json-pointer:/view]".to_owned()),
    }
    if !view.get("title").is_some_and(Value::is_object) {
        errors.push("[ERROR] missing required field: title [json-pointer:/view]".to_owned());
    }
    match view.get("blocks") {
        Some(Value::Array(blocks)) => {
            if let Err(e) = check_blocks(blocks, "/view/blocks", MAX_VIEW_BLOCKS) {
                errors.extend(e);
            }
        }
        Some(_) => errors.push("[ERROR] must be an array [json-pointer:/view/blocks]".to_owned()),
        None => errors.push("[ERROR] missing required field: blocks [json-pointer:/view]".to_owned()),
    }
    if let Some(meta) = view.get("private_metadata").and_then(Value::as_str)
        && meta.len() > 3000
    {
        errors.push("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]".into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SlackError {
            error: "invalid_arguments".into(),
            messages: errors,
        })
    }
}

/// Each block an object with a `type`, and not too many: the messages Slack gives for each fault.
fn check_blocks(blocks: &[Value], pointer: &str, max: usize) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if blocks.len() > max {
        errors.push(format!(
            "[ERROR] no more than {max} items allowed [json-pointer:{pointer}]"
        ));
    }
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Value::Object(b) if b.get("type").is_some_and(Value::is_string) => {}
            Value::Object(_) => {
                errors.push(format!(
                    "[ERROR] missing required field: type [json-pointer:{pointer}/{i}]"
                ));
            }
            _ => errors.push(format!("[ERROR] must be an object [json-pointer:{pointer}/{i}]")),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// A non-empty string argument.
fn str_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Whether `id` names a user (Slack's `U…` and `W…` ids) rather than a conversation.
fn is_user_id(id: &str) -> bool {
    id.starts_with(['U', 'W'])
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("called with an object literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> Map<String, Value> {
        object(value)
    }

    #[test]
    fn timestamps_increase_strictly_in_slacks_format() {
        let mut w = Workspace::default();
        let first = w.next_ts();
        let second = w.next_ts();
        assert_eq!(first, "1700000000.000100");
        assert_eq!(second, "1700000000.000200");
        for _ in 0..20_000 {
            w.next_ts();
        }
        let later = w.next_ts();
        assert_eq!(later, "1700000002.000300");
        let as_number = |ts: &str| ts.replace('.', "").parse::<u64>().unwrap();
        assert!(as_number(&later) > as_number(&second));
    }

    #[test]
    fn an_update_replaces_text_and_keeps_blocks_left_out() {
        let mut w = Workspace::default();
        w.add_channel("C1");
        let posted = w
            .call(
                "chat.postMessage",
                &args(json!({"channel": "C1", "text": "a", "blocks": [{"type": "divider"}]})),
            )
            .unwrap();
        let ts = posted["ts"].as_str().unwrap();
        let updated = w
            .call(
                "chat.update",
                &args(json!({"channel": "C1", "ts": ts, "text": "b"})),
            )
            .unwrap();
        assert_eq!(updated["text"], "b");
        assert_eq!(w.messages()[0].blocks, Some(json!([{"type": "divider"}])));
        assert_eq!(w.messages()[0].edits, 1);
        let missing = w.call(
            "chat.update",
            &args(json!({"channel": "C1", "ts": "1.000001", "text": "c"})),
        );
        assert_eq!(missing.unwrap_err().error, "message_not_found");
    }

    #[test]
    fn content_rules_are_slacks() {
        let mut w = Workspace::default();
        w.add_channel("C1");
        let post = |w: &mut Workspace, body: Value| w.call("chat.postMessage", &args(body)).map(|_| ());
        assert_eq!(
            post(&mut w, json!({"channel": "C1"})).unwrap_err().error,
            "no_text"
        );
        assert_eq!(
            post(&mut w, json!({"channel": "C1", "blocks": {"type": "divider"}}))
                .unwrap_err()
                .error,
            "invalid_blocks_format"
        );
        let e = post(&mut w, json!({"channel": "C1", "blocks": [{"text": "x"}]})).unwrap_err();
        assert_eq!(e.error, "invalid_blocks");
        assert_eq!(
            e.messages,
            ["[ERROR] missing required field: type [json-pointer:/blocks/0]"]
        );
        assert!(post(&mut w, json!({"channel": "C1", "blocks": [{"type": "divider"}]})).is_ok());
    }

    #[test]
    fn a_trigger_opens_one_view() {
        let mut w = Workspace::default();
        let view = json!({"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []});
        let open =
            |w: &mut Workspace| w.call("views.open", &args(json!({"trigger_id": "1.2.3", "view": view})));
        let opened = open(&mut w).unwrap();
        assert!(opened["view"]["id"].as_str().unwrap().starts_with('V'));
        assert_eq!(opened["view"]["state"], json!({"values": {}}));
        assert_eq!(open(&mut w).unwrap_err().error, "exchanged_trigger_id");
    }

    #[test]
    fn posting_to_a_user_goes_to_their_dm() {
        let mut w = Workspace::default();
        let opened = w
            .call("conversations.open", &args(json!({"users": "U123"})))
            .unwrap();
        let dm = opened["channel"]["id"].as_str().unwrap().to_owned();
        assert!(dm.starts_with('D'));
        let posted = w
            .call(
                "chat.postMessage",
                &args(json!({"channel": "U123", "text": "hi"})),
            )
            .unwrap();
        assert_eq!(posted["channel"], dm.as_str());
        assert_eq!(w.dm_with("U123"), Some(dm.as_str()));
    }
}

//! TwiML, the XML Twilio runs during a call and reads back from callbacks. Alert titles, services and
//! fixes are hostile input (`</Say><Dial>…` must be spoken, not obeyed), so documents are written by
//! `quick-xml`'s writer, which escapes every text and attribute; nothing here builds XML by hand.

use nightowl_plugin_sdk_channel::{Response, config};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

/// The `content-type` of every TwiML answer.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The default `<Say>` voice and language when the settings are not set.
pub const DEFAULT_VOICE: &str = "alice";
/// See [`DEFAULT_VOICE`].
pub const DEFAULT_LANGUAGE: &str = "en-US";

/// One TwiML verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// Speaks the text in the tenant's voice and language.
    Say(String),
    /// Waits for one digit while speaking `prompt`, then POSTs it to `action`.
    Gather {
        /// The callback URL that receives `Digits`.
        action: String,
        /// What is spoken while waiting.
        prompt: String,
    },
    /// Ends the call.
    Hangup,
    /// Replies to an inbound SMS.
    Message(String),
}

/// How long a `<Gather>` waits for the digit, in seconds.
const GATHER_TIMEOUT_SECS: &str = "8";

/// The document `<Response>` with these verbs (`<Response/>` when there are none).
pub fn document(verbs: &[Verb]) -> String {
    let voice = setting("voice", DEFAULT_VOICE);
    let language = setting("language", DEFAULT_LANGUAGE);
    let mut w = Writer::new(Vec::new());
    // Writing to a Vec cannot fail; the io::Result is the writer's generic signature.
    let written = w
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| {
            let response = w.create_element("Response");
            if verbs.is_empty() {
                return response.write_empty().map(|_| ());
            }
            response
                .write_inner_content(|w| {
                    for verb in verbs {
                        write_verb(w, verb, &voice, &language)?;
                    }
                    Ok(())
                })
                .map(|_| ())
        });
    debug_assert!(written.is_ok(), "writing XML to memory failed");
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn write_verb(w: &mut Writer<Vec<u8>>, verb: &Verb, voice: &str, language: &str) -> std::io::Result<()> {
    match verb {
        Verb::Say(text) => say(w, text, voice, language),
        Verb::Gather { action, prompt } => w
            .create_element("Gather")
            .with_attributes([
                ("input", "dtmf"),
                ("numDigits", "1"),
                ("timeout", GATHER_TIMEOUT_SECS),
                ("action", action.as_str()),
                ("method", "POST"),
            ])
            .write_inner_content(|w| say(w, prompt, voice, language))
            .map(|_| ()),
        Verb::Hangup => w.create_element("Hangup").write_empty().map(|_| ()),
        Verb::Message(text) => w
            .create_element("Message")
            .write_text_content(BytesText::new(text))
            .map(|_| ()),
    }
}

fn say(w: &mut Writer<Vec<u8>>, text: &str, voice: &str, language: &str) -> std::io::Result<()> {
    w.create_element("Say")
        .with_attributes([("voice", voice), ("language", language)])
        .write_text_content(BytesText::new(text))
        .map(|_| ())
}

/// A `200` answer carrying the document with these verbs.
pub fn answer(verbs: &[Verb]) -> Response {
    answer_with(200, verbs)
}

/// An answer with this status carrying the document with these verbs.
pub fn answer_with(status: u16, verbs: &[Verb]) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), CONTENT_TYPE.into())],
        body: document(verbs).into_bytes(),
    }
}

/// A reply to an inbound SMS: `<Response><Message>text</Message></Response>`.
pub fn message(text: &str) -> Response {
    answer(&[Verb::Message(text.into())])
}

fn setting(key: &str, default: &str) -> String {
    config::get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.into())
}

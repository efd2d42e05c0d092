//! TwiML as the fake reads the inline instructions of a call: a well-formed XML document whose root is
//! `<Response>`, holding voice verbs only, each with the children and (for the verbs NightOwl uses)
//! the attributes Twilio's schema allows; and a view of it for assertions ([`Twiml::says`],
//! [`Twiml::gathers`], [`Twiml::count`]), every text and attribute unescaped.
//!
//! Text in a document is data: a title carrying `</Say><Dial>…` that was escaped stays text of its
//! `<Say>`, and one that was not escaped shows up as a `<Dial>` element (or breaks the document).

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

/// The verbs a `<Response>` of a call may hold. (`<Message>` belongs to messaging TwiML.)
const VOICE_VERBS: [&str; 17] = [
    "Connect", "Dial", "Echo", "Enqueue", "Gather", "Hangup", "Leave", "Pause", "Pay", "Play", "Record",
    "Redirect", "Refer", "Reject", "Say", "Start", "Stop",
];
/// What `<Gather>` may hold: the prompt.
const GATHER_CHILDREN: [&str; 3] = ["Say", "Play", "Pause"];
/// What `<Dial>` may hold.
const DIAL_NOUNS: [&str; 8] = [
    "Number",
    "Client",
    "Conference",
    "Queue",
    "Sip",
    "Sim",
    "Application",
    "WhatsApp",
];
/// The SSML elements `<Say>` may hold (and they each other); Amazon Polly's `amazon:…` ones too.
const SSML: [&str; 10] = [
    "break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w",
];
/// Attributes Twilio documents for the verbs whose attributes the fake checks.
const SAY_ATTRIBUTES: [&str; 3] = ["voice", "language", "loop"];
const GATHER_ATTRIBUTES: [&str; 15] = [
    "action",
    "actionOnEmptyResult",
    "enhanced",
    "finishOnKey",
    "hints",
    "input",
    "language",
    "method",
    "numDigits",
    "partialResultCallback",
    "partialResultCallbackMethod",
    "profanityFilter",
    "speechModel",
    "speechTimeout",
    "timeout",
];
const PAUSE_ATTRIBUTES: [&str; 1] = ["length"];
const PLAY_ATTRIBUTES: [&str; 2] = ["loop", "digits"];
const REDIRECT_ATTRIBUTES: [&str; 1] = ["method"];

/// Why a document is not TwiML a call can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwimlError {
    /// Which of Twilio's two complaints it is.
    pub kind: TwimlErrorKind,
    /// What is wrong, and where.
    pub message: String,
}

/// The two ways a document fails, after Twilio's errors 12100 and 12200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwimlErrorKind {
    /// Not well-formed XML, or no `<Response>` root (12100, Document parse failure).
    Malformed,
    /// Well-formed, but not TwiML's schema: an unknown or misplaced element or attribute, or an
    /// attribute value out of range (12200, Schema validation warning).
    Schema,
}

impl TwimlError {
    fn malformed(message: impl Into<String>) -> TwimlError {
        TwimlError {
            kind: TwimlErrorKind::Malformed,
            message: message.into(),
        }
    }

    fn schema(message: impl Into<String>) -> TwimlError {
        TwimlError {
            kind: TwimlErrorKind::Schema,
            message: message.into(),
        }
    }

    /// Twilio's error code: 12100 or 12200.
    pub fn code(&self) -> u32 {
        match self.kind {
            TwimlErrorKind::Malformed => 12100,
            TwimlErrorKind::Schema => 12200,
        }
    }
}

impl std::fmt::Display for TwimlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TwiML error {}: {}", self.code(), self.message)
    }
}

impl std::error::Error for TwimlError {}

/// An element of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Its name, as written (TwiML is case-sensitive).
    pub name: String,
    /// Its attributes in document order, values unescaped.
    pub attributes: Vec<(String, String)>,
    /// All text inside it, its children's included, in document order and unescaped: what a
    /// `<Say>` speaks.
    pub text: String,
    /// Its child elements.
    pub children: Vec<Element>,
}

impl Element {
    fn new(start: &BytesStart<'_>) -> Result<Element, TwimlError> {
        let name = std::str::from_utf8(start.name().as_ref())
            .map_err(|_| TwimlError::malformed("an element name is not UTF-8"))?
            .to_owned();
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute =
                attribute.map_err(|e| TwimlError::malformed(format!("an attribute of <{name}>: {e}")))?;
            let key = std::str::from_utf8(attribute.key.as_ref())
                .map_err(|_| TwimlError::malformed(format!("an attribute name of <{name}> is not UTF-8")))?
                .to_owned();
            let value = attribute
                .unescape_value()
                .map_err(|e| TwimlError::malformed(format!("attribute {key} of <{name}>: {e}")))?
                .into_owned();
            attributes.push((key, value));
        }
        Ok(Element {
            name,
            attributes,
            text: String::new(),
            children: Vec::new(),
        })
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// This element and every element inside it, depth first in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut all = vec![self];
        for child in &self.children {
            all.extend(child.descendants());
        }
        all
    }
}

/// A `<Gather>` as the assertions of a call's menu want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    /// Where Twilio posts the digits.
    pub action: Option<String>,
    /// `GET` or `POST`.
    pub method: Option<String>,
    /// How many digits end the input.
    pub num_digits: Option<u32>,
    /// Seconds of silence that end the input.
    pub timeout: Option<u32>,
    /// `dtmf`, `speech` or `dtmf speech`.
    pub input: Option<String>,
    /// The texts of its `<Say>`s: the prompt.
    pub says: Vec<String>,
}

/// A TwiML document: the verbs of its `<Response>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Twiml {
    /// The verbs, in order.
    pub verbs: Vec<Element>,
}

impl Twiml {
    /// Reads `xml` as TwiML for a call, with the checks described in the [module](self).
    pub fn parse(xml: &str) -> Result<Twiml, TwimlError> {
        let root = read_tree(xml)?;
        if root.name != "Response" {
            return Err(TwimlError::malformed(format!(
                "the root element is <{}>, not <Response>",
                root.name
            )));
        }
        check_response(&root)?;
        Ok(Twiml { verbs: root.children })
    }

    /// The verbs' names, in order.
    pub fn verb_names(&self) -> Vec<&str> {
        self.verbs.iter().map(|v| v.name.as_str()).collect()
    }

    /// Every element, depth first in document order.
    pub fn elements(&self) -> Vec<&Element> {
        self.verbs.iter().flat_map(Element::descendants).collect()
    }

    /// How many elements named `name` it holds, at any depth.
    pub fn count(&self, name: &str) -> usize {
        self.elements().iter().filter(|e| e.name == name).count()
    }

    /// The texts of every `<Say>`, those in a `<Gather>` included, in document order.
    pub fn says(&self) -> Vec<&str> {
        self.elements()
            .into_iter()
            .filter(|e| e.name == "Say")
            .map(|e| e.text.as_str())
            .collect()
    }

    /// Every `<Gather>`, in order.
    pub fn gathers(&self) -> Vec<Gather> {
        self.elements()
            .into_iter()
            .filter(|e| e.name == "Gather")
            .map(|g| Gather {
                action: g.attribute("action").map(str::to_owned),
                method: g.attribute("method").map(str::to_owned),
                num_digits: g.attribute("numDigits").and_then(|n| n.parse().ok()),
                timeout: g.attribute("timeout").and_then(|t| t.parse().ok()),
                input: g.attribute("input").map(str::to_owned),
                says: g
                    .children
                    .iter()
                    .filter(|c| c.name == "Say")
                    .map(|c| c.text.clone())
                    .collect(),
            })
            .collect()
    }

    /// Whether a `<Hangup>` verb ends (or cuts short) the call.
    pub fn has_hangup(&self) -> bool {
        self.verbs.iter().any(|v| v.name == "Hangup")
    }
}

/// The document's root element with everything in it; `Malformed` unless it is well-formed XML with
/// exactly one root.
fn read_tree(xml: &str) -> Result<Element, TwimlError> {
    let mut reader = Reader::from_str(xml);
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| TwimlError::malformed(format!("at byte {}: {e}", reader.error_position())))?;
        match event {
            Event::Start(start) => {
                if open.is_empty() && root.is_some() {
                    return Err(TwimlError::malformed("more than one root element"));
                }
                open.push(Element::new(&start)?);
            }
            Event::Empty(start) => {
                let element = Element::new(&start)?;
                close(element, &mut open, &mut root)?;
            }
            Event::End(_) => {
                // The reader has checked that the end tag matches the open element.
                let element = open
                    .pop()
                    .ok_or_else(|| TwimlError::malformed("an end tag without a start tag"))?;
                close(element, &mut open, &mut root)?;
            }
            Event::Text(text) => {
                let text = text
                    .xml_content()
                    .map_err(|e| TwimlError::malformed(format!("text: {e}")))?;
                add_text(&text, &mut open)?;
            }
            Event::CData(data) => {
                let text = data
                    .decode()
                    .map_err(|e| TwimlError::malformed(format!("CDATA: {e}")))?;
                add_text(&text, &mut open)?;
            }
            Event::GeneralRef(reference) => {
                let c = resolve(&reference)?;
                add_text(c.encode_utf8(&mut [0; 4]), &mut open)?;
            }
            Event::DocType(_) => {
                return Err(TwimlError::malformed("a DOCTYPE (TwiML declares no entities)"));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(unclosed) = open.last() {
        return Err(TwimlError::malformed(format!(
            "<{}> is not closed",
            unclosed.name
        )));
    }
    root.ok_or_else(|| TwimlError::malformed("no root element"))
}

/// Puts a finished element into its parent, or makes it the root.
fn close(element: Element, open: &mut [Element], root: &mut Option<Element>) -> Result<(), TwimlError> {
    match open.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_some() => return Err(TwimlError::malformed("more than one root element")),
        None => *root = Some(element),
    }
    Ok(())
}

/// Adds text to every open element (an element's text includes its children's).
fn add_text(text: &str, open: &mut [Element]) -> Result<(), TwimlError> {
    if open.is_empty() {
        return if text.trim().is_empty() {
            Ok(())
        } else {
            Err(TwimlError::malformed("text outside the root element"))
        };
    }
    for element in open {
        element.text.push_str(text);
    }
    Ok(())
}

/// The character a reference (`&amp;`, `&#60;`, `&#x3C;`) stands for; XML's five predefined
/// entities are the only named ones a TwiML document has.
fn resolve(reference: &BytesRef<'_>) -> Result<char, TwimlError> {
    if let Some(c) = reference
        .resolve_char_ref()
        .map_err(|e| TwimlError::malformed(format!("a character reference: {e}")))?
    {
        return Ok(c);
    }
    let name = reference
        .decode()
        .map_err(|e| TwimlError::malformed(format!("a reference: {e}")))?;
    match name.as_ref() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(TwimlError::malformed(format!(
            "the entity &{other}; is not defined"
        ))),
    }
}

/// `<Response>`: voice verbs only, no text of its own.
fn check_response(response: &Element) -> Result<(), TwimlError> {
    if !response.attributes.is_empty() {
        return Err(TwimlError::schema("<Response> takes no attributes"));
    }
    if has_own_text(response) {
        return Err(TwimlError::schema("text directly in <Response>"));
    }
    for verb in &response.children {
        if !VOICE_VERBS.contains(&verb.name.as_str()) {
            return Err(TwimlError::schema(format!("<{}> is not a voice verb", verb.name)));
        }
        check_verb(verb)?;
    }
    Ok(())
}

/// A verb's children and, for the verbs NightOwl writes, its attributes.
fn check_verb(verb: &Element) -> Result<(), TwimlError> {
    match verb.name.as_str() {
        "Say" => {
            check_attributes(verb, &SAY_ATTRIBUTES)?;
            check_ssml(verb)
        }
        "Gather" => {
            check_attributes(verb, &GATHER_ATTRIBUTES)?;
            check_gather_values(verb)?;
            if has_own_text(verb) {
                return Err(TwimlError::schema("text directly in <Gather>"));
            }
            for child in &verb.children {
                if !GATHER_CHILDREN.contains(&child.name.as_str()) {
                    return Err(TwimlError::schema(format!(
                        "<{}> in <Gather>: only <Say>, <Play> and <Pause> may be",
                        child.name
                    )));
                }
                check_verb(child)?;
            }
            Ok(())
        }
        "Dial" => match verb
            .children
            .iter()
            .find(|c| !DIAL_NOUNS.contains(&c.name.as_str()))
        {
            Some(child) => Err(TwimlError::schema(format!(
                "<{}> in <Dial> is not a noun it takes",
                child.name
            ))),
            None => Ok(()),
        },
        "Hangup" | "Leave" => {
            check_attributes(verb, &[])?;
            check_empty(verb)
        }
        "Pause" => {
            check_attributes(verb, &PAUSE_ATTRIBUTES)?;
            check_number(verb, "length")?;
            check_empty(verb)
        }
        "Reject" => check_empty(verb),
        "Play" => {
            check_attributes(verb, &PLAY_ATTRIBUTES)?;
            check_number(verb, "loop")?;
            check_no_children(verb)
        }
        "Redirect" => {
            check_attributes(verb, &REDIRECT_ATTRIBUTES)?;
            check_method(verb, "method")?;
            check_no_children(verb)
        }
        "Record" => check_no_children(verb),
        // Connect, Echo, Enqueue, Pay, Refer, Start, Stop: their nouns are not checked.
        _ => Ok(()),
    }
}

/// The values of `<Gather>`'s attributes that a mistake is likely in.
fn check_gather_values(gather: &Element) -> Result<(), TwimlError> {
    check_method(gather, "method")?;
    check_number(gather, "numDigits")?;
    check_number(gather, "timeout")?;
    if gather.attribute("numDigits") == Some("0") {
        return Err(TwimlError::schema("numDigits of <Gather> must be at least 1"));
    }
    if let Some(input) = gather.attribute("input") {
        let valid =
            !input.trim().is_empty() && input.split_whitespace().all(|i| i == "dtmf" || i == "speech");
        if !valid {
            return Err(TwimlError::schema(format!(
                "input of <Gather> is {input:?}: dtmf, speech or both"
            )));
        }
    }
    Ok(())
}

/// SSML inside `<Say>`: known elements only, at any depth.
fn check_ssml(element: &Element) -> Result<(), TwimlError> {
    for child in &element.children {
        let known = SSML.contains(&child.name.as_str()) || child.name.starts_with("amazon:");
        if !known {
            return Err(TwimlError::schema(format!(
                "<{}> in <{}> is not SSML",
                child.name, element.name
            )));
        }
        check_ssml(child)?;
    }
    Ok(())
}

fn check_attributes(element: &Element, allowed: &[&str]) -> Result<(), TwimlError> {
    match element
        .attributes
        .iter()
        .find(|(k, _)| !allowed.contains(&k.as_str()))
    {
        Some((k, _)) => Err(TwimlError::schema(format!(
            "attribute {k} is not allowed in <{}>",
            element.name
        ))),
        None => Ok(()),
    }
}

fn check_method(element: &Element, attribute: &str) -> Result<(), TwimlError> {
    match element.attribute(attribute) {
        Some(m) if !m.eq_ignore_ascii_case("GET") && !m.eq_ignore_ascii_case("POST") => Err(
            TwimlError::schema(format!("{attribute} of <{}> is {m:?}: GET or POST", element.name)),
        ),
        _ => Ok(()),
    }
}

fn check_number(element: &Element, attribute: &str) -> Result<(), TwimlError> {
    match element.attribute(attribute) {
        Some(n) if n.parse::<u32>().is_err() => Err(TwimlError::schema(format!(
            "{attribute} of <{}> is {n:?}: a whole number",
            element.name
        ))),
        _ => Ok(()),
    }
}

/// No child elements: `<Play>` and `<Redirect>` hold a URL, `<Record>` nothing.
fn check_no_children(element: &Element) -> Result<(), TwimlError> {
    match element.children.first() {
        Some(child) => Err(TwimlError::schema(format!(
            "<{}> in <{}>: it takes text only",
            child.name, element.name
        ))),
        None => Ok(()),
    }
}

/// No children and no text: `<Hangup/>`.
fn check_empty(element: &Element) -> Result<(), TwimlError> {
    if element.children.is_empty() && element.text.trim().is_empty() {
        Ok(())
    } else {
        Err(TwimlError::schema(format!("<{}> must be empty", element.name)))
    }
}

/// Whether an element has text that is not its children's (whitespace aside). Its text is its own
/// and its children's together, so it has some of its own when it has more than they have.
fn has_own_text(element: &Element) -> bool {
    let visible = |text: &str| text.chars().filter(|c| !c.is_whitespace()).count();
    let theirs: usize = element.children.iter().map(|c| visible(&c.text)).sum();
    visible(&element.text) > theirs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the Twilio plugin sends for a call (its `twiml::document`), with a hostile title escaped.
    const CALL: &str = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<Response><Say voice="alice" language="en-US">NightOwl alert 7. Severity critical. "#,
        r#"&lt;/Say&gt;&lt;Dial&gt;+15550000000&lt;/Dial&gt;&lt;Say&gt; &amp; &quot;x&quot; &apos;y&apos;.</Say>"#,
        r#"<Gather input="dtmf" numDigits="1" timeout="8" action="https://n.example/api/v1/twilio/acknowledge?tenant=t&amp;alert=a1" method="POST">"#,
        r#"<Say voice="alice" language="en-US">Press 4 to acknowledge.</Say></Gather>"#,
        r#"<Say voice="alice" language="en-US">No input received. Goodbye.</Say><Hangup/></Response>"#,
    );

    #[test]
    fn escaped_text_stays_text_of_its_say() {
        let twiml = Twiml::parse(CALL).unwrap();
        assert_eq!(twiml.verb_names(), ["Say", "Gather", "Say", "Hangup"]);
        assert_eq!(
            twiml.says()[0],
            r#"NightOwl alert 7. Severity critical. </Say><Dial>+15550000000</Dial><Say> & "x" 'y'."#
        );
        assert_eq!(twiml.count("Dial"), 0);
        assert!(twiml.has_hangup());
        let gathers = twiml.gathers();
        assert_eq!(gathers.len(), 1);
        let g = &gathers[0];
        assert_eq!(
            g.action.as_deref(),
            Some("https://n.example/api/v1/twilio/acknowledge?tenant=t&alert=a1")
        );
        assert_eq!((g.num_digits, g.timeout), (Some(1), Some(8)));
        assert_eq!(g.method.as_deref(), Some("POST"));
        assert_eq!(g.says, ["Press 4 to acknowledge."]);
        assert_eq!(twiml.says().len(), 3, "the prompt is a Say too");
    }

    #[test]
    fn unescaped_text_becomes_elements() {
        let injected = "<Response><Say>Disk </Say><Dial>+15550000000</Dial><Say> full</Say></Response>";
        let twiml = Twiml::parse(injected).unwrap();
        assert_eq!(twiml.count("Dial"), 1);
        let broken = "<Response><Say>a & b</Say></Response>";
        assert_eq!(Twiml::parse(broken).unwrap_err().kind, TwimlErrorKind::Malformed);
        let stray = "<Response><Say>a </Say></Dial></Response>";
        assert_eq!(Twiml::parse(stray).unwrap_err().kind, TwimlErrorKind::Malformed);
    }

    #[test]
    fn references_and_cdata_are_text() {
        let twiml =
            Twiml::parse("<Response><Say>&#60;&#x3E; <![CDATA[<b>&amp;</b>]]></Say></Response>").unwrap();
        assert_eq!(twiml.says(), ["<> <b>&amp;</b>"]);
        let undefined = Twiml::parse("<Response><Say>&nbsp;</Say></Response>");
        assert_eq!(undefined.unwrap_err().kind, TwimlErrorKind::Malformed);
    }

    #[test]
    fn documents_that_are_not_a_response_are_malformed() {
        for xml in [
            "",
            "Hello",
            "<Say>Hi</Say>",
            "<Response><Say>Hi</Say>",
            "<Response/><Response/>",
            "<response><Say>Hi</Say></response>",
            r#"<!DOCTYPE r [<!ENTITY x "y">]><Response/>"#,
        ] {
            let e = Twiml::parse(xml).unwrap_err();
            assert_eq!(e.kind, TwimlErrorKind::Malformed, "{xml:?}: {e}");
            assert_eq!(e.code(), 12100);
        }
        assert_eq!(Twiml::parse("<Response/>").unwrap().verbs, []);
    }

    #[test]
    fn off_schema_documents_are_schema_errors() {
        for xml in [
            "<Response><Message>Hi</Message></Response>",
            "<Response><say>Hi</say></Response>",
            "<Response>Hello<Hangup/></Response>",
            "<Response><Gather><Dial>+15550000000</Dial></Gather></Response>",
            "<Response><Gather>Press 4</Gather></Response>",
            r#"<Response><Gather numDigits="one"/></Response>"#,
            r#"<Response><Gather numDigits="0"/></Response>"#,
            r#"<Response><Gather method="PUT"/></Response>"#,
            r#"<Response><Gather input="keys"/></Response>"#,
            r#"<Response><Gather actoin="https://x.example"/></Response>"#,
            r#"<Response><Say voise="alice">Hi</Say></Response>"#,
            "<Response><Say>Hi <b>there</b></Say></Response>",
            "<Response><Hangup>now</Hangup></Response>",
            "<Response><Dial><Say>Hi</Say></Dial></Response>",
        ] {
            let e = Twiml::parse(xml).unwrap_err();
            assert_eq!(e.kind, TwimlErrorKind::Schema, "{xml:?}: {e}");
            assert_eq!(e.code(), 12200);
        }
    }

    #[test]
    fn ssml_and_other_verbs_pass() {
        let xml = concat!(
            r#"<Response><Say voice="Polly.Joanna">Hi <break time="1s"/><prosody rate="slow">there</prosody></Say>"#,
            r#"<Pause length="2"/><Play loop="2">https://x.example/a.mp3</Play>"#,
            r#"<Dial><Number>+15550000000</Number></Dial><Redirect method="POST">https://x.example/next</Redirect></Response>"#,
        );
        let twiml = Twiml::parse(xml).unwrap();
        assert_eq!(twiml.says(), ["Hi there"]);
        assert_eq!(twiml.count("Dial"), 1);
        assert!(!twiml.has_hangup());
    }
}

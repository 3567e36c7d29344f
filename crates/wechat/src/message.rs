//! Parsing the XML bodies WeChat POSTs to the server.
//!
//! Bodies are small flat `<xml>` documents whose values are CDATA sections or
//! plain text. DTDs (and so custom entities: XXE, "billion laughs") are
//! rejected outright, as is anything over [`MAX_XML_BYTES`].

use roxmltree::{Document, Node, ParsingOptions};

use crate::Error;

/// The largest XML body (and `Encrypt` value) accepted: 64 KiB.
pub const MAX_XML_BYTES: usize = 64 * 1024;

/// Generous for WeChat's flat messages; bounds memory on hostile input.
const MAX_NODES: u32 = 4096;

/// The outer document of a safe-mode (encrypted) POST body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `ToUserName`: the Official Account's original id (`gh_…`).
    pub to_user_name: String,
    /// `Encrypt`: base64 ciphertext for [`crate::Crypto::decrypt`].
    pub encrypt: String,
}

/// A message or event pushed by WeChat (plain mode, or decrypted safe mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `ToUserName`: the Official Account's original id.
    pub to_user_name: String,
    /// `FromUserName`: the sender's OpenID.
    pub from_user_name: String,
    /// `CreateTime`: Unix seconds.
    pub create_time: i64,
    /// `MsgType`: `text`, `image`, `event`, …
    pub msg_type: String,
    /// `Content` of a text message.
    pub content: Option<String>,
    /// `MsgId` of an ordinary message (events have none).
    pub msg_id: Option<String>,
    /// `Event` of an event: `subscribe`, `unsubscribe`, `SCAN`, `CLICK`, `VIEW`, …
    pub event: Option<String>,
    /// `EventKey`: `qrscene_<scene>` (subscribe by QR code), the scene (SCAN),
    /// the menu key (CLICK) or the URL (VIEW).
    pub event_key: Option<String>,
    /// `Ticket` of the QR code scanned (subscribe by QR code, SCAN).
    pub ticket: Option<String>,
}

impl Message {
    /// Whether this is the event `name` (compared ASCII case-insensitively).
    #[must_use]
    pub fn is_event(&self, name: &str) -> bool {
        self.msg_type.eq_ignore_ascii_case("event") && self.event.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(name))
    }

    /// The QR-code scene id of a `subscribe` event (its `EventKey` without
    /// the `qrscene_` prefix) or of a `SCAN` event (its `EventKey`); `None`
    /// for other messages and for a plain subscribe without a scene.
    #[must_use]
    pub fn scene(&self) -> Option<&str> {
        let key = self.event_key.as_deref()?;
        let scene = if self.is_event("subscribe") {
            key.strip_prefix("qrscene_")?
        } else if self.is_event("SCAN") {
            key
        } else {
            return None;
        };
        (!scene.is_empty()).then_some(scene)
    }
}

/// Parses the outer document of an encrypted POST body
/// (`<xml><ToUserName/><Encrypt/></xml>`; other elements are ignored).
///
/// # Errors
/// [`Error::TooLarge`], [`Error::DoctypeNotAllowed`], [`Error::InvalidXml`],
/// [`Error::MissingField`] / [`Error::InvalidField`] for a missing, empty or
/// repeated `ToUserName` or `Encrypt`.
pub fn parse_envelope(xml: &str) -> Result<Envelope, Error> {
    let doc = parse_document(xml)?;
    let root = doc.root_element();
    Ok(Envelope { to_user_name: required(root, "ToUserName")?, encrypt: required(root, "Encrypt")? })
}

/// Parses a message or event document (plain-mode body, or the output of
/// [`crate::Crypto::decrypt`]).
///
/// # Errors
/// [`Error::TooLarge`], [`Error::DoctypeNotAllowed`], [`Error::InvalidXml`],
/// [`Error::MissingField`] if `ToUserName`, `FromUserName`, `CreateTime` or
/// `MsgType` is missing, [`Error::InvalidField`] for a repeated element or a
/// `CreateTime` that is not an integer.
pub fn parse_message(xml: &str) -> Result<Message, Error> {
    let doc = parse_document(xml)?;
    let root = doc.root_element();
    let create_time = required(root, "CreateTime")?.parse::<i64>().map_err(|_| Error::InvalidField("CreateTime"))?;
    Ok(Message {
        to_user_name: required(root, "ToUserName")?,
        from_user_name: required(root, "FromUserName")?,
        create_time,
        msg_type: required(root, "MsgType")?,
        content: raw_field(root, "Content")?,
        msg_id: optional(root, "MsgId")?,
        event: optional(root, "Event")?,
        event_key: optional(root, "EventKey")?,
        ticket: optional(root, "Ticket")?,
    })
}

fn parse_document(xml: &str) -> Result<Document<'_>, Error> {
    if xml.len() > MAX_XML_BYTES {
        return Err(Error::TooLarge);
    }
    // A DOCTYPE can only stand before the root element. roxmltree rejects any
    // DTD with declarations; this also refuses an empty `<!DOCTYPE xml>`.
    let prolog_end = xml.find("<xml").unwrap_or(xml.len());
    let prolog = xml[..prolog_end].to_ascii_uppercase();
    if prolog.contains("<!DOCTYPE") || prolog.contains("<!ENTITY") {
        return Err(Error::DoctypeNotAllowed);
    }
    let options = ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(xml, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected
        | roxmltree::Error::EntityReferenceLoop(_)
        | roxmltree::Error::UnknownEntityReference(..) => Error::DoctypeNotAllowed,
        _ => Error::InvalidXml,
    })?;
    if doc.root_element().tag_name().name() != "xml" {
        return Err(Error::InvalidXml);
    }
    Ok(doc)
}

/// The text of the single child element `name` of `root` (text and CDATA
/// concatenated, untrimmed); `None` if absent.
fn raw_field(root: Node<'_, '_>, name: &'static str) -> Result<Option<String>, Error> {
    let mut found = root.children().filter(|n| n.is_element() && n.tag_name().name() == name);
    let Some(node) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(Error::InvalidField(name));
    }
    let text: String = node.descendants().filter(Node::is_text).filter_map(|n| n.text()).collect();
    Ok(Some(text))
}

/// Like [`raw_field`], trimmed: for ids, types and numbers.
fn optional(root: Node<'_, '_>, name: &'static str) -> Result<Option<String>, Error> {
    Ok(raw_field(root, name)?.map(|s| s.trim().to_owned()))
}

/// Like [`optional`], but the element must be present and non-empty.
fn required(root: Node<'_, '_>, name: &'static str) -> Result<String, Error> {
    optional(root, name)?.filter(|s| !s.is_empty()).ok_or(Error::MissingField(name))
}

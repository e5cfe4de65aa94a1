//! Reading one raw e-mail (RFC 5322 / MIME) into what the support desk needs: who sent it,
//! its Message-ID, the ids it replies to, its subject and its text. Parsing is
//! `mail-parser`'s, with every charset it knows (EUC-KR and `ks_c_5601-1987` Korean mail
//! included); what is ours is deciding what counts as readable.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};
use nunchi_core::{
    conversation::{MAX_MESSAGE_BYTES, normalise_message_id},
    email::Email,
};
use sha2::{Digest, Sha256};

/// The largest raw message taken in (attachments included).
pub const MAX_RAW_BYTES: usize = 25 * 1024 * 1024;

/// What the desk keeps of one e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// Without angle brackets. A message with none gets one made from its bytes, so the
    /// same message taken in twice is still stored once.
    pub message_id: String,
    pub from: Email,
    pub from_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The files it carried, as sent (whether each is kept is decided when it is stored).
    pub files: Vec<MailFile>,
}

/// A file an e-mail carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why a message could not be read; the raw bytes are kept for an admin either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("the message is empty")]
    Empty,
    #[error("the message is larger than {} MiB", MAX_RAW_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the message has no readable header")]
    NotMail,
    #[error("the message has no sender address")]
    NoSender,
    #[error("the sender address {0:?} is not valid")]
    BadSender(String),
}

/// Reads one raw message.
pub fn read(raw: &[u8]) -> Result<InboundMail, Unreadable> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Unreadable::Empty);
    }
    if raw.len() > MAX_RAW_BYTES {
        return Err(Unreadable::TooLarge);
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Unreadable::NotMail)?;
    if message.headers().is_empty() {
        return Err(Unreadable::NotMail);
    }
    let sender = message
        .from()
        .or_else(|| message.sender())
        .and_then(|a| a.first())
        .ok_or(Unreadable::NoSender)?;
    let address = sender.address().ok_or(Unreadable::NoSender)?;
    let from = Email::parse(address).map_err(|_| Unreadable::BadSender(address.into()))?;
    let from_name = sender
        .name()
        .map(|n| n.trim().trim_matches('"').trim().to_string())
        .filter(|n| !n.is_empty() && !n.contains('@'));
    let message_id = message
        .message_id()
        .map(normalise_message_id)
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| format!("{}@nunchi.invalid", hex::encode(Sha256::digest(raw))));
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    Ok(InboundMail {
        message_id,
        from,
        from_name,
        subject: message.subject().unwrap_or("").trim().to_string(),
        text: clip(text.trim(), MAX_MESSAGE_BYTES),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        files: message
            .attachments()
            .map(|part| MailFile {
                name: part
                    .attachment_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| match part.body {
                        PartType::Message(_) => "message.eml".into(),
                        _ => "attachment".into(),
                    }),
                bytes: part.contents().to_vec(),
            })
            .collect(),
    })
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default()
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The `.eml` files of `mail-parser`'s own sample corpus (RFC examples, third-party and
/// deliberately malformed mail) where cargo keeps the crate's sources, for the no-panic
/// test and the intake benchmark; empty when they are not there.
pub fn sample_corpus() -> Vec<std::path::PathBuf> {
    use std::path::{Path, PathBuf};
    fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else if p.extension().is_some_and(|x| x == "eml") {
                out.push(p);
            }
        }
    }
    let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
    else {
        return vec![];
    };
    let mut found = Vec::new();
    for index in std::fs::read_dir(home.join("registry").join("src"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for krate in std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if krate
                .file_name()
                .to_string_lossy()
                .starts_with("mail-parser-0.11.")
            {
                found.push(krate.path().join("resources"));
            }
        }
    }
    found.sort();
    let mut files = Vec::new();
    if let Some(newest) = found.pop() {
        collect(&newest, &mut files);
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_mail_in_euc_kr_decodes() {
        let (body, _, _) = encoding_rs::EUC_KR.encode("배송이 너무 늦어요. 환불해 주세요.");
        let mut raw = b"From: =?EUC-KR?B?sei5zsHY?= <minjun@example.com>\r\n\
To: help@brand.example\r\n\
Subject: =?ks_c_5601-1987?B?uei82yC5rsDH?=\r\n\
Message-ID: <k1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=euc-kr\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\n"
            .to_vec();
        raw.extend_from_slice(&body);
        let mail = read(&raw).unwrap();
        assert_eq!(mail.text, "배송이 너무 늦어요. 환불해 주세요.");
        assert_eq!(mail.from.as_str(), "minjun@example.com");
        assert_eq!(mail.message_id, "k1@example.com");
        assert_eq!(mail.subject, "배송 문의");
        assert_eq!(mail.from_name.as_deref(), Some("김민준"));
    }

    #[test]
    fn replies_keep_their_reference_ids() {
        let raw = b"From: Grace <grace@example.com>\r\nSubject: Re: order\r\n\
In-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\n\r\nThanks";
        let mail = read(raw).unwrap();
        assert_eq!(mail.in_reply_to, vec!["b@x"]);
        assert_eq!(mail.references, vec!["a@x", "b@x"]);
        assert_eq!(mail.from_name.as_deref(), Some("Grace"));
        // No Message-ID: one is made from the bytes, the same each time.
        assert_eq!(read(raw).unwrap().message_id, mail.message_id);
        assert!(mail.message_id.ends_with("@nunchi.invalid"));
    }

    #[test]
    fn unreadable_messages_say_why() {
        assert_eq!(read(b"  \r\n"), Err(Unreadable::Empty));
        assert_eq!(
            read(b"Subject: hi\r\n\r\nno sender"),
            Err(Unreadable::NoSender)
        );
        assert!(matches!(
            read(b"From: not-an-address\r\n\r\nx"),
            Err(Unreadable::NoSender | Unreadable::BadSender(_))
        ));
    }

    #[test]
    fn clipping_respects_characters() {
        assert_eq!(clip("가나다", 4), "가");
        assert_eq!(clip("abc", 10), "abc");
    }
}

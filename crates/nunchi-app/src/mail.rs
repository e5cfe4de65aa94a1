//! Outgoing e-mail over SMTP (lettre): survey invitations, closed-loop notices and "we
//! fixed it" notes to affected customers. Without an SMTP URL nunchi still runs; sends
//! then fail with a clear error and stay queued for a retry.

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType},
};

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// `url`: `smtp://host:port` (plain, for a relay on the same host),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://host` (TLS).
    pub fn new(url: Option<&str>, from: &str) -> anyhow::Result<Mailer> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("the sender address {from:?} is not valid: {e}"))?;
        let transport = match url {
            Some(u) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(u)
                    .map_err(|e| anyhow::anyhow!("the SMTP URL is not valid: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            None => None,
        };
        Ok(Mailer { transport, from })
    }

    pub fn configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends one message with a plain-text part and, when given, an HTML part.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: Option<&str>,
    ) -> anyhow::Result<()> {
        self.send_mail(&OutgoingMail {
            to,
            subject,
            text,
            html,
            thread: None,
            files: &[],
            unsubscribe: None,
        })
        .await
    }

    /// The domain of the sender address, for Message-IDs nunchi makes.
    pub fn domain(&self) -> &str {
        self.from.email.domain()
    }

    /// Sends one message, as a reply in a thread when `mail.thread` says so.
    pub async fn send_mail(&self, mail: &OutgoingMail<'_>) -> anyhow::Result<()> {
        let Some(transport) = &self.transport else {
            anyhow::bail!("no SMTP server is configured (set NUNCHI_SMTP_URL)");
        };
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| anyhow::anyhow!("the address {:?} is not valid: {e}", mail.to))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject);
        if let Some(t) = &mail.thread {
            builder = builder.message_id(Some(format!("<{}>", t.message_id)));
            if let Some(parent) = t.references.last() {
                builder = builder.in_reply_to(format!("<{parent}>")).references(
                    t.references
                        .iter()
                        .map(|r| format!("<{r}>"))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
        }
        if let Some(url) = mail.unsubscribe {
            use lettre::message::header::{HeaderName, HeaderValue};
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        // Without the charset, clients read Korean text as Latin-1.
        let body = match mail.html {
            Some(h) => MultiPart::alternative_plain_html(mail.text.to_string(), h.to_string()),
            None if mail.files.is_empty() => {
                let message = builder
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text.to_string())?;
                transport.send(message).await?;
                return Ok(());
            }
            None => MultiPart::mixed().singlepart(SinglePart::plain(mail.text.to_string())),
        };
        let body = if mail.files.is_empty() {
            body
        } else {
            let mut mixed = match mail.html {
                Some(_) => MultiPart::mixed().multipart(body),
                None => body,
            };
            for f in mail.files {
                let content_type = ContentType::parse(&f.content_type)
                    .unwrap_or(ContentType::parse("application/octet-stream")?);
                mixed = mixed.singlepart(
                    Attachment::new(f.filename.clone()).body(f.bytes.clone(), content_type),
                );
            }
            mixed
        };
        let message = builder.multipart(body)?;
        transport.send(message).await?;
        Ok(())
    }
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct OutgoingMail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
    pub thread: Option<MailThread>,
    pub files: &'a [MailAttachment],
    /// A one-click unsubscribe URL (RFC 8058): sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post`, so mail clients offer their own button.
    pub unsubscribe: Option<&'a str>,
}

/// A file sent with a message.
#[derive(Debug, Clone)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Where a reply sits in its thread: its own Message-ID and the ids before it, oldest
/// first (the last is the message it answers). Ids are without angle brackets.
#[derive(Debug, Clone)]
pub struct MailThread {
    pub message_id: String,
    pub references: Vec<String>,
}

/// One e-mail as a background job: a closed-loop notice or a fix notice to a customer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EmailJob {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl crate::jobs::Job for EmailJob {
    const KIND: &'static str = "email";
    const MAX_ATTEMPTS: i64 = 5;

    async fn run(self, app: &crate::App) -> anyhow::Result<String> {
        app.mailer
            .send(&self.to, &self.subject, &self.text, None)
            .await?;
        Ok(serde_json::json!({ "sent_to": self.to }).to_string())
    }
}

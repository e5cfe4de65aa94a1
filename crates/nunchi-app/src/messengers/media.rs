//! Photos and files customers send through a messenger: the delivery names them, and a job
//! fetches the bytes from the provider — LINE's content endpoint by message id, Telegram's
//! `getFile` then its file URL — and keeps them with the message like an e-mail's files.

use nunchi_core::{attachment::MAX_ATTACHMENT_BYTES, conversation::MessengerKind};
use nunchi_store::{StoreError, model::MessengerChannel};
use serde::{Deserialize, Serialize};

use crate::App;

/// LINE serves message content from its data host.
const LINE_DATA_API: &str = "https://api-data.line.me";
const TELEGRAM_API: &str = "https://api.telegram.org";

/// Fetches one photo or file a messenger message carried and keeps it with the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaJob {
    pub channel_id: i64,
    /// The conversation line it goes with.
    pub message_id: i64,
    /// The provider's handle: LINE's message id, Telegram's file id.
    pub media: String,
}

/// Reads a response body of at most the attachment limit.
async fn body(response: reqwest::Response) -> anyhow::Result<Vec<u8>> {
    if response
        .content_length()
        .is_some_and(|n| n as usize > MAX_ATTACHMENT_BYTES)
    {
        anyhow::bail!("the file is larger than the attachment limit");
    }
    let bytes = response.bytes().await?;
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        anyhow::bail!("the file is larger than the attachment limit");
    }
    Ok(bytes.to_vec())
}

fn checked(response: reqwest::Response, what: &str) -> anyhow::Result<reqwest::Response> {
    if !response.status().is_success() {
        anyhow::bail!("{what} answered {}", response.status());
    }
    Ok(response)
}

/// A name for content that arrives without one, from its type.
fn name_for(content_type: &str, fallback: &str) -> String {
    let ext = match content_type.split(';').next().unwrap_or("").trim() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "application/pdf" => "pdf",
        "video/mp4" => "mp4",
        "audio/x-m4a" | "audio/mp4" => "m4a",
        _ => "bin",
    };
    format!("{fallback}.{ext}")
}

async fn from_line(
    app: &App,
    channel: &MessengerChannel,
    media: &str,
) -> anyhow::Result<(String, Vec<u8>)> {
    let token = super::token(channel)?;
    let base = super::api_root(channel, LINE_DATA_API);
    let response = app
        .http
        .get(format!("{base}/v2/bot/message/{media}/content"))
        .bearer_auth(token)
        .send()
        .await?;
    let response = checked(response, "LINE")?;
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Ok((
        name_for(&content_type, &format!("line-{media}")),
        body(response).await?,
    ))
}

async fn from_telegram(
    app: &App,
    channel: &MessengerChannel,
    media: &str,
) -> anyhow::Result<(String, Vec<u8>)> {
    let token = super::token(channel)?;
    let base = super::api_root(channel, TELEGRAM_API);
    let answer = checked(
        app.http
            .post(format!("{base}/bot{token}/getFile"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({ "file_id": media }).to_string())
            .send()
            .await?,
        "Telegram getFile",
    )?
    .bytes()
    .await?;
    let answer: serde_json::Value = serde_json::from_slice(&answer)?;
    let path = answer["result"]["file_path"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("Telegram gave no file path: {answer}"))?;
    if path.contains("..") {
        anyhow::bail!("Telegram gave an odd file path: {path}");
    }
    let response = checked(
        app.http
            .get(format!("{base}/file/bot{token}/{path}"))
            .send()
            .await?,
        "Telegram",
    )?;
    let name = path
        .rsplit('/')
        .next()
        .unwrap_or("telegram-file")
        .to_string();
    Ok((name, body(response).await?))
}

impl crate::jobs::Job for MediaJob {
    const KIND: &'static str = "messenger_media";
    const MAX_ATTEMPTS: i64 = 5;

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let channel = match app.store.messenger_channel_by_id(self.channel_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return Ok(r#"{"skipped":"channel removed"}"#.into()),
            Err(e) => return Err(e.into()),
        };
        let line = match app.store.message(self.message_id).await {
            Ok(l) => l,
            Err(StoreError::NotFound(_)) => return Ok(r#"{"skipped":"message gone"}"#.into()),
            Err(e) => return Err(e.into()),
        };
        // A retry after the file was kept keeps nothing twice.
        if !app.store.message_attachments(&[line.id]).await?.is_empty() {
            return Ok(r#"{"skipped":"already kept"}"#.into());
        }
        let (name, bytes) = match channel.kind {
            MessengerKind::Line => from_line(app, &channel, &self.media).await?,
            MessengerKind::Telegram => from_telegram(app, &channel, &self.media).await?,
            MessengerKind::Generic => return Ok(r#"{"skipped":"no media API"}"#.into()),
        };
        crate::attachments::keep_received(app, line.conversation_id, line.id, &name, &bytes)
            .await?;
        Ok(serde_json::json!({ "kept": name, "bytes": bytes.len() }).to_string())
    }
}

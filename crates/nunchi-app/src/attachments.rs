//! Files with conversation messages: staff upload them for a reply or note, and files in
//! incoming e-mail are kept with the message. What is kept, and served as what, is
//! `nunchi_core::attachment`'s rule; a file an e-mail carried that was not kept is still
//! recorded with the reason. The bytes go to a file under the data folder on SQLite
//! (written and synced before its row exists) and into the row on PostgreSQL, where
//! several nodes must see them; only staff who may read the conversation are given them.

use std::collections::HashMap;

use nunchi_core::{
    access::Permission,
    attachment::{self, MAX_ATTACHMENTS_PER_MESSAGE},
};
use nunchi_store::model::{Attachment, NewAttachment};
use sha2::{Digest, Sha256};

use crate::{App, Error, Result, actor::Actor};

/// The folder under the data folder that holds SQLite's attachment files.
const FOLDER: &str = "attachments";

fn in_files(app: &App) -> bool {
    app.store.backend() == "sqlite"
}

/// Writes the bytes where this backend keeps them; returns the file's path under the
/// data folder (SQLite) or the bytes for the row (PostgreSQL).
async fn write_bytes(
    app: &App,
    conversation_id: i64,
    bytes: &[u8],
) -> Result<(Option<String>, Option<Vec<u8>>)> {
    if !in_files(app) {
        return Ok((None, Some(bytes.to_vec())));
    }
    let relative = format!(
        "{FOLDER}/{conversation_id}/{}",
        crate::secret::random_token()
    );
    let path = app.config.data_dir.join(&relative);
    let data = bytes.to_vec();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        let dir = path.parent().expect("a file under a folder");
        std::fs::create_dir_all(dir)?;
        let tmp = path.with_extension("part");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(dir)?.sync_all()
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?
    .map_err(|e| anyhow::anyhow!("cannot write the attachment: {e}"))?;
    Ok((Some(relative), None))
}

async fn record(
    app: &App,
    conversation_id: i64,
    message_id: Option<i64>,
    name: &str,
    bytes: &[u8],
    uploaded_by: Option<i64>,
) -> Result<std::result::Result<Attachment, attachment::Rejected>> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let checked = attachment::check(name, bytes);
    let (file_path, data, rejected, filename, content_type) = match &checked {
        Ok(a) => {
            let (file_path, data) = write_bytes(app, conversation_id, bytes).await?;
            (
                file_path,
                data,
                None,
                a.filename.clone(),
                a.content_type.to_string(),
            )
        }
        Err(why) => (
            None,
            None,
            Some(why.code().to_string()),
            attachment::safe_filename(name),
            "application/octet-stream".to_string(),
        ),
    };
    let row = NewAttachment {
        conversation_id,
        message_id,
        filename,
        content_type,
        size: bytes.len() as i64,
        sha256,
        file_path: file_path.clone(),
        rejected,
        uploaded_by,
    };
    let created = app.store.create_attachment(&row, data.as_deref()).await;
    let created = match created {
        Ok(c) => c,
        Err(e) => {
            if let Some(p) = file_path {
                let _ = tokio::fs::remove_file(app.config.data_dir.join(p)).await;
            }
            return Err(e.into());
        }
    };
    Ok(checked.map(|_| created))
}

/// A staff member's upload to a conversation, waiting for the reply or note it goes with.
/// A file that is not kept is a clear error, and nothing is stored.
pub async fn upload(
    app: &App,
    actor: &Actor,
    conversation_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<Attachment> {
    if !actor.can(Permission::InboxWrite) {
        return Err(Error::Forbidden);
    }
    app.store.conversation(conversation_id).await?;
    refuse_unkept(name, bytes)?;
    let uploaded_by = Some(actor.user_id).filter(|id| *id > 0);
    record(app, conversation_id, None, name, bytes, uploaded_by)
        .await?
        .map_err(|why| refused(name, why))
}

/// A file someone tries to send that the desk would not keep, as the error they are shown
/// (`attachment_type_not_allowed`, …).
fn refused(name: &str, why: attachment::Rejected) -> Error {
    Error::invalid(
        &format!("attachment_{}", why.code()),
        format!("{}: {why}", attachment::safe_filename(name)),
    )
}

/// Refuses, before anything is stored, a file the desk would not keep.
pub(crate) fn refuse_unkept(name: &str, bytes: &[u8]) -> Result<()> {
    attachment::check(name, bytes)
        .map(|_| ())
        .map_err(|why| refused(name, why))
}

/// Keeps a file a customer sent (an e-mail's attachment, a messenger photo) with its
/// message; one that is not kept is recorded with the reason.
pub(crate) async fn keep_received(
    app: &App,
    conversation_id: i64,
    message_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<()> {
    if let Err(why) = record(app, conversation_id, Some(message_id), name, bytes, None).await? {
        tracing::info!(file = %name, reason = %why, "a customer's file was recorded, not kept");
    }
    Ok(())
}

/// Gives a message the uploads its author chose; all of them, or an error.
pub(crate) async fn bind(
    app: &App,
    conversation_id: i64,
    message_id: i64,
    ids: &[i64],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let bound = app
        .store
        .bind_attachments(conversation_id, message_id, ids)
        .await?;
    if bound as usize != ids.len() {
        return Err(Error::invalid(
            "invalid_attachment",
            "an attachment is not an upload of this conversation waiting for its message",
        ));
    }
    Ok(())
}

/// Checks the uploads a message names before the message is stored.
pub(crate) async fn check_uploads(app: &App, conversation_id: i64, ids: &[i64]) -> Result<()> {
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(Error::invalid(
            "too_many_attachments",
            format!("a message carries at most {MAX_ATTACHMENTS_PER_MESSAGE} files"),
        ));
    }
    for id in ids {
        let a = match app.store.attachment(*id).await {
            Ok(a) => a,
            Err(nunchi_store::StoreError::NotFound(_)) => {
                return Err(Error::invalid(
                    "invalid_attachment",
                    format!("attachment {id} does not exist"),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if a.conversation_id != conversation_id || a.message_id.is_some() {
            return Err(Error::invalid(
                "invalid_attachment",
                format!(
                    "attachment {id} is not an upload of this conversation waiting for its message"
                ),
            ));
        }
    }
    Ok(())
}

/// The files of these messages, by message.
pub async fn of_messages(app: &App, message_ids: &[i64]) -> Result<HashMap<i64, Vec<Attachment>>> {
    let mut by_message: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for a in app.store.message_attachments(message_ids).await? {
        if let Some(m) = a.message_id {
            by_message.entry(m).or_default().push(a);
        }
    }
    Ok(by_message)
}

/// Reads a kept file's bytes, wherever this backend keeps them.
pub async fn bytes_of(app: &App, a: &Attachment) -> Result<Vec<u8>> {
    match &a.file_path {
        Some(p) => tokio::fs::read(app.config.data_dir.join(p))
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("attachment {}: {e}", a.id))),
        None => app
            .store
            .attachment_data(a.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("attachment {}", a.id))),
    }
}

/// A file of conversation `conversation_id`, for staff who may read it.
pub async fn open(
    app: &App,
    actor: &Actor,
    conversation_id: i64,
    id: i64,
) -> Result<(Attachment, Vec<u8>)> {
    if !actor.can(Permission::InboxRead) {
        return Err(Error::Forbidden);
    }
    let a = app.store.attachment(id).await?;
    if a.conversation_id != conversation_id || a.rejected.is_some() {
        return Err(Error::NotFound(format!("attachment {id}")));
    }
    let bytes = bytes_of(app, &a).await?;
    Ok((a, bytes))
}

/// Removes the data-folder files of an erased customer's conversations (their rows went
/// with the erasure).
pub(crate) async fn remove_files(app: &App, paths: &[String]) {
    for p in paths {
        if let Err(e) = tokio::fs::remove_file(app.config.data_dir.join(p)).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %p, error = %e, "an erased attachment's file could not be removed");
        }
    }
}

//! Live updates of the support desk: every line added to a thread goes through `add_line`,
//! which stores it and then tells whoever listens (chat sockets, open inboxes) which
//! conversation moved. The signal carries no data: a listener reads what it missed from the
//! store by sequence number, so a dropped signal (a slow listener, a restart) loses nothing
//! — the next signal or the listener's own periodic check catches it up.

use nunchi_core::conversation::{ConversationChannel, MessageDirection};
use nunchi_store::model::{Conversation, ConversationMessage, NewConversation, NewMessage};
use tokio::sync::broadcast;

use crate::{App, Result};

/// How many signals a slow listener may fall behind before it is told it lagged (and
/// re-reads from the store).
const BACKLOG: usize = 1024;

/// A conversation gained line `seq` (or was opened with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub conversation_id: i64,
    pub seq: i64,
}

/// The in-process hub. One node only: several nodes would relay these through the
/// database (PostgreSQL `LISTEN`/`NOTIFY`), which the multi-node work adds.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<Moved>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            tx: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Live {
    pub fn subscribe(&self) -> broadcast::Receiver<Moved> {
        self.tx.subscribe()
    }

    pub fn publish(&self, moved: Moved) {
        // No listener is not an error: nobody has the inbox open.
        let _ = self.tx.send(moved);
    }
}

/// Adds a line to a thread (`ConversationStore::add_message`) and signals it.
pub async fn add_line(
    app: &App,
    conversation_id: i64,
    line: &NewMessage,
) -> Result<ConversationMessage> {
    let added = app.store.add_message(conversation_id, line).await?;
    app.live.publish(Moved {
        conversation_id,
        seq: added.seq,
    });
    Ok(added)
}

/// Opens a conversation with its first line and signals it.
pub async fn open(
    app: &App,
    new: &NewConversation,
    first: &NewMessage,
) -> Result<(Conversation, ConversationMessage)> {
    let (conversation, line) = app.store.create_conversation(new, first).await?;
    app.live.publish(Moved {
        conversation_id: conversation.id,
        seq: line.seq,
    });
    Ok((conversation, line))
}

/// Writes an activity line; `what` is a stable key (`reopened`, `status=resolved`,
/// `assignee=12`), which faces show in the reader's language.
pub async fn activity(
    app: &App,
    conversation_id: i64,
    channel: ConversationChannel,
    by: Option<i64>,
    what: &str,
) -> Result<()> {
    crate::live::add_line(
        app,
        conversation_id,
        &NewMessage {
            direction: MessageDirection::Activity,
            channel,
            author_user_id: by,
            text: what.into(),
            external_id: None,
            subject: None,
            delivery: None,
            at: None,
            client_id: None,
        },
    )
    .await?;
    Ok(())
}

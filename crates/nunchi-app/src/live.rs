//! Live updates of the support desk: every line added to a thread goes through `add_line`,
//! which stores it and then tells whoever listens (chat sockets, open inboxes) which
//! conversation moved. The signal carries no data: a listener reads what it missed from the
//! store by sequence number, so a dropped signal (a slow listener, a restart) loses nothing
//! — the next signal or the listener's own periodic check catches it up.

use nunchi_core::conversation::{ConversationChannel, MessageDirection};
use nunchi_store::model::{Conversation, ConversationMessage, NewConversation, NewMessage};
use std::{collections::HashMap, sync::Mutex};

use tokio::sync::{broadcast, watch};

use crate::{App, Result};

/// How many moves a slow inbox may fall behind before it is told it lagged (and shows
/// that something moved).
const BACKLOG: usize = 1024;

/// A conversation gained line `seq` (or was opened with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub conversation_id: i64,
    pub seq: i64,
}

/// The in-process hub: one broadcast of every move (an open inbox listens to it) and, per
/// conversation someone follows, the newest line's number (a thread's sockets wait on it;
/// a reader that misses intermediate values loses nothing, since it reads every line after
/// the number it holds). One node only: several nodes would relay these through the
/// database (PostgreSQL `LISTEN`/`NOTIFY`), which the multi-node work adds.
#[derive(Debug)]
pub struct Live {
    all: broadcast::Sender<Moved>,
    threads: Mutex<Threads>,
}

#[derive(Debug, Default)]
struct Threads {
    by_conversation: HashMap<i64, watch::Sender<i64>>,
    /// The map's size after the last sweep of conversations nobody follows any more.
    swept_at: usize,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            all: broadcast::channel(BACKLOG).0,
            threads: Mutex::new(Threads::default()),
        }
    }
}

impl Live {
    /// Every move, for an open inbox.
    pub fn subscribe(&self) -> broadcast::Receiver<Moved> {
        self.all.subscribe()
    }

    /// The newest line's number of one conversation, changing as lines are added.
    pub fn follow(&self, conversation_id: i64) -> watch::Receiver<i64> {
        let mut t = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        if t.by_conversation.len() > 2 * t.swept_at.max(512) {
            t.by_conversation.retain(|_, tx| tx.receiver_count() > 0);
            t.swept_at = t.by_conversation.len();
        }
        t.by_conversation
            .entry(conversation_id)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    pub fn publish(&self, moved: Moved) {
        // No listener is not an error: nobody has the inbox open.
        let _ = self.all.send(moved);
        let mut t = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = t.by_conversation.get(&moved.conversation_id) {
            if tx.receiver_count() == 0 {
                t.by_conversation.remove(&moved.conversation_id);
            } else {
                tx.send_if_modified(|seq| {
                    let newer = moved.seq > *seq;
                    *seq = (*seq).max(moved.seq);
                    newer
                });
            }
        }
    }
}

/// Adds a line to a thread (`ConversationStore::add_message`) and signals it.
pub async fn add_line(
    app: &App,
    conversation_id: i64,
    line: &NewMessage,
) -> Result<ConversationMessage> {
    let added = app.store.add_message(conversation_id, line).await?;
    signal(app, &added);
    Ok(added)
}

/// Adds a line without telling listeners yet, for a caller that gives it more first (its
/// files), so that nobody renders it half-made; `signal` tells them.
pub async fn add_line_unsignalled(
    app: &App,
    conversation_id: i64,
    line: &NewMessage,
) -> Result<ConversationMessage> {
    Ok(app.store.add_message(conversation_id, line).await?)
}

/// Tells listeners that `line` was added.
pub fn signal(app: &App, line: &ConversationMessage) {
    app.live.publish(Moved {
        conversation_id: line.conversation_id,
        seq: line.seq,
    });
}

/// Opens a conversation with its first line and signals it.
pub async fn open(
    app: &App,
    new: &NewConversation,
    first: &NewMessage,
) -> Result<(Conversation, ConversationMessage)> {
    let (conversation, line) = app.store.create_conversation(new, first).await?;
    app.touched([conversation.customer_id]);
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

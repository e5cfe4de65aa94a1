//! Event ingest and the live analytics engine. Requests parse and validate messages,
//! resolve who sent them, and hand them to one writer task, which appends everything
//! waiting in one transaction (group commit: one fsync for many requests), then feeds the
//! in-memory engine and answers every request in the group. A 200 therefore means the
//! event is on disk. Duplicates by message id are dropped within a 24-hour window, as
//! Segment does.

pub mod engine;
pub mod segment;

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, RwLock};

use nunchi_core::customer::{CustomerName, ProfileFields};
use nunchi_core::email::Email;
use nunchi_core::identity::{Identity, IdentityKind};
use nunchi_core::import::CustomerRecord;
use nunchi_core::phone::Phone;
use nunchi_store::model::{EventRow, EventSource};
use nunchi_store::{Store, StoreError};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use self::engine::Engine;
use self::segment::{Kind, Message};

/// Duplicates are recognised for this long after the first copy arrived.
pub const DEDUP_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// At most this many events go into one transaction.
const MAX_GROUP_EVENTS: usize = 50_000;
/// Events read per page when the engine is rebuilt from the store.
const REBUILD_PAGE: i64 = 50_000;

enum Command {
    Append {
        rows: Vec<EventRow>,
        links: Vec<(String, i64)>,
        done: oneshot::Sender<Result<usize, String>>,
    },
    Rebuild,
}

/// Message ids seen within the window, as 64-bit hashes of (source, message id).
#[derive(Default)]
struct Dedup {
    seen: HashSet<u64, BuildHasherDefault<PassThrough>>,
    order: VecDeque<(i64, u64)>,
}

/// A 64-bit hash of (source, message id): FxHash's multiply-rotate over 8-byte words,
/// several times cheaper than SipHash on the ingest path. Collisions among a day's ids
/// are negligible (about 1 in 10^6 at 10 million ids) and would drop one event.
fn message_key(source_id: i64, message_id: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let step = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut h = step(0, source_id as u64);
    let bytes = message_id.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = step(h, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = step(h, u64::from_le_bytes(tail));
    // Finalise so that ids differing only in length or in early bytes spread.
    step(h, bytes.len() as u64) ^ (h >> 29)
}

/// Keys are already hashes: the set uses them as they are.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl Dedup {
    fn expire(&mut self, now: i64) {
        while let Some(&(at, key)) = self.order.front() {
            if at >= now - DEDUP_WINDOW_MS {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&key);
        }
    }

    fn insert(&mut self, at: i64, key: u64) -> bool {
        let new = self.seen.insert(key);
        if new {
            self.order.push_back((at, key));
        }
        new
    }

    fn remove(&mut self, key: u64) {
        self.seen.remove(&key);
    }
}

pub struct Events {
    pub engine: Arc<RwLock<Engine>>,
    tx: mpsc::Sender<Command>,
    ready: watch::Receiver<bool>,
    /// userId → customer id, so known senders cost no database read.
    users: Mutex<HashMap<String, i64>>,
    /// Write-key hash → source.
    sources: Mutex<HashMap<String, EventSource>>,
}

/// Why an ingest failed after validation.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Events {
    /// Starts the writer task, which first rebuilds the engine from the store.
    pub fn start(store: Arc<dyn Store>) -> Arc<Events> {
        let (tx, rx) = mpsc::channel(1024);
        let (ready_tx, ready) = watch::channel(false);
        let engine = Arc::new(RwLock::new(Engine::default()));
        tokio::spawn(writer(store, engine.clone(), rx, ready_tx));
        Arc::new(Events {
            engine,
            tx,
            ready,
            users: Mutex::new(HashMap::new()),
            sources: Mutex::new(HashMap::new()),
        })
    }

    /// Waits until the engine holds every stored event.
    pub async fn ready(&self) {
        let mut ready = self.ready.clone();
        let _ = ready.wait_for(|r| *r).await;
    }

    /// Reloads the engine from the store, e.g. after touchpoint rules changed.
    pub async fn rebuild(&self) {
        let _ = self.tx.send(Command::Rebuild).await;
    }

    /// The source a write key belongs to.
    pub async fn source(
        &self,
        store: &dyn Store,
        write_key: &str,
    ) -> Result<Option<EventSource>, StoreError> {
        let hash = crate::auth::secret::hash(write_key);
        if let Some(s) = self.sources.lock().expect("sources lock").get(&hash) {
            return Ok(Some(s.clone()));
        }
        let found = store.source_by_key(&hash).await?;
        if let Some(s) = &found {
            self.sources
                .lock()
                .expect("sources lock")
                .insert(hash, s.clone());
        }
        Ok(found)
    }

    /// The customer a Segment userId stands for (their external id), created on first
    /// sight with whatever the traits say about them.
    async fn customer_for(
        &self,
        store: &dyn Store,
        user_id: &str,
        traits: &str,
    ) -> Result<i64, StoreError> {
        if let Some(&c) = self.users.lock().expect("users lock").get(user_id) {
            return Ok(c);
        }
        let identity = Identity::new(IdentityKind::ExternalId, user_id)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let id = match store.find_by_identity(&identity).await? {
            Some(id) => id,
            None => match store
                .create_customer(
                    &record_from_traits(user_id, &serde_json::from_str(traits).unwrap_or_default()),
                    &[],
                    "events",
                )
                .await
            {
                Ok(id) => id,
                // Another request created them meanwhile.
                Err(StoreError::Conflict(_)) => store
                    .find_by_identity(&identity)
                    .await?
                    .ok_or_else(|| StoreError::Conflict(format!("customer {user_id} vanished")))?,
                Err(e) => return Err(e),
            },
        };
        self.users
            .lock()
            .expect("users lock")
            .insert(user_id.to_string(), id);
        Ok(id)
    }

    /// Stores validated messages from one request and returns how many were new. Returns
    /// once they are durable.
    pub async fn ingest(
        &self,
        store: &dyn Store,
        source: &EventSource,
        messages: Vec<Message>,
        received_at: i64,
    ) -> Result<usize, IngestError> {
        let mut rows = Vec::with_capacity(messages.len());
        let mut links = Vec::new();
        for m in messages {
            let customer = match &m.user_id {
                Some(u) => Some(self.customer_for(store, u, &m.traits).await?),
                None => None,
            };
            // Stitch: an anonymous id seen with a userId (or an alias's previous id)
            // belongs to that customer from now on, and so does its history.
            if let Some(c) = customer {
                let anon = if m.kind == Kind::Alias {
                    m.previous_id.as_deref()
                } else {
                    m.anonymous_id.as_deref()
                };
                if let Some(a) = anon {
                    let known = self.engine.read().expect("engine lock").linked(a).is_some()
                        || links.iter().any(|(l, _): &(String, i64)| l == a);
                    if !known {
                        let identity = Identity::new(IdentityKind::AnonymousId, a)
                            .map_err(|e| StoreError::Conflict(e.to_string()))?;
                        match store.add_identity(c, &identity, "events").await {
                            Ok(()) => links.push((a.to_string(), c)),
                            Err(StoreError::Conflict(_)) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            let linked = || {
                m.anonymous_id
                    .as_deref()
                    .and_then(|a| self.engine.read().expect("engine lock").linked(a))
            };
            let channel = match (&source.channel, m.named_channel) {
                (Some(default), false) => default.clone(),
                _ => m.channel.as_str().to_string(),
            };
            rows.push(EventRow {
                id: 0,
                source_id: source.id,
                customer_id: customer.or_else(linked),
                message_id: m.message_id,
                kind: m.kind.as_str().to_string(),
                name: m.name,
                user_id: m.user_id,
                anonymous_id: m.anonymous_id,
                channel,
                ts: m.ts_ms,
                received_at,
                properties: m.properties,
                context: m.context,
            });
        }
        let (done, reply) = oneshot::channel();
        self.tx
            .send(Command::Append { rows, links, done })
            .await
            .map_err(|_| IngestError::Unavailable("the writer stopped".into()))?;
        reply
            .await
            .map_err(|_| IngestError::Unavailable("the writer stopped".into()))?
            .map_err(IngestError::Unavailable)
    }
}

/// A new customer's record from identify traits; unusable traits are left out rather
/// than failing the event.
fn record_from_traits(user_id: &str, traits: &serde_json::Map<String, Value>) -> CustomerRecord {
    let text = |k: &str| {
        traits
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let name =
        text("name")
            .map(str::to_string)
            .or_else(|| match (text("firstName"), text("lastName")) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (f, l) => f.or(l).map(str::to_string),
            });
    CustomerRecord {
        external_id: Some(user_id.to_string()),
        profile: ProfileFields {
            name: name.and_then(|n| CustomerName::parse(&n).ok()),
            ..ProfileFields::default()
        },
        email: text("email").and_then(|e| Email::parse(e).ok()),
        phone: text("phone").and_then(|p| Phone::parse(p).ok()),
        tags: Vec::new(),
        consents: Vec::new(),
        life_events: Vec::new(),
        attributes: Vec::new(),
        created_at: None,
    }
}

/// Loads the engine and the dedup window from the store.
async fn load(
    store: &dyn Store,
    engine: &RwLock<Engine>,
    dedup: &mut Dedup,
) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let mut fresh = Engine::new(&store.touchpoints().await?, store.anonymous_links().await?);
    let mut after = 0;
    loop {
        let page = store.events_page(after, REBUILD_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in &page {
            fresh.feed(row);
        }
    }
    fresh.log.compact();
    let now = crate::now_ms();
    *dedup = Dedup::default();
    for (source, message_id) in store.recent_message_ids(now - DEDUP_WINDOW_MS).await? {
        dedup.insert(now, message_key(source, &message_id));
    }
    tracing::info!(
        events = fresh.log.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "analytics engine loaded"
    );
    *engine.write().expect("engine lock") = fresh;
    Ok(())
}

async fn writer(
    store: Arc<dyn Store>,
    engine: Arc<RwLock<Engine>>,
    mut rx: mpsc::Receiver<Command>,
    ready: watch::Sender<bool>,
) {
    let mut dedup = Dedup::default();
    while let Err(e) = load(store.as_ref(), &engine, &mut dedup).await {
        tracing::error!(error = ?e, "cannot load events; retrying");
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    let _ = ready.send(true);
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let mut pending: usize = group.iter().map(command_len).sum();
        while pending < MAX_GROUP_EVENTS {
            match rx.try_recv() {
                Ok(cmd) => {
                    pending += command_len(&cmd);
                    group.push(cmd);
                }
                Err(_) => break,
            }
        }
        let rebuild = group.iter().any(|c| matches!(c, Command::Rebuild));
        let now = crate::now_ms();
        dedup.expire(now);
        let mut fresh = Vec::with_capacity(pending);
        let mut keys = Vec::with_capacity(pending);
        let mut replies = Vec::new();
        let mut links = Vec::new();
        for cmd in group {
            let Command::Append {
                rows,
                links: l,
                done,
            } = cmd
            else {
                continue;
            };
            let mut new = 0;
            for row in rows {
                let key = message_key(row.source_id, &row.message_id);
                if dedup.insert(row.received_at, key) {
                    keys.push(key);
                    fresh.push(row);
                    new += 1;
                }
            }
            links.extend(l);
            replies.push((done, new));
        }
        match store.append_events(&fresh).await {
            Ok(()) => {
                let mut e = engine.write().expect("engine lock");
                for row in &fresh {
                    e.feed(row);
                }
                for (anon, customer) in &links {
                    e.link(anon, *customer);
                }
                drop(e);
                for (done, new) in replies {
                    let _ = done.send(Ok(new));
                }
            }
            Err(err) => {
                tracing::error!(error = ?err, events = fresh.len(), "cannot store events");
                for key in keys {
                    dedup.remove(key);
                }
                for (done, _) in replies {
                    let _ = done.send(Err(err.to_string()));
                }
            }
        }
        if rebuild && let Err(e) = load(store.as_ref(), &engine, &mut dedup).await {
            tracing::error!(error = ?e, "cannot rebuild the analytics engine");
        }
    }
}

fn command_len(c: &Command) -> usize {
    match c {
        Command::Append { rows, .. } => rows.len(),
        Command::Rebuild => 0,
    }
}

//! Event ingest and the live analytics engine. Requests parse and validate messages,
//! resolve who sent them, and hand them to one writer task, which appends everything
//! waiting in one transaction (group commit: one fsync for many requests), then feeds the
//! in-memory engine and answers every request in the group. A 200 therefore means the
//! event is on disk. Duplicates by message id are dropped within a 24-hour window, as
//! Segment does.

pub mod dedup;
pub mod engine;
pub mod segment;

use std::collections::HashMap;
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

use self::dedup::Dedup;
pub use self::dedup::{DEDUP_WINDOW_MS, DEFAULT_MAX_IDS};
use self::engine::Engine;
use self::segment::{Kind, Message};

/// At most this many events go into one transaction.
const MAX_GROUP_EVENTS: usize = 50_000;
/// Senders' user ids remembered with their customer id, at most.
const MAX_CACHED_USERS: usize = 100_000;
/// Events read per page when the engine is rebuilt from the store.
const REBUILD_PAGE: i64 = 50_000;

enum Command {
    Append {
        rows: Vec<EventRow>,
        links: Vec<(String, i64)>,
        done: oneshot::Sender<Result<usize, String>>,
    },
    Rebuild,
    /// Events for `from` go to `into` from now on (`None`: no longer). Sent before a merge
    /// commits and answered only once the group it arrived in is stored, so no event
    /// appended after the merge can still name the merged-away profile.
    Redirect {
        from: i64,
        into: Option<i64>,
        done: oneshot::Sender<()>,
    },
    /// A merge committed: the engine moves `from`'s history to `into`.
    Merged {
        from: i64,
        into: i64,
    },
    /// An erasure committed: the engine forgets the anonymous ids stitched to `customer`.
    Erased {
        customer: i64,
    },
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
    /// Starts the writer task, which first rebuilds the engine from the store. The
    /// de-duplication window remembers at most `dedup_max_ids` message ids.
    pub fn start(
        store: Arc<dyn Store>,
        dedup_max_ids: usize,
        clock: Arc<dyn crate::Clock>,
        upkeep: Arc<crate::segment_upkeep::Upkeep>,
    ) -> Arc<Events> {
        let (tx, rx) = mpsc::channel(1024);
        let (ready_tx, ready) = watch::channel(false);
        let engine = Arc::new(RwLock::new(Engine::default()));
        tokio::spawn(writer(
            store,
            engine.clone(),
            rx,
            ready_tx,
            dedup_max_ids,
            clock,
            upkeep,
        ));
        Arc::new(Events {
            engine,
            tx,
            ready,
            users: Mutex::new(HashMap::new()),
            sources: Mutex::new(HashMap::new()),
        })
    }

    /// Events with no writer: ingest answers unavailable, and the engine stays empty.
    pub fn offline() -> Arc<Events> {
        let (tx, _) = mpsc::channel(1);
        let (_, ready) = watch::channel(true);
        Arc::new(Events {
            engine: Arc::new(RwLock::new(Engine::default())),
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

    /// Merges customer `from` into `into` with `merge` (the store's merge), keeping the
    /// engine and the user cache in step: events in flight for `from` land on `into`, and
    /// `from`'s history moves at once rather than at the next restart.
    pub async fn merge<F, E>(&self, from: i64, into: i64, merge: F) -> Result<(), E>
    where
        F: std::future::Future<Output = Result<(), E>>,
    {
        self.send_redirect(from, Some(into)).await;
        match merge.await {
            Ok(()) => {
                for c in self.users.lock().expect("users lock").values_mut() {
                    if *c == from {
                        *c = into;
                    }
                }
                let _ = self.tx.send(Command::Merged { from, into }).await;
                Ok(())
            }
            Err(e) => {
                self.send_redirect(from, None).await;
                Err(e)
            }
        }
    }

    async fn send_redirect(&self, from: i64, into: Option<i64>) {
        let (done, ack) = oneshot::channel();
        if self
            .tx
            .send(Command::Redirect { from, into, done })
            .await
            .is_ok()
        {
            let _ = ack.await;
        }
    }

    /// After customer `id` was erased: nothing in memory still maps their user ids or
    /// anonymous ids to them.
    pub async fn erased(&self, id: i64) {
        self.users
            .lock()
            .expect("users lock")
            .retain(|_, c| *c != id);
        let _ = self.tx.send(Command::Erased { customer: id }).await;
    }

    /// The source a write key belongs to.
    pub async fn source(
        &self,
        store: &dyn Store,
        write_key: &str,
    ) -> Result<Option<EventSource>, StoreError> {
        let hash = crate::secret::hash(write_key);
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
        let mut users = self.users.lock().expect("users lock");
        // A cache, not a record: bounded, and refilled from the store after a reset.
        if users.len() >= MAX_CACHED_USERS {
            users.clear();
        }
        users.insert(user_id.to_string(), id);
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
    max_ids: usize,
    now: i64,
) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let mut fresh = Engine::new(&store.touchpoints().await?, store.anonymous_links().await?);
    // The window is refilled from the same pass over the table, in arrival order.
    let since = now - DEDUP_WINDOW_MS;
    let mut window = Dedup::with_capacity_limit(max_ids);
    let mut after = 0;
    loop {
        let page = store.events_page(after, REBUILD_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in &page {
            fresh.feed(row);
            if row.received_at >= since {
                window.insert(row.received_at, row.source_id, &row.message_id);
            }
        }
    }
    *dedup = window;
    fresh.log.compact();
    tracing::info!(
        events = fresh.log.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "analytics engine loaded"
    );
    let mut current = engine.write().expect("engine lock");
    fresh.take_redirects(&mut current);
    *current = fresh;
    Ok(())
}

async fn writer(
    store: Arc<dyn Store>,
    engine: Arc<RwLock<Engine>>,
    mut rx: mpsc::Receiver<Command>,
    ready: watch::Sender<bool>,
    max_ids: usize,
    clock: Arc<dyn crate::Clock>,
    upkeep: Arc<crate::segment_upkeep::Upkeep>,
) {
    let mut dedup = Dedup::with_capacity_limit(max_ids);
    while let Err(e) = load(store.as_ref(), &engine, &mut dedup, max_ids, clock.now_ms()).await {
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
        dedup.expire(clock.now_ms());
        let mark = dedup.mark();
        let mut fresh = Vec::with_capacity(pending);
        let mut replies = Vec::new();
        let mut links = Vec::new();
        let (mut redirected, mut merged, mut erased) = (Vec::new(), Vec::new(), Vec::new());
        for cmd in group {
            match cmd {
                Command::Append {
                    rows,
                    links: l,
                    done,
                } => {
                    let e = engine.read().expect("engine lock");
                    let mut new = 0;
                    for mut row in rows {
                        if dedup.insert(row.received_at, row.source_id, &row.message_id) {
                            row.customer_id = row.customer_id.map(|c| e.resolve(c));
                            fresh.push(row);
                            new += 1;
                        }
                    }
                    links.extend(l.into_iter().map(|(a, c)| (a, e.resolve(c))));
                    replies.push((done, new));
                }
                Command::Redirect { from, into, done } => {
                    engine.write().expect("engine lock").redirect(from, into);
                    redirected.push(done);
                }
                Command::Merged { from, into } => merged.push((from, into)),
                Command::Erased { customer } => erased.push(customer),
                Command::Rebuild => {}
            }
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
                // Segments judge these customers again in their next round.
                upkeep.touches.customers(
                    fresh
                        .iter()
                        .filter_map(|r| r.customer_id)
                        .chain(links.iter().map(|(_, c)| *c)),
                );
                for (done, new) in replies {
                    let _ = done.send(Ok(new));
                }
            }
            Err(err) => {
                tracing::error!(error = ?err, events = fresh.len(), "cannot store events");
                dedup.take_back(mark);
                for (done, _) in replies {
                    let _ = done.send(Err(err.to_string()));
                }
            }
        }
        if !merged.is_empty() || !erased.is_empty() {
            let mut e = engine.write().expect("engine lock");
            for (from, into) in merged {
                e.merge(from, into);
                upkeep.touches.customers([from, into]);
            }
            for customer in erased {
                e.forget(customer);
                upkeep.touches.customers([customer]);
            }
        }
        for done in redirected {
            let _ = done.send(());
        }
        if rebuild
            && let Err(e) = load(store.as_ref(), &engine, &mut dedup, max_ids, clock.now_ms()).await
        {
            tracing::error!(error = ?e, "cannot rebuild the analytics engine");
        }
    }
}

fn command_len(c: &Command) -> usize {
    match c {
        Command::Append { rows, .. } => rows.len(),
        _ => 0,
    }
}

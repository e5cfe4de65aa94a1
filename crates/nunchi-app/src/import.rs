//! Streaming CSV import and export of customers and orders, shared by the CLI and the
//! background job behind the import page. A reader thread parses and validates rows into
//! batches; the async side writes each batch in one transaction. Memory stays bounded by
//! the batch size and the channel depth, whatever the file size.

use nunchi_core::consent::Purpose;
use nunchi_core::identity::IdentityKind;
use nunchi_core::life_event::LifeEventKind;
use std::{io::Read, sync::Arc};

use nunchi_core::import::{CUSTOMER_COLUMNS, CustomerRecord, Header, ORDER_COLUMNS, OrderLine};
use nunchi_store::{Store, model::Upserted};

use crate::csv_records::Records;
use crate::{Actor, App, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const BATCH: usize = 1000;
/// Reports keep the first this-many bad rows; the count covers all of them.
const MAX_REPORTED_ERRORS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Customers,
    Orders,
}

impl ImportKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customers" => Some(Self::Customers),
            "orders" => Some(Self::Orders),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub imported: u64,
    pub created: u64,
    pub updated: u64,
    pub rejected: u64,
    /// The first bad rows, each with its line number and reason.
    pub errors: Vec<RowError>,
}

impl ImportReport {
    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError { line, reason });
        }
    }
}

/// A whole-file problem: no header, an unknown column, unreadable input.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line 1: {0}")]
    Header(String),
    #[error("cannot read the file: {0}")]
    Read(String),
    #[error(transparent)]
    Store(#[from] nunchi_store::StoreError),
}

enum Parsed<T> {
    Good(u64, T),
    Bad(u64, String),
}

type ParsedBatches<T> = tokio::sync::mpsc::Receiver<Result<Vec<Parsed<T>>, ImportError>>;

/// Reads `reader` on a blocking thread and yields parsed rows in batches.
fn spawn_parser<T: Send + 'static>(
    reader: Box<dyn Read + Send>,
    known: &'static [&'static str],
    required: &'static [&'static str],
    allow_attributes: bool,
    parse: fn(&Header, &[&str]) -> nunchi_core::CoreResult<T>,
) -> (ParsedBatches<T>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let handle = tokio::task::spawn_blocking(move || {
        // UTF-8, or CP949 as Korean Excel saves it.
        let reader = match crate::text_encoding::utf8_reader(reader) {
            Ok((reader, _)) => reader,
            Err(e) => {
                let _ = tx.blocking_send(Err(ImportError::Read(e.to_string())));
                return;
            }
        };
        let mut records = Records::new(std::io::BufReader::with_capacity(1 << 16, reader));
        let header = match records.read() {
            Ok(Some(Ok(record))) => match record.strs() {
                Some(f) => Header::parse(&f, known, required, allow_attributes)
                    .map_err(|e| ImportError::Header(e.message)),
                None => Err(ImportError::Header(
                    "the header is neither UTF-8 nor CP949 (EUC-KR); save the file as UTF-8".into(),
                )),
            },
            Ok(Some(Err(broken))) => Err(ImportError::Header(broken.reason)),
            Ok(None) => Err(ImportError::Header("the file is empty".into())),
            Err(e) => Err(ImportError::Read(e.to_string())),
        };
        let header = match header {
            Ok(h) => h,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            match records.read() {
                Ok(None) => break,
                Ok(Some(Ok(record))) => {
                    if record.is_blank() {
                        continue;
                    }
                    batch.push(match record.strs() {
                        None => Parsed::Bad(
                            record.line,
                            "not valid UTF-8 (nor CP949); save the file as UTF-8".into(),
                        ),
                        Some(f) => match parse(&header, &f) {
                            Ok(v) => Parsed::Good(record.line, v),
                            Err(e) => Parsed::Bad(record.line, e.to_string()),
                        },
                    });
                }
                Ok(Some(Err(broken))) => batch.push(Parsed::Bad(broken.line, broken.reason)),
                Err(e) => {
                    let _ = tx.blocking_send(Err(ImportError::Read(e.to_string())));
                    return;
                }
            }
            if batch.len() == BATCH
                && tx
                    .blocking_send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))))
                    .is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(Ok(batch));
        }
    });
    (rx, handle)
}

/// What writing one good row did.
enum Written {
    Created,
    Updated,
    Imported,
}

/// Writing one batch: per row what happened, or a failure of the whole batch.
type WriteBatch<'a> = futures_util::future::BoxFuture<
    'a,
    Result<Vec<nunchi_store::StoreResult<Written>>, nunchi_store::StoreError>,
>;

/// Runs an import: counts rows, reports bad ones by line, and hands each batch of good rows
/// to `write` (unless it is a dry run), which says per row what happened.
async fn drive<'a, T: Send + 'static>(
    (mut rx, handle): (ParsedBatches<T>, tokio::task::JoinHandle<()>),
    dry_run: bool,
    progress: &(dyn Fn(u64) + Sync),
    write: impl Fn(Vec<T>) -> WriteBatch<'a>,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport {
        dry_run,
        ..Default::default()
    };
    while let Some(batch) = rx.recv().await {
        let (mut lines, mut rows) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
        for p in batch? {
            report.rows += 1;
            match p {
                Parsed::Good(line, r) => {
                    lines.push(line);
                    rows.push(r);
                }
                Parsed::Bad(line, reason) => report.reject(line, reason),
            }
        }
        if dry_run {
            report.imported += rows.len() as u64;
        } else {
            for (line, result) in lines.into_iter().zip(write(rows).await?) {
                match result {
                    Ok(w) => {
                        report.imported += 1;
                        match w {
                            Written::Created => report.created += 1,
                            Written::Updated => report.updated += 1,
                            Written::Imported => {}
                        }
                    }
                    Err(e) => report.reject(line, e.to_string()),
                }
            }
        }
        progress(report.rows);
    }
    let _ = handle.await;
    Ok(report)
}

/// Imports a customer CSV. `progress` is called after each batch with the rows done.
pub async fn import_customers(
    store: Arc<dyn Store>,
    reader: Box<dyn Read + Send>,
    dry_run: bool,
    source: &str,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportReport, ImportError> {
    let parser = spawn_parser(reader, CUSTOMER_COLUMNS, &[], true, Header::customer);
    let store = &store;
    drive(parser, dry_run, progress, |rows: Vec<CustomerRecord>| {
        Box::pin(async move {
            let results = store.upsert_customers(&rows, source).await?;
            Ok(results
                .into_iter()
                .map(|r| {
                    r.map(|u| {
                        if matches!(u, Upserted::Created(_)) {
                            Written::Created
                        } else {
                            Written::Updated
                        }
                    })
                })
                .collect())
        })
    })
    .await
}

/// Imports an order CSV (one line item per row).
pub async fn import_orders(
    store: Arc<dyn Store>,
    reader: Box<dyn Read + Send>,
    dry_run: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportReport, ImportError> {
    const REQUIRED: &[&str] = &[
        "order_id",
        "customer_external_id",
        "placed_at",
        "product",
        "unit_price",
        "quantity",
    ];
    let parser = spawn_parser(reader, ORDER_COLUMNS, REQUIRED, false, Header::order_line);
    let store = &store;
    drive(parser, dry_run, progress, |rows: Vec<OrderLine>| {
        Box::pin(async move {
            let written = store.upsert_order_lines(&rows).await?;
            // Points follow the imported orders as they do orders sent to the API.
            let ids: Vec<i64> = written
                .iter()
                .filter_map(|r| r.as_ref().ok().copied())
                .collect();
            crate::loyalty::earning::follow_orders(store.as_ref(), store.clock().now_ms(), &ids)
                .await?;
            Ok(written
                .into_iter()
                .map(|r| r.map(|_| Written::Imported))
                .collect())
        })
    })
    .await
}

/// Where an export sends its CSV, a page at a time; the receiver writes it to a file or an
/// HTTP response, and a slow receiver slows the export instead of filling memory.
pub type ExportSink = tokio::sync::mpsc::Sender<Vec<u8>>;

async fn send(sink: &ExportSink, chunk: Vec<u8>) -> anyhow::Result<()> {
    sink.send(chunk)
        .await
        .map_err(|_| anyhow::anyhow!("the export's reader went away"))
}

/// The first chunk of an export, after the byte-order mark Korean Excel needs to read
/// the file as UTF-8 (our own import skips it).
fn with_bom(mut chunk: Vec<u8>) -> Vec<u8> {
    chunk.splice(0..0, crate::text_encoding::UTF8_BOM.iter().copied());
    chunk
}

fn csv_rows(
    write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    write(&mut w)?;
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Writes customers as CSV in the import format, so an export re-imports unchanged.
pub async fn export_customers(store: &dyn Store, sink: ExportSink) -> anyhow::Result<u64> {
    let attrs = store.attribute_keys().await?;
    let mut header: Vec<String> = CUSTOMER_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(attrs.iter().map(|k| format!("attr_{k}")));
    send(&sink, with_bom(csv_rows(|w| w.write_record(&header))?)).await?;
    let (mut after, mut count) = (0, 0u64);
    loop {
        let page = store.customers_page(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.row.id;
        let mut w = csv::Writer::from_writer(Vec::new());
        for c in &page {
            let granted = |purpose: Purpose| {
                c.consents
                    .iter()
                    .filter(|k| k.purpose == purpose && k.granted)
                    .map(|k| k.channel.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            };
            let date = |kind: LifeEventKind| {
                c.life_events
                    .iter()
                    .find(|e| e.kind == kind)
                    .map(|e| e.date.clone())
                    .unwrap_or_default()
            };
            let mut row = vec![
                c.identity(IdentityKind::ExternalId)
                    .unwrap_or_default()
                    .to_string(),
                c.row.name.clone().unwrap_or_default(),
                c.identity(IdentityKind::Email)
                    .unwrap_or_default()
                    .to_string(),
                c.identity(IdentityKind::Phone)
                    .unwrap_or_default()
                    .to_string(),
                c.row.language.clone().unwrap_or_default(),
                c.row.time_zone.clone().unwrap_or_default(),
                c.row.preferred_channel.clone().unwrap_or_default(),
                c.tags.join(";"),
                granted(Purpose::Marketing),
                granted(Purpose::NightAds),
                date(LifeEventKind::Birthday),
                date(LifeEventKind::WeddingAnniversary),
                nunchi_core::time::Millis(c.row.created_at).to_rfc3339(),
            ];
            row.extend(attrs.iter().map(|k| {
                c.attributes
                    .iter()
                    .find(|a| &a.key == k)
                    .map(|a| a.value.clone())
                    .unwrap_or_default()
            }));
            w.write_record(&row)?;
            count += 1;
        }
        send(&sink, w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?).await?;
    }
    Ok(count)
}

/// Writes orders as CSV in the import format, one row per line item.
pub async fn export_orders(store: &dyn Store, sink: ExportSink) -> anyhow::Result<u64> {
    send(
        &sink,
        with_bom(csv_rows(|w| w.write_record(ORDER_COLUMNS))?),
    )
    .await?;
    let (mut after, mut count) = (0, 0u64);
    let mut externals: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    loop {
        let page = store.orders_page(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.row.id;
        let mut w = csv::Writer::from_writer(Vec::new());
        for o in &page {
            if let std::collections::hash_map::Entry::Vacant(e) = externals.entry(o.row.customer_id)
            {
                let c = store.customer(o.row.customer_id).await?;
                e.insert(
                    c.identity(IdentityKind::ExternalId)
                        .unwrap_or_default()
                        .to_string(),
                );
            }
            let currency = o.row.currency;
            let money = |m: i64| nunchi_core::money::Money::new(m, currency).to_decimal_string();
            for item in &o.items {
                w.write_record([
                    o.row.external_id.as_str(),
                    &externals[&o.row.customer_id],
                    &nunchi_core::time::Millis(o.row.placed_at).to_rfc3339(),
                    o.row.status.as_str(),
                    o.row.currency.code(),
                    o.row.channel.as_str(),
                    &item.product,
                    &item.category,
                    &money(item.unit_price_minor),
                    &item.quantity.to_string(),
                    &if o.row.refunded_minor > 0 {
                        money(o.row.refunded_minor)
                    } else {
                        String::new()
                    },
                ])?;
                count += 1;
            }
        }
        send(&sink, w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?).await?;
        if externals.len() > 100_000 {
            externals.clear();
        }
    }
    Ok(count)
}

/// How an import went, as a person reads it: the job can be done while the import
/// failed (a file that could not be read, or every row refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Queued,
    Running,
    /// Every row imported (or, in a dry run, would be).
    Completed,
    /// Imported, with some rows refused.
    CompletedWithErrors,
    /// Nothing imported: the file could not be read, every row was refused, or the job
    /// failed.
    Failed,
}

impl ImportOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::CompletedWithErrors => "completed_with_errors",
            Self::Failed => "failed",
        }
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

/// What an import job's status and result say about the import.
pub fn outcome(job: &nunchi_store::model::Job) -> ImportOutcome {
    use nunchi_core::status::JobStatus;
    match job.status {
        JobStatus::Queued => ImportOutcome::Queued,
        JobStatus::Running => ImportOutcome::Running,
        JobStatus::Failed => ImportOutcome::Failed,
        JobStatus::Done => {
            match job
                .result
                .as_deref()
                .map(serde_json::from_str::<ImportReport>)
            {
                Some(Ok(r)) if r.rows > 0 && r.imported == 0 => ImportOutcome::Failed,
                Some(Ok(r)) if r.rejected > 0 => ImportOutcome::CompletedWithErrors,
                Some(Ok(_)) => ImportOutcome::Completed,
                // A file-level error (`{"file_error": …}`) or a result this version cannot read.
                _ => ImportOutcome::Failed,
            }
        }
    }
}

/// An import of an uploaded file as a background job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportJob {
    pub what: ImportKind,
    pub path: std::path::PathBuf,
    pub dry_run: bool,
    /// Who started it, for the audit log.
    pub actor: String,
}

impl crate::jobs::Job for ImportJob {
    const KIND: &'static str = "import";

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let file = std::fs::File::open(&self.path)?;
        let reader: Box<dyn std::io::Read + Send> =
            Box::new(std::io::BufReader::with_capacity(1 << 20, file));
        let report = match self.what {
            ImportKind::Customers => {
                let report = import_customers(
                    app.store.clone(),
                    reader,
                    self.dry_run,
                    "csv_import",
                    &|_| {},
                )
                .await;
                app.segment_upkeep.touches.everyone();
                report
            }
            ImportKind::Orders => {
                let report = import_orders(app.store.clone(), reader, self.dry_run, &|_| {}).await;
                app.customer_models.mark_stale();
                app.segment_upkeep.touches.everyones_orders();
                report
            }
        };
        // A file the import cannot read is the uploader's problem, not a retryable one:
        // record it as the job's result rather than failing the job.
        let result = match report {
            Ok(r) => serde_json::to_value(&r)?,
            Err(ImportError::Store(e)) => return Err(e.into()),
            Err(e) => serde_json::json!({ "file_error": e.to_string() }),
        };
        let _ = std::fs::remove_file(&self.path);
        app.audit_system(
            &self.actor,
            "import",
            &format!("{:?}", self.what).to_lowercase(),
            &result.to_string(),
        )
        .await;
        Ok(result.to_string())
    }
}

/// Queues an import of the uploaded file at `path` as a background job, and records it.
pub async fn enqueue_import(
    state: &App,
    actor: &Actor,
    what: ImportKind,
    path: std::path::PathBuf,
    dry_run: bool,
) -> Result<i64> {
    let id = crate::jobs::enqueue(
        state,
        &ImportJob {
            what,
            path,
            dry_run,
            actor: actor.label.clone(),
        },
    )
    .await?;
    state
        .audit_by(
            actor,
            "import.start",
            &format!("job {id}"),
            &format!("{what:?} dry_run={dry_run}").to_lowercase(),
        )
        .await;
    Ok(id)
}

/// Starts a full CSV export (`customers.csv` or `orders.csv`), recorded in the audit log:
/// the file's chunks arrive on the returned channel as they are written.
pub async fn start_export(
    app: &App,
    actor: &Actor,
    file: &str,
) -> crate::Result<tokio::sync::mpsc::Receiver<Vec<u8>>> {
    let kind = match file {
        "customers.csv" => ImportKind::Customers,
        "orders.csv" => ImportKind::Orders,
        _ => return Err(crate::Error::NotFound(format!("export {file}"))),
    };
    app.audit_by(actor, "export", file, "full CSV export").await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let store = app.store.clone();
    tokio::spawn(async move {
        let result = match kind {
            ImportKind::Customers => export_customers(store.as_ref(), tx).await,
            ImportKind::Orders => export_orders(store.as_ref(), tx).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = ?e, "export stopped");
        }
    });
    Ok(rx)
}

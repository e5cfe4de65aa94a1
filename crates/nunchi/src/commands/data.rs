//! `nunchi import` and `nunchi export`: CSV in and out with a progress bar, a report of every
//! bad row with its line number, and bounded memory whatever the file size.

use std::{
    io::{Read, Write},
    path::Path,
    sync::Arc,
};

use anyhow::Context;
use nunchi_app::import::{self, ImportReport};
use nunchi_store::Store;

use super::progress;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Customers,
    Orders,
}

/// What `nunchi import` reads: the exportable kinds, and feedback (reviews, survey
/// answers, social posts… in the columns of `POST /api/v1/feedback/import`).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImportKind {
    Customers,
    Orders,
    Feedback,
}

pub async fn import(
    store: Arc<dyn Store>,
    kind: ImportKind,
    file: &Path,
    dry_run: bool,
    errors: Option<&Path>,
) -> anyhow::Result<()> {
    let kind = match kind {
        ImportKind::Customers => Kind::Customers,
        ImportKind::Orders => Kind::Orders,
        ImportKind::Feedback => return import_feedback(store, file, dry_run, errors).await,
    };
    let f =
        std::fs::File::open(file).with_context(|| format!("failed to open {}", file.display()))?;
    let size = f.metadata()?.len();
    let bar = progress(size, if dry_run { "checking" } else { "importing" });
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {percent:>3}% {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let reader: Box<dyn Read + Send> = Box::new(super::csv_input::Counting {
        inner: std::io::BufReader::with_capacity(1 << 20, f),
        bar: bar.clone(),
    });
    let started = std::time::Instant::now();
    let report = match kind {
        Kind::Customers => {
            import::import_customers(store, reader, dry_run, "csv_import", &|_| {}).await
        }
        Kind::Orders => import::import_orders(store, reader, dry_run, &|_| {}).await,
    }?;
    bar.finish_and_clear();
    print_report(&report, started.elapsed().as_secs_f64());
    let rejected: Vec<(usize, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line as usize, e.reason.as_str()))
        .collect();
    write_errors(errors, &rejected)
}

/// Writes every rejected row (line, reason) to `path`, when one was asked for.
fn write_errors(path: Option<&Path>, rejected: &[(usize, &str)]) -> anyhow::Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    let mut w = csv::Writer::from_path(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    w.write_record(["line", "reason"])?;
    for (line, reason) in rejected {
        w.write_record([line.to_string(), reason.to_string()])?;
    }
    w.flush()?;
    println!("rejected rows written to {}", path.display());
    Ok(())
}

/// Feedback from a CSV file: the same checks as the API, a progress bar over the lines,
/// every bad line reported and the good ones stored. The server annotates their text
/// when it next runs.
async fn import_feedback(
    store: Arc<dyn Store>,
    file: &Path,
    dry_run: bool,
    errors: Option<&Path>,
) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(file).with_context(|| format!("failed to read {}", file.display()))?;
    let Some((text, charset)) = nunchi_app::text_encoding::utf8_text(&bytes) else {
        let at = std::str::from_utf8(&bytes)
            .err()
            .map_or(0, |e| e.valid_up_to());
        anyhow::bail!(
            "{} is neither UTF-8 nor CP949 (byte {at}); save it as UTF-8 and try again",
            file.display()
        );
    };
    if charset == nunchi_app::text_encoding::Charset::Cp949 {
        println!("read {} as CP949 (EUC-KR)", file.display());
    }
    let lines = text.lines().count().saturating_sub(1) as u64;
    let bar = progress(lines, if dry_run { "checking" } else { "importing" });
    let started = std::time::Instant::now();
    let report = nunchi_app::feedback::import_csv(
        store.as_ref(),
        &text,
        nunchi_app::clock::system_now_ms(),
        dry_run,
        &|_| bar.inc(1),
    )
    .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let mode = if dry_run {
        " (dry run: nothing saved)"
    } else {
        ""
    };
    println!("{} rows read in {secs:.1}s{mode}", report.results.len());
    println!(
        "  imported {}  (created {}, already there {})",
        report.created + report.existing,
        report.created,
        report.existing
    );
    println!("  rejected {}", report.rejected);
    let rejected: Vec<(usize, &str)> = report
        .results
        .iter()
        .filter_map(|r| r.error.as_deref().map(|e| (r.at, e)))
        .collect();
    for (line, reason) in rejected.iter().take(20) {
        println!("    line {line}: {reason}");
    }
    if rejected.len() > 20 {
        println!(
            "    … and {} more (use --errors FILE for all of them)",
            rejected.len() - 20
        );
    }
    write_errors(errors, &rejected)
}

fn print_report(r: &ImportReport, secs: f64) {
    let mode = if r.dry_run {
        " (dry run: nothing saved)"
    } else {
        ""
    };
    println!(
        "{} rows read in {secs:.1}s ({:.0} rows/s){mode}",
        r.rows,
        r.rows as f64 / secs.max(1e-9)
    );
    println!(
        "  imported {}  (created {}, updated {})",
        r.imported, r.created, r.updated
    );
    println!("  rejected {}", r.rejected);
    if let Some(mib) = super::peak_rss_mib() {
        println!("  peak memory {mib:.0} MiB");
    }
    for e in r.errors.iter().take(20) {
        println!("    line {}: {}", e.line, e.reason);
    }
    if r.errors.len() > 20 {
        println!(
            "    … and {} more (use --errors FILE for all of them)",
            r.rejected - 20
        );
    }
}

pub async fn export(
    store: Arc<dyn Store>,
    kind: Kind,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let mut out: Box<dyn Write + Send> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("failed to create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<Box<dyn Write + Send>> {
        while let Some(chunk) = rx.blocking_recv() {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        Ok(out)
    });
    let count = match kind {
        Kind::Customers => import::export_customers(store.as_ref(), tx).await?,
        Kind::Orders => import::export_orders(store.as_ref(), tx).await?,
    };
    writer.await?.context("failed to write the export")?;
    if output.is_some() {
        eprintln!("exported {count} rows");
    }
    Ok(())
}

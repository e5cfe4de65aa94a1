//! `nunchi import` and `nunchi export`: CSV in and out with a progress bar, a report of every
//! bad row with its line number, and bounded memory whatever the file size.

use std::{
    io::{Read, Write},
    path::Path,
    sync::Arc,
};

use anyhow::Context;
use nunchi_server::import::{self, ImportReport};
use nunchi_store::Store;

use super::progress;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Customers,
    Orders,
}

/// Counts bytes as the CSV reader consumes them, to drive the progress bar.
struct Counting<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

pub async fn import(
    store: Arc<dyn Store>,
    kind: Kind,
    file: &Path,
    dry_run: bool,
    errors: Option<&Path>,
) -> anyhow::Result<()> {
    let f =
        std::fs::File::open(file).with_context(|| format!("failed to open {}", file.display()))?;
    let size = f.metadata()?.len();
    let bar = progress(size, if dry_run { "checking" } else { "importing" });
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {percent:>3}% {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let reader: Box<dyn Read + Send> = Box::new(Counting {
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
    if let Some(path) = errors {
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("failed to create {}", path.display()))?;
        w.write_record(["line", "reason"])?;
        for e in &report.errors {
            w.write_record([e.line.to_string(), e.reason.clone()])?;
        }
        w.flush()?;
        println!("rejected rows written to {}", path.display());
    }
    Ok(())
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

//! Reading a CSV file for the analysis commands (`analyze`, `clv`, `recommend`) and the
//! importers: a progress bar that follows the bytes read, header columns found by name,
//! and bad rows reported by line number and skipped while the good rows load.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::Context;

/// How many bad rows are listed before the rest are only counted.
const LISTED_BAD_ROWS: u64 = 20;

/// Counts bytes as the CSV reader pulls them, for the progress bar.
pub struct Counting<R> {
    pub inner: R,
    pub bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

pub type Reader = csv::Reader<Counting<BufReader<File>>>;

/// Opens `path` for reading with a progress bar labelled `what` (hidden when `quiet`).
pub fn open(path: &Path, quiet: bool, what: &str) -> anyhow::Result<(Reader, csv::ByteRecord)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        super::progress(size, what)
    };
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .from_reader(Counting {
            inner: BufReader::with_capacity(1 << 20, file),
            bar,
        });
    let headers = reader
        .byte_headers()
        .context("cannot read the CSV header")?
        .clone();
    Ok((reader, headers))
}

/// The position of the header column `name` (ASCII case ignored).
pub fn column(headers: &csv::ByteRecord, name: &str) -> Option<usize> {
    headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name.as_bytes()))
}

/// A field as trimmed UTF-8, or why not.
pub fn text<'a>(record: &'a csv::ByteRecord, col: usize, name: &str) -> Result<&'a str, String> {
    std::str::from_utf8(record.get(col).unwrap_or_default())
        .map(str::trim)
        .map_err(|_| format!("{name} is not UTF-8"))
}

/// Feeds every row of `reader` to `row` with its line number; rows it refuses are
/// reported on standard error (the first few in full) and counted. Returns (good, bad).
pub fn each_row(
    reader: &mut Reader,
    mut row: impl FnMut(&csv::ByteRecord) -> Result<(), String>,
) -> (u64, u64) {
    let (mut good, mut bad) = (0u64, 0u64);
    let mut report = |line: u64, why: &str| {
        bad += 1;
        if bad <= LISTED_BAD_ROWS {
            eprintln!("line {line}: {why}; row skipped");
        }
    };
    let mut record = csv::ByteRecord::new();
    loop {
        let line = record.position().map_or(0, |p| p.line() + 1);
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report(line, &format!("unreadable row: {e}"));
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        match row(&record) {
            Ok(()) => good += 1,
            Err(why) => report(line, &why),
        }
    }
    reader.get_ref().bar.finish_and_clear();
    if bad > LISTED_BAD_ROWS {
        eprintln!("… and {} more bad rows", bad - LISTED_BAD_ROWS);
    }
    (good, bad)
}

//! Reads an events CSV (`customer_id,event,timestamp[,channel]`, rows in any order) into
//! the engine's log. Bad rows are reported by line number and skipped; good rows load.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, bail};
use nunchi_analytics::Keys;
use nunchi_analytics::log::{Event, EventLog};
use nunchi_core::channel::Channel;
use nunchi_core::time::Millis;

/// How many bad rows are listed before the rest are only counted.
const LISTED_BAD_ROWS: usize = 20;

pub struct Loaded {
    pub log: EventLog,
    pub customers: Keys<Box<str>>,
    pub rows: u64,
    pub bad_rows: u64,
}

/// Counts bytes as the CSV reader pulls them, for the progress bar.
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

fn column(headers: &csv::ByteRecord, name: &str) -> Option<usize> {
    headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name.as_bytes()))
}

fn timestamp(field: &[u8]) -> Result<u32, String> {
    let text = std::str::from_utf8(field).map_err(|_| "timestamp is not UTF-8".to_string())?;
    let millis = Millis::parse(text)
        .map_err(|_| format!("timestamp {text:?} is neither RFC 3339 nor Unix seconds"))?;
    u32::try_from(millis.0.div_euclid(1_000))
        .map_err(|_| format!("timestamp {text:?} is outside 1970–2106"))
}

pub fn load(path: &Path, quiet: bool) -> anyhow::Result<Loaded> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        super::super::progress(size, "loading events")
    };
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .from_reader(Counting {
            inner: BufReader::with_capacity(1 << 20, file),
            bar: bar.clone(),
        });
    let headers = reader
        .byte_headers()
        .context("cannot read the CSV header")?
        .clone();
    let (Some(customer_col), Some(event_col), Some(ts_col)) = (
        column(&headers, "customer_id"),
        column(&headers, "event"),
        column(&headers, "timestamp"),
    ) else {
        bail!("the header must name at least customer_id, event and timestamp");
    };
    let channel_col = column(&headers, "channel");
    let mut loaded = Loaded {
        log: EventLog::new(),
        customers: Keys::new(),
        rows: 0,
        bad_rows: 0,
    };
    let mut record = csv::ByteRecord::new();
    loop {
        let line = record.position().map_or(0, |p| p.line() + 1);
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report(&mut loaded, line, &format!("unreadable row: {e}"));
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        match event(
            &mut loaded,
            &record,
            customer_col,
            event_col,
            ts_col,
            channel_col,
        ) {
            Ok(()) => loaded.rows += 1,
            Err(why) => report(&mut loaded, line, &why),
        }
    }
    loaded.log.compact();
    bar.finish_and_clear();
    if loaded.bad_rows > LISTED_BAD_ROWS as u64 {
        eprintln!(
            "… and {} more bad rows",
            loaded.bad_rows - LISTED_BAD_ROWS as u64
        );
    }
    Ok(loaded)
}

fn report(loaded: &mut Loaded, line: u64, why: &str) {
    loaded.bad_rows += 1;
    if loaded.bad_rows <= LISTED_BAD_ROWS as u64 {
        eprintln!("line {line}: {why}; row skipped");
    }
}

fn event(
    loaded: &mut Loaded,
    record: &csv::ByteRecord,
    customer_col: usize,
    event_col: usize,
    ts_col: usize,
    channel_col: Option<usize>,
) -> Result<(), String> {
    let field = |i: usize| record.get(i).unwrap_or_default();
    let customer = std::str::from_utf8(field(customer_col))
        .map_err(|_| "customer_id is not UTF-8".to_string())?
        .trim();
    if customer.is_empty() {
        return Err("customer_id is empty".into());
    }
    let name = std::str::from_utf8(field(event_col))
        .map_err(|_| "event is not UTF-8".to_string())?
        .trim();
    if name.is_empty() {
        return Err("event is empty".into());
    }
    let ts = timestamp(field(ts_col))?;
    let channel = match channel_col.map(field) {
        None | Some(b"") => Channel::Custom,
        Some(raw) => {
            let text = std::str::from_utf8(raw).unwrap_or("");
            Channel::parse(text).ok_or_else(|| {
                format!("unknown channel {text:?} (web, app, store, phone, email, messenger, social, custom)")
            })?
        }
    };
    let name = loaded.log.intern(name).map_err(|e| e.to_string())?;
    let customer = loaded.customers.index(customer);
    loaded.log.push(
        customer,
        Event {
            ts,
            name,
            touchpoint: 0,
            channel,
        },
    );
    Ok(())
}

//! Reads an events CSV (`customer_id,event,timestamp[,channel]`, rows in any order) into
//! the engine's log. Bad rows are reported by line number and skipped; good rows load.

use std::path::Path;

use anyhow::bail;
use nunchi_analytics::Keys;
use nunchi_analytics::log::{Event, EventLog};
use nunchi_core::channel::Channel;
use nunchi_core::time::Millis;

use crate::commands::csv_input::{self, column};

pub struct Loaded {
    pub log: EventLog,
    pub customers: Keys<Box<str>>,
}

pub fn load(path: &Path, quiet: bool) -> anyhow::Result<Loaded> {
    let (mut reader, headers) = csv_input::open(path, quiet, "loading events")?;
    let (Some(customer_col), Some(event_col), Some(ts_col)) = (
        column(&headers, "customer_id"),
        column(&headers, "event"),
        column(&headers, "timestamp"),
    ) else {
        bail!("the header must name at least customer_id, event and timestamp");
    };
    let channel_col = column(&headers, "channel");
    let mut log = EventLog::new();
    let mut customers = Keys::new();
    csv_input::each_row(&mut reader, |record| {
        event(
            &mut log,
            &mut customers,
            record,
            customer_col,
            event_col,
            ts_col,
            channel_col,
        )
    });
    log.compact();
    Ok(Loaded { log, customers })
}

fn timestamp(field: &[u8]) -> Result<u32, String> {
    let text = std::str::from_utf8(field).map_err(|_| "timestamp is not UTF-8".to_string())?;
    let millis = Millis::parse(text)
        .map_err(|_| format!("timestamp {text:?} is neither RFC 3339 nor Unix seconds"))?;
    u32::try_from(millis.0.div_euclid(1_000))
        .map_err(|_| format!("timestamp {text:?} is outside 1970–2106"))
}

fn event(
    log: &mut EventLog,
    customers: &mut Keys<Box<str>>,
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
    let name = log.intern(name).map_err(|e| e.to_string())?;
    let customer = customers.index(customer);
    log.push(
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

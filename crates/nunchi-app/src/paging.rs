//! Paging for lists: the page size a caller may ask for, and opaque cursors (base64 of
//! the position the next page starts after) that callers pass back unchanged.

use base64::Engine;
use nunchi_store::model::TimelineCursor;

use crate::Error;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

pub fn limit(requested: Option<i64>) -> Result<i64, Error> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid(
            "invalid_limit",
            format!("limit must be 1–{MAX_LIMIT}"),
        )),
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// Cursors are opaque to clients: base64 of the position the next page starts after.
pub fn encode_id_cursor(id: i64) -> String {
    b64().encode(id.to_string())
}

pub fn decode_id_cursor(cursor: Option<&str>) -> Result<Option<i64>, Error> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            b64()
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    Error::invalid("invalid_cursor", "the cursor is not one this API gave out")
                })
        })
        .transpose()
}

pub fn encode_timeline_cursor(c: &TimelineCursor) -> String {
    b64().encode(format!("{}|{}|{}", c.at, c.kind, c.ref_id))
}

pub fn decode_timeline_cursor(cursor: Option<&str>) -> Result<Option<TimelineCursor>, Error> {
    let bad = || Error::invalid("invalid_cursor", "the cursor is not one this API gave out");
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            let s = String::from_utf8(b64().decode(c).map_err(|_| bad())?).map_err(|_| bad())?;
            let mut it = s.splitn(3, '|');
            let (at, kind, ref_id) = (it.next(), it.next(), it.next());
            Ok(TimelineCursor {
                at: at.and_then(|v| v.parse().ok()).ok_or_else(bad)?,
                kind: kind.ok_or_else(bad)?.to_string(),
                ref_id: ref_id.and_then(|v| v.parse().ok()).ok_or_else(bad)?,
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        assert_eq!(
            decode_id_cursor(Some(&encode_id_cursor(42))).unwrap(),
            Some(42)
        );
        assert_eq!(decode_id_cursor(None).unwrap(), None);
        assert!(decode_id_cursor(Some("!!")).is_err());
        let c = TimelineCursor {
            at: 5,
            kind: "note".into(),
            ref_id: 9,
        };
        assert_eq!(
            decode_timeline_cursor(Some(&encode_timeline_cursor(&c))).unwrap(),
            Some(c)
        );
        assert!(decode_timeline_cursor(Some(&encode_id_cursor(1))).is_err());
        assert!(limit(Some(0)).is_err() && limit(Some(501)).is_err() && limit(None).unwrap() == 50);
    }
}

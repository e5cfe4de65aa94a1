//! The one source of the current time. The store stamps rows and operations ask `App::now`
//! from the same `Clock`, so a test can move time (a survey's minimum days between
//! contacts, retries, windows) instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

/// Unix milliseconds now.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        system_now_ms()
    }
}

/// The machine's clock, for the few places that run before an `App` exists. The one
/// place allowed to read the system time (clippy.toml disallows it elsewhere).
#[allow(clippy::disallowed_methods)]
pub fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn at(ms: i64) -> Self {
        TestClock(AtomicI64::new(ms))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

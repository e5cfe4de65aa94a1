//! Rate limits on everything a stranger can reach without signing in: the survey link,
//! the widget's JSON, the tracking API, the sign-in page and any request whose
//! credentials do not check out. Each limit is a GCRA bucket (a rate with a burst of the
//! same size) per client address, per survey or per write key; a refused request gets
//! `429 Too Many Requests` with `Retry-After`. Without limits, 2,000 anonymous answers
//! in ten seconds once moved a brand's NPS from +17 to −93.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{Extensions, HeaderMap, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

use nunchi_app::Error;

use crate::{AppState, error::AppError};

/// Past this many remembered keys a limiter forgets the idle ones; past four times as
/// many (a flood from very many addresses) it forgets all, failing open rather than
/// growing without bound.
const TIDY_AT: usize = 50_000;

/// The limits a server runs with; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Requests per minute per client address on public pages and endpoints, and on any
    /// request that is not signed in.
    pub public_per_minute: u32,
    /// New survey responses (link answers, widget displays) per minute per client address.
    pub responses_per_minute: u32,
    /// New survey responses per minute per survey, from everyone together.
    pub survey_responses_per_minute: u32,
    /// Tracking API requests per second per client address, and per write key.
    pub tracking_per_second: u32,
    /// Take the client's address from the last `X-Forwarded-For` entry (set this only
    /// behind a proxy that appends it).
    pub trust_forwarded_for: bool,
}

impl LimitSettings {
    pub const DEFAULT: LimitSettings = LimitSettings {
        public_per_minute: 600,
        responses_per_minute: 20,
        survey_responses_per_minute: 600,
        tracking_per_second: 2000,
        trust_forwarded_for: false,
    };

    /// No limits: for tests that are not about limits.
    pub const OFF: LimitSettings = LimitSettings {
        public_per_minute: 0,
        responses_per_minute: 0,
        survey_responses_per_minute: 0,
        tracking_per_second: 0,
        trust_forwarded_for: false,
    };
}

/// A GCRA limiter: `count` per `per`, with bursts of up to `count`.
pub struct Limiter<K> {
    /// Time between two requests at the sustained rate; `None`: unlimited.
    interval: Option<Duration>,
    /// How far ahead of now the theoretical arrival time may run.
    tolerance: Duration,
    state: Mutex<Keys<K>>,
}

/// Each key's theoretical arrival time, and the size at which the idle ones are dropped
/// next (doubling, so a crowd of busy keys costs one sweep per doubling, not one per
/// request).
struct Keys<K> {
    tat: HashMap<K, Instant>,
    tidy_at: usize,
}

impl<K: Hash + Eq> Limiter<K> {
    pub fn new(count: u32, per: Duration) -> Self {
        let interval = (count > 0).then(|| per / count);
        Limiter {
            interval,
            tolerance: interval.map_or(Duration::ZERO, |i| i * count.saturating_sub(1)),
            state: Mutex::new(Keys {
                tat: HashMap::new(),
                tidy_at: TIDY_AT,
            }),
        }
    }

    /// Counts one request for `key`: `Ok`, or how long to wait before the next.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: K, now: Instant) -> Result<(), Duration> {
        let Some(interval) = self.interval else {
            return Ok(());
        };
        let mut keys = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if keys.tat.len() >= keys.tidy_at {
            keys.tat.retain(|_, tat| *tat > now);
            if keys.tat.len() >= 4 * TIDY_AT {
                keys.tat.clear();
            }
            keys.tidy_at = (2 * keys.tat.len()).max(TIDY_AT);
        }
        let tat = keys.tat.get(&key).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        keys.tat.insert(key, tat + interval);
        Ok(())
    }
}

/// Every limiter a server holds.
pub struct Limits {
    pub settings: LimitSettings,
    /// Sign-in attempts per client address (account lockout in the store stops guessing
    /// one password; this stops one address from trying many accounts).
    pub sign_in: Limiter<IpAddr>,
    pub public: Limiter<IpAddr>,
    pub responses: Limiter<IpAddr>,
    pub survey_responses: Limiter<i64>,
    pub tracking_address: Limiter<IpAddr>,
    pub tracking_key: Limiter<i64>,
}

/// A wait in whole seconds, rounded up, for `Retry-After`.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn refused(wait: Duration) -> Error {
    Error::TooManyRequests {
        retry_after_secs: retry_after_secs(wait),
    }
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        let minute = Duration::from_secs(60);
        let second = Duration::from_secs(1);
        Limits {
            settings,
            sign_in: Limiter::new(20, Duration::from_secs(300)),
            public: Limiter::new(settings.public_per_minute, minute),
            responses: Limiter::new(settings.responses_per_minute, minute),
            survey_responses: Limiter::new(settings.survey_responses_per_minute, minute),
            tracking_address: Limiter::new(settings.tracking_per_second, second),
            tracking_key: Limiter::new(settings.tracking_per_second, second),
        }
    }

    /// One public request (or one that failed to sign in) from `ip`.
    pub fn public(&self, ip: IpAddr) -> Result<(), Error> {
        self.public.check(ip).map_err(refused)
    }

    /// A new survey response from `ip` to `survey`.
    pub fn new_response(&self, ip: IpAddr, survey: i64) -> Result<(), Error> {
        self.responses.check(ip).map_err(refused)?;
        self.survey_responses.check(survey).map_err(refused)
    }
}

/// The client's address: the socket's peer, or with `trust_forwarded_for` the last
/// `X-Forwarded-For` entry. IPv6 addresses count per /64, the block one subscriber gets.
pub fn client_ip(
    extensions: &Extensions,
    headers: &HeaderMap,
    trust_forwarded_for: bool,
) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| {
            headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .and_then(|a| a.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    let ip = forwarded.unwrap_or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]))
    });
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The client's address as an extractor (see [`client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(
            &parts.extensions,
            &parts.headers,
            state.limits.settings.trust_forwarded_for,
        )))
    }
}

/// Whether a request carries credentials (a session cookie or an `Authorization`
/// header); those that do are counted only if the credentials fail (see `auth`).
fn has_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key("authorization")
        || crate::auth::cookie_value(headers, crate::auth::SESSION_COOKIE).is_some()
}

/// Counts every request without credentials against its address's public limit. The
/// tracking API (`/v1/*`) has limits of its own, checked in its handler.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/v1/") && !has_credentials(req.headers()) {
        let ip = client_ip(
            req.extensions(),
            req.headers(),
            state.limits.settings.trust_forwarded_for,
        );
        if let Err(e) = state.limits.public(ip) {
            let e = AppError::from(e);
            let html = !req.uri().path().starts_with("/api/");
            return if html {
                crate::ui::UiError(e).into_response()
            } else {
                e.into_response()
            };
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_up_to_the_rate_then_waits_one_interval() {
        let l = Limiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at("a", t0).is_ok());
        }
        let wait = l.check_at("a", t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(20));
        assert!(l.check_at("b", t0).is_ok(), "keys are independent");
        assert!(l.check_at("a", t0 + Duration::from_secs(19)).is_err());
        assert!(l.check_at("a", t0 + Duration::from_secs(20)).is_ok());
        assert!(l.check_at("a", t0 + Duration::from_secs(20)).is_err());
        // After a quiet spell the whole burst is back.
        let later = t0 + Duration::from_secs(600);
        for _ in 0..3 {
            assert!(l.check_at("a", later).is_ok());
        }
    }

    #[test]
    fn idle_keys_are_swept_in_doubling_steps() {
        let l = Limiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        for n in 0..(TIDY_AT as u32 * 3) {
            assert!(l.check_at(n, t0).is_ok());
        }
        // Every key is still busy, so nothing could be dropped, and the next sweep waits
        // for the map to double rather than running on every request.
        let keys = l.state.lock().unwrap();
        assert_eq!(keys.tat.len(), TIDY_AT * 3);
        assert!(keys.tidy_at > TIDY_AT * 3, "{}", keys.tidy_at);
        drop(keys);
        // Once they are idle, the next sweep forgets them.
        let later = t0 + Duration::from_secs(3600);
        for n in 0..(TIDY_AT as u32 * 4) {
            assert!(l.check_at(1_000_000 + n, later).is_ok());
        }
        assert!(l.state.lock().unwrap().tat.len() <= TIDY_AT * 4);
    }

    #[test]
    fn zero_means_unlimited() {
        let l = Limiter::new(0, Duration::from_secs(1));
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| l.check_at(1, t0).is_ok()));
    }

    #[test]
    fn addresses_are_read_from_the_socket_or_a_trusted_proxy() {
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 4000))));
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4".parse().unwrap(),
        );
        assert_eq!(
            client_ip(&ext, &headers, false),
            IpAddr::from([10, 0, 0, 7])
        );
        assert_eq!(
            client_ip(&ext, &headers, true),
            IpAddr::from([198, 51, 100, 4])
        );
        let mut v6 = Extensions::new();
        v6.insert(ConnectInfo(
            "[2001:db8:1:2:3:4:5:6]:443".parse::<SocketAddr>().unwrap(),
        ));
        assert_eq!(
            client_ip(&v6, &HeaderMap::new(), false),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
    }
}

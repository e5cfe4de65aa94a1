//! Configuration: defaults, then `nunchi.toml`, then `NUNCHI_*` variables, then flags,
//! resolved once into a validated `Config`. `RawConfig` is what a file or flags may say;
//! `Config` is what the program runs with.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// Settings as a `nunchi.toml` file (or the flags and variables above it) may give them.
#[derive(Debug, Default, Clone, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Address to listen on.
    #[arg(long, env = "NUNCHI_LISTEN", global = true)]
    pub listen: Option<String>,
    /// Folder for the SQLite database, uploads and the first admin password.
    #[arg(long, env = "NUNCHI_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`; SQLite in the data folder by default.
    #[arg(long, env = "NUNCHI_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Mark cookies Secure (set when nunchi is served over HTTPS).
    #[arg(long, env = "NUNCHI_SECURE_COOKIES", global = true)]
    pub secure_cookies: Option<bool>,
    /// Largest JSON request body, in bytes.
    #[arg(long, env = "NUNCHI_MAX_BODY_BYTES", global = true)]
    pub max_body_bytes: Option<usize>,
    /// Largest CSV upload, in bytes.
    #[arg(long, env = "NUNCHI_MAX_UPLOAD_BYTES", global = true)]
    pub max_upload_bytes: Option<usize>,
    /// `text` or `json` (one JSON object per log line).
    #[arg(long, env = "NUNCHI_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// E-mail of the admin created on first start.
    #[arg(long, env = "NUNCHI_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,
    /// Password of the admin created on first start; generated and printed once if unset.
    #[arg(
        long,
        env = "NUNCHI_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
    /// Outgoing e-mail: `smtp://HOST:PORT` (plain), `smtp://USER:PASS@HOST:587?tls=required`
    /// (STARTTLS) or `smtps://USER:PASS@HOST` (TLS). Unset: e-mail is off.
    #[arg(long, env = "NUNCHI_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// A support mailbox to take incoming mail from: `imaps://USER:PASS@HOST/INBOX` (TLS)
    /// or `imap://USER:PASS@HOST:143/INBOX` (plain, for a server on the same network).
    /// Unset: mail comes in only through the relay endpoint.
    #[arg(long, env = "NUNCHI_IMAP_URL", global = true, hide_env_values = true)]
    pub imap_url: Option<String>,
    /// Seconds between checks of the IMAP mailbox.
    #[arg(long, env = "NUNCHI_IMAP_POLL_SECONDS", global = true)]
    pub imap_poll_seconds: Option<u64>,
    /// Sender of outgoing e-mail, e.g. `Brand CX <cx@brand.example>`.
    #[arg(long, env = "NUNCHI_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// The address customers reach nunchi at, for survey links (default: http://LISTEN).
    #[arg(long, env = "NUNCHI_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Requests per minute per client address to pages and endpoints reachable without
    /// signing in (0: no limit).
    #[arg(long, env = "NUNCHI_RATE_LIMIT_PUBLIC", global = true)]
    pub rate_limit_public: Option<u32>,
    /// New survey responses per minute per client address (0: no limit).
    #[arg(long, env = "NUNCHI_RATE_LIMIT_RESPONSES", global = true)]
    pub rate_limit_responses: Option<u32>,
    /// New survey responses per minute per survey (0: no limit).
    #[arg(long, env = "NUNCHI_RATE_LIMIT_SURVEY", global = true)]
    pub rate_limit_survey: Option<u32>,
    /// Tracking API requests per second per client address and per write key (0: no limit).
    #[arg(long, env = "NUNCHI_RATE_LIMIT_TRACKING", global = true)]
    pub rate_limit_tracking: Option<u32>,
    /// Take client addresses from the last X-Forwarded-For entry (behind a proxy).
    #[arg(long, env = "NUNCHI_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: Option<bool>,
    /// Message ids the tracking API remembers for de-duplication (24 hours, or this many).
    #[arg(long, env = "NUNCHI_DEDUP_MAX_IDS", global = true)]
    pub dedup_max_ids: Option<usize>,
    /// The brand's time zone (IANA name): reports' days and weeks start at its midnight.
    #[arg(long, env = "NUNCHI_TIME_ZONE", global = true)]
    pub time_zone: Option<String>,
}

impl RawConfig {
    /// Fills every field this one leaves unset from `lower`.
    fn over(self, lower: RawConfig) -> RawConfig {
        RawConfig {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            secure_cookies: self.secure_cookies.or(lower.secure_cookies),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            max_upload_bytes: self.max_upload_bytes.or(lower.max_upload_bytes),
            log_format: self.log_format.or(lower.log_format),
            admin_email: self.admin_email.or(lower.admin_email),
            admin_password: self.admin_password.or(lower.admin_password),
            smtp_url: self.smtp_url.or(lower.smtp_url),
            imap_url: self.imap_url.or(lower.imap_url),
            imap_poll_seconds: self.imap_poll_seconds.or(lower.imap_poll_seconds),
            mail_from: self.mail_from.or(lower.mail_from),
            public_url: self.public_url.or(lower.public_url),
            rate_limit_public: self.rate_limit_public.or(lower.rate_limit_public),
            rate_limit_responses: self.rate_limit_responses.or(lower.rate_limit_responses),
            rate_limit_survey: self.rate_limit_survey.or(lower.rate_limit_survey),
            rate_limit_tracking: self.rate_limit_tracking.or(lower.rate_limit_tracking),
            trust_forwarded_for: self.trust_forwarded_for.or(lower.trust_forwarded_for),
            dedup_max_ids: self.dedup_max_ids.or(lower.dedup_max_ids),
            time_zone: self.time_zone.or(lower.time_zone),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The resolved, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Secret,
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub log_format: LogFormat,
    pub admin_email: String,
    pub admin_password: Option<Secret>,
    pub smtp_url: Option<Secret>,
    pub imap: Option<nunchi_app::imap_poll::Mailbox>,
    pub imap_poll_secs: u64,
    pub mail_from: String,
    pub public_url: String,
    pub limits: nunchi_server::ratelimit::LimitSettings,
    pub dedup_max_ids: usize,
    pub time_zone: jiff::tz::TimeZone,
}

impl Config {
    /// Resolves `cli` (flags and `NUNCHI_*`, which clap already merged) over the file.
    pub fn resolve(cli: RawConfig, file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("failed to read {}", path.display()))?;
                toml::from_str::<RawConfig>(&text)
                    .with_context(|| format!("failed to parse {}", path.display()))?
            }
            None => RawConfig::default(),
        };
        let raw = cli.over(from_file);
        let data_dir = raw.data_dir.unwrap_or_else(|| PathBuf::from("nunchi-data"));
        let listen: SocketAddr = raw
            .listen
            .as_deref()
            .unwrap_or("127.0.0.1:8080")
            .parse()
            .context("--listen must be an address such as 127.0.0.1:8080")?;
        let database_url = raw
            .database_url
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("nunchi.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("--database-url must start with sqlite: or postgres://");
        }
        let log_format = match raw.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => bail!("--log-format must be text or json, not {other:?}"),
        };
        let admin_email = raw
            .admin_email
            .unwrap_or_else(|| "admin@nunchi.local".into());
        nunchi_core::email::Email::parse(&admin_email)
            .map_err(|e| anyhow::anyhow!("--admin-email: {e}"))?;
        let mail_from = raw
            .mail_from
            .unwrap_or_else(|| "nunchi <cx@nunchi.local>".into());
        // Checks the URL and the sender now, so a typo stops the start rather than every send.
        nunchi_app::mail::Mailer::new(raw.smtp_url.as_deref(), &mail_from)
            .map_err(|e| anyhow::anyhow!("--smtp-url / --mail-from: {e}"))?;
        let public_url = raw
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("--public-url must start with http:// or https://");
        }
        Ok(Self {
            listen,
            data_dir,
            database_url: Secret(database_url),
            secure_cookies: raw.secure_cookies.unwrap_or(false),
            max_body_bytes: raw.max_body_bytes.unwrap_or(1 << 20),
            max_upload_bytes: raw.max_upload_bytes.unwrap_or(2 << 30),
            log_format,
            admin_email,
            admin_password: raw.admin_password.map(Secret),
            smtp_url: raw.smtp_url.map(Secret),
            imap: raw
                .imap_url
                .as_deref()
                .map(nunchi_app::imap_poll::Mailbox::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--imap-url: {e}"))?,
            imap_poll_secs: match raw.imap_poll_seconds {
                Some(0) => bail!("--imap-poll-seconds must be at least 1"),
                Some(n) => n,
                None => nunchi_app::imap_poll::DEFAULT_POLL_SECS,
            },
            mail_from,
            public_url,
            limits: {
                let d = nunchi_server::ratelimit::LimitSettings::DEFAULT;
                nunchi_server::ratelimit::LimitSettings {
                    public_per_minute: raw.rate_limit_public.unwrap_or(d.public_per_minute),
                    responses_per_minute: raw
                        .rate_limit_responses
                        .unwrap_or(d.responses_per_minute),
                    survey_responses_per_minute: raw
                        .rate_limit_survey
                        .unwrap_or(d.survey_responses_per_minute),
                    tracking_per_second: raw.rate_limit_tracking.unwrap_or(d.tracking_per_second),
                    trust_forwarded_for: raw.trust_forwarded_for.unwrap_or(false),
                }
            },
            dedup_max_ids: match raw.dedup_max_ids {
                Some(0) => bail!("--dedup-max-ids must be at least 1"),
                Some(n) => n,
                None => nunchi_app::events::DEFAULT_MAX_IDS,
            },
            time_zone: {
                let name = raw
                    .time_zone
                    .as_deref()
                    .unwrap_or(nunchi_app::DEFAULT_TIME_ZONE);
                jiff::tz::TimeZone::get(name)
                    .with_context(|| format!("--time-zone {name:?} is not an IANA time zone"))?
            },
        })
    }

    pub fn settings(&self) -> nunchi_server::Settings {
        nunchi_server::Settings {
            listen: self.listen,
            secure_cookies: self.secure_cookies,
            max_body_bytes: self.max_body_bytes,
            max_upload_bytes: self.max_upload_bytes,
            limits: self.limits,
            app: nunchi_app::AppConfig {
                data_dir: self.data_dir.clone(),
                smtp_url: self.smtp_url.as_ref().map(|s| s.0.clone()),
                mail_from: self.mail_from.clone(),
                imap: self.imap.clone(),
                imap_poll_secs: self.imap_poll_secs,
                public_url: self.public_url.clone(),
                dedup_max_ids: self.dedup_max_ids,
                time_zone: self.time_zone.clone(),
            },
        }
    }
}

pub const DEFAULT_TOML: &str = r#"# nunchi.toml: every setting, with its default. Variables (NUNCHI_LISTEN, …) override
# this file, and flags (--listen, …) override both.

# Address the server listens on.
listen = "127.0.0.1:8080"

# Folder for the SQLite database, uploads, and the first admin's password.
data_dir = "nunchi-data"

# sqlite:PATH (embedded, the default: sqlite:<data_dir>/nunchi.db) or, for production,
# postgres://USER:PASSWORD@HOST:5432/DATABASE
# database_url = "postgres://nunchi@127.0.0.1:5432/nunchi"

# Mark cookies Secure: set to true when nunchi is served over HTTPS.
secure_cookies = false

# Largest JSON request body and largest CSV upload, in bytes.
max_body_bytes = 1048576
max_upload_bytes = 2147483648

# "text" for people, "json" for log collectors.
log_format = "text"

# The admin created on first start. Leave the password unset to have one generated and
# printed once (it is also written to <data_dir>/initial-admin-password).
admin_email = "admin@nunchi.local"
# admin_password = "change me, at least 10 characters"

# Outgoing e-mail (survey invitations, closed-loop notices): smtp://HOST:PORT,
# smtp://USER:PASS@HOST:587?tls=required (STARTTLS) or smtps://USER:PASS@HOST.
# Unset: e-mail is off and sends wait in the queue.
# smtp_url = "smtp://127.0.0.1:25"
mail_from = "nunchi <cx@nunchi.local>"

# Incoming e-mail from a support mailbox, checked every imap_poll_seconds:
# imaps://USER:PASS@HOST/INBOX (TLS) or imap://USER:PASS@HOST:143/INBOX (plain).
# Unset: mail comes in only through POST /api/v1/inbound/email (relays).
# imap_url = "imaps://support%40brand.example:PASSWORD@imap.brand.example/INBOX"
imap_poll_seconds = 60

# The address customers reach nunchi at, for links in survey e-mail.
# public_url = "https://cx.example.com"

# Rate limits on what strangers can reach; over a limit the answer is 429 with
# Retry-After. 0 turns a limit off.
# Requests per minute per client address to public pages (survey links, the widget,
# sign-in) and to anything requested without valid credentials.
rate_limit_public = 600
# New survey responses per minute per client address, and per survey from everyone.
rate_limit_responses = 20
rate_limit_survey = 600
# Tracking API (/v1/*) requests per second per client address and per write key.
rate_limit_tracking = 2000
# Behind a reverse proxy, take the client's address from the last X-Forwarded-For entry.
trust_forwarded_for = false

# The tracking API drops a message whose messageId it saw in the last 24 hours, comparing
# whole ids; it remembers at most this many (about 70 bytes each), so at more than 23
# events a second the window is shorter than a day.
dedup_max_ids = 2000000

# The brand's time zone (IANA name): reports' days and weeks start at its midnight.
time_zone = "Asia/Seoul"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_defaults_file_then_cli() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nunchi.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/nunchi\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let cli = RawConfig {
            listen: Some("0.0.0.0:7000".into()),
            ..Default::default()
        };
        let c = Config::resolve(cli, Some(&file)).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:7000", "flag beats file");
        assert_eq!(
            c.data_dir,
            PathBuf::from("/srv/nunchi"),
            "file beats default"
        );
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.database_url.0, "sqlite:/srv/nunchi/nunchi.db");
        assert!(format!("{c:?}").contains("redacted") && !format!("{c:?}").contains("sqlite:/srv"));
    }

    #[test]
    fn bad_settings_are_rejected_and_the_default_file_parses() {
        assert!(
            Config::resolve(
                RawConfig {
                    listen: Some("nowhere".into()),
                    ..Default::default()
                },
                None
            )
            .is_err()
        );
        assert!(
            Config::resolve(
                RawConfig {
                    database_url: Some("mysql://x".into()),
                    ..Default::default()
                },
                None
            )
            .is_err()
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nunchi.toml");
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        assert!(
            Config::resolve(RawConfig::default(), Some(&file)).is_err(),
            "unknown keys are errors"
        );
        std::fs::write(&file, DEFAULT_TOML).unwrap();
        let c = Config::resolve(RawConfig::default(), Some(&file)).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    }
}

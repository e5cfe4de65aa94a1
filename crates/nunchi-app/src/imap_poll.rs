//! E-mail in by IMAP: a support mailbox polled on a schedule. Each round logs in, selects
//! the folder and takes in every message after the last UID it finished, in UID order,
//! through the same intake as the relay endpoint (threading by reply headers, one stored
//! copy per Message-ID, unreadable mail kept raw for admins). The cursor moves after each
//! message is stored, so a crash costs at most a re-read that the Message-ID check
//! absorbs; a new UIDVALIDITY (the folder was rebuilt) starts the folder again, for the
//! same reason without duplicates. Messages taken in are flagged `\Seen` and left in place.

use std::sync::Arc;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{App, Error, actor::Actor, conversations};

/// How often the mailbox is polled when the setting is absent (seconds).
pub const DEFAULT_POLL_SECS: u64 = 60;
/// Messages one round takes in at most; a bigger backlog continues in the next round.
pub const BATCH: usize = 200;
/// Settings keys: the folder's UIDVALIDITY, the last UID taken in, the last round's outcome.
const VALIDITY_KEY: &str = "imap_uid_validity";
const LAST_UID_KEY: &str = "imap_last_uid";
const STATUS_KEY: &str = "imap_last_poll";
/// How long connecting and each IMAP exchange may take before the round gives up.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A mailbox to poll, from `imap://USER:PASS@HOST[:143]/FOLDER` (plain, for a server on the
/// same host or network) or `imaps://USER:PASS@HOST[:993]/FOLDER` (TLS).
#[derive(Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub user: String,
    password: String,
    pub folder: String,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.display())
    }
}

impl Mailbox {
    pub fn parse(raw: &str) -> anyhow::Result<Mailbox> {
        let url = url::Url::parse(raw).map_err(|e| anyhow::anyhow!("the IMAP URL: {e}"))?;
        let tls = match url.scheme() {
            "imap" => false,
            "imaps" => true,
            other => anyhow::bail!("the IMAP URL starts with imap:// or imaps://, not {other}://"),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| anyhow::anyhow!("the IMAP URL names no host"))?
            .to_string();
        // The URL keeps its parts percent-encoded (`%40` for the `@` of an address).
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = decode(url.username());
        if user.is_empty() {
            anyhow::bail!("the IMAP URL names no user (imap://USER:PASS@HOST/INBOX)");
        }
        let password = decode(url.password().unwrap_or(""));
        let folder = decode(url.path().trim_start_matches('/'));
        Ok(Mailbox {
            port: url.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            tls,
            user,
            password,
            folder: if folder.is_empty() {
                "INBOX".into()
            } else {
                folder
            },
        })
    }

    /// The mailbox without its password, for logs and pages.
    pub fn display(&self) -> String {
        format!(
            "{}://{}@{}:{}/{}",
            if self.tls { "imaps" } else { "imap" },
            self.user,
            self.host,
            self.port,
            self.folder
        )
    }
}

/// What one round did, kept for the admin page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOutcome {
    /// When it ran (ms).
    pub at: i64,
    /// Messages read from the server.
    pub fetched: usize,
    /// New conversation lines (a message already stored is not counted).
    pub stored: usize,
    /// Messages kept raw for an admin because they could not be read.
    pub unreadable: usize,
    /// Messages left for the next round.
    pub more: bool,
    /// Why the round stopped early, if it did.
    pub error: Option<String>,
}

/// The last round's outcome, if a round ran.
pub async fn last_outcome(app: &App) -> crate::Result<Option<PollOutcome>> {
    Ok(app
        .store
        .setting(STATUS_KEY)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok()))
}

async fn setting_u32(app: &App, key: &str) -> anyhow::Result<Option<u32>> {
    Ok(app.store.setting(key).await?.and_then(|v| v.parse().ok()))
}

/// One round against `mailbox`; its outcome is also stored for the admin page.
pub async fn poll_once(app: &App, mailbox: &Mailbox) -> PollOutcome {
    let mut outcome = PollOutcome {
        at: app.now(),
        ..Default::default()
    };
    if let Err(e) = tokio::time::timeout(TIMEOUT * 10, round(app, mailbox, &mut outcome))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the round took longer than ten minutes")))
    {
        tracing::warn!(mailbox = %mailbox.display(), error = %e, "IMAP poll stopped");
        outcome.error = Some(e.to_string());
    }
    if let Ok(json) = serde_json::to_string(&outcome) {
        let _ = app.store.set_setting(STATUS_KEY, &json).await;
    }
    outcome
}

async fn round(app: &App, mailbox: &Mailbox, outcome: &mut PollOutcome) -> anyhow::Result<()> {
    let tcp = tokio::time::timeout(
        TIMEOUT,
        tokio::net::TcpStream::connect((mailbox.host.as_str(), mailbox.port)),
    )
    .await
    .map_err(|_| anyhow::anyhow!("connecting to {} timed out", mailbox.host))?
    .map_err(|e| anyhow::anyhow!("cannot connect to {}:{}: {e}", mailbox.host, mailbox.port))?;
    if !mailbox.tls {
        return session(app, mailbox, tcp, outcome).await;
    }
    let roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(mailbox.host.clone())?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    session(app, mailbox, tls, outcome).await
}

/// UIDs as an IMAP sequence set: `3,5,9`.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

async fn within<T, E: std::fmt::Display>(
    what: &str,
    step: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(TIMEOUT, step)
        .await
        .map_err(|_| anyhow::anyhow!("{what} timed out"))?
        .map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

async fn session<T>(
    app: &App,
    mailbox: &Mailbox,
    stream: T,
    outcome: &mut PollOutcome,
) -> anyhow::Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    let mut client = async_imap::Client::new(stream);
    within("the server's greeting", async {
        client
            .read_response()
            .await?
            .ok_or_else(|| std::io::Error::other("the server closed the connection"))
    })
    .await?;
    let mut imap = within("logging in", async {
        client
            .login(&mailbox.user, &mailbox.password)
            .await
            .map_err(|(e, _)| e)
    })
    .await?;
    let selected = within("selecting the folder", imap.select(&mailbox.folder)).await?;
    let mut last = setting_u32(app, LAST_UID_KEY).await?.unwrap_or(0);
    if let Some(validity) = selected.uid_validity
        && setting_u32(app, VALIDITY_KEY).await? != Some(validity)
    {
        // A rebuilt folder numbers its messages anew: read it all again.
        last = 0;
        app.store
            .set_setting(VALIDITY_KEY, &validity.to_string())
            .await?;
        app.store.set_setting(LAST_UID_KEY, "0").await?;
    }
    let mut uids: Vec<u32> = within(
        "searching for new mail",
        imap.uid_search(format!("UID {}:*", last.saturating_add(1))),
    )
    .await?
    .into_iter()
    // `n:*` always includes the newest message, even when it is older than n.
    .filter(|u| *u > last)
    .collect();
    uids.sort_unstable();
    outcome.more = uids.len() > BATCH;
    uids.truncate(BATCH);
    let actor = Actor::operator();
    let mut taken = Vec::with_capacity(uids.len());
    for chunk in uids.chunks(50) {
        let set = uid_set(chunk);
        let mut fetched: Vec<(u32, Vec<u8>)> = within("fetching mail", async {
            imap.uid_fetch(&set, "(UID BODY.PEEK[])")
                .await?
                .try_filter_map(|f| async move { Ok(f.uid.zip(f.body().map(<[u8]>::to_vec))) })
                .try_collect()
                .await
        })
        .await?;
        fetched.sort_by_key(|(uid, _)| *uid);
        for (uid, raw) in fetched {
            outcome.fetched += 1;
            match conversations::take_in_new_email(app, &actor, &raw).await {
                Ok((_, true)) => outcome.stored += 1,
                Ok((_, false)) => {}
                Err(Error::Invalid { .. }) => outcome.unreadable += 1,
                // The store failed: stop before the cursor passes this message.
                Err(e) => return Err(e.into()),
            }
            app.store
                .set_setting(LAST_UID_KEY, &uid.to_string())
                .await?;
            taken.push(uid);
        }
    }
    if !taken.is_empty() {
        let set = uid_set(&taken);
        // Flagging is a courtesy to people who also read the mailbox; mail is in already.
        let flagged = within("flagging mail as seen", async {
            imap.uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await;
        if let Err(e) = flagged {
            tracing::info!(error = %e, "could not flag taken-in mail as seen");
        }
    }
    let _ = within("logging out", imap.logout()).await;
    Ok(())
}

/// Polls `mailbox` every `every` (at once again while a backlog remains) until `shutdown`.
pub fn spawn_poller(
    app: Arc<App>,
    mailbox: Mailbox,
    every: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    crate::periodic::spawn(
        "imap",
        shutdown,
        Arc::new(tokio::sync::Notify::new()),
        every,
        move || {
            let (app, mailbox) = (app.clone(), mailbox.clone());
            async move {
                let outcome = poll_once(&app, &mailbox).await;
                Ok(outcome.more && outcome.error.is_none())
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_urls_name_the_server_the_login_and_the_folder() {
        let m =
            Mailbox::parse("imaps://support%40brand.co.kr:p%40ss+w@imap.brand.co.kr/CX%20Inbox")
                .unwrap();
        assert_eq!(
            (
                m.host.as_str(),
                m.port,
                m.tls,
                m.user.as_str(),
                m.folder.as_str()
            ),
            (
                "imap.brand.co.kr",
                993,
                true,
                "support@brand.co.kr",
                "CX Inbox"
            )
        );
        assert_eq!(m.password, "p@ss+w");
        assert!(!format!("{m:?}").contains("p@ss"), "no password in logs");
        let plain = Mailbox::parse("imap://cx:pw@127.0.0.1:1143").unwrap();
        assert_eq!(
            (plain.port, plain.tls, plain.folder.as_str()),
            (1143, false, "INBOX")
        );
        assert!(Mailbox::parse("pop3://cx:pw@host").is_err());
        assert!(Mailbox::parse("imap://host/INBOX").is_err(), "no user");
        assert!(Mailbox::parse("not a url").is_err());
    }
}

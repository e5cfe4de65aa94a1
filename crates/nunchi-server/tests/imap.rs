//! E-mail in by IMAP from Debian's Dovecot, started on loopback with a Maildir the test
//! delivers into as a local delivery agent would: new mail is taken in once, in order,
//! Korean charsets decoded and replies threaded; unreadable mail is kept for admins; a
//! cursor lost in a crash re-reads the folder without storing anything twice; a wrong
//! password is reported, not retried into a lock-out.

mod support;

use nunchi_app::imap_poll::{self, Mailbox};
use nunchi_core::access::Role;
use support::{Peer, TestApp};

const USER: &str = "support@brand.test";
const PASSWORD: &str = "s3cret pw";

/// Delivers one message into the Maildir: written under tmp/, then renamed into new/.
fn deliver(maildir: &std::path::Path, name: &str, raw: &[u8]) {
    let tmp = maildir.join("tmp").join(name);
    std::fs::write(&tmp, raw).unwrap();
    std::fs::rename(&tmp, maildir.join("new").join(name)).unwrap();
}

fn korean_mail() -> Vec<u8> {
    let (body, _, _) = encoding_rs::EUC_KR.encode("교환 신청한 운동화가 아직 안 왔어요.");
    let mut raw = b"From: =?EUC-KR?B?sei5zsHY?= <minjun@example.com>\r\n\
        To: support@brand.test\r\n\
        Subject: =?ks_c_5601-1987?B?uei82yC5rsDH?=\r\n\
        Message-ID: <imap-ko-1@example.com>\r\n\
        Date: Mon, 7 Dec 2026 10:00:00 +0900\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=euc-kr\r\n\
        Content-Transfer-Encoding: 8bit\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(&body);
    raw
}

fn english_mail(id: &str, in_reply_to: Option<&str>, text: &str) -> Vec<u8> {
    let reply = in_reply_to
        .map(|r| format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: Jane Doe <jane@example.com>\r\nTo: support@brand.test\r\n\
         Subject: Re: Wrong size\r\nMessage-ID: <{id}>\r\n{reply}\
         Date: Mon, 7 Dec 2026 11:00:00 +0000\r\n\r\n{text}\r\n"
    )
    .into_bytes()
}

async fn thread_texts(app: &TestApp, conversation: i64) -> Vec<String> {
    app.api(
        Some(Role::Agent),
        "GET",
        &format!("/api/v1/conversations/{conversation}/messages"),
        None,
    )
    .await
    .json()
    .as_array()
    .unwrap()
    .iter()
    .filter(|m| m["direction"] == "incoming")
    .map(|m| m["text"].as_str().unwrap().trim().to_string())
    .collect()
}

async fn conversation_ids(app: &TestApp) -> Vec<i64> {
    let mut ids: Vec<i64> = app
        .api(Some(Role::Agent), "GET", "/api/v1/conversations", None)
        .await
        .json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["conversation"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dovecot_mailbox_is_taken_in_once_in_order_and_survives_a_lost_cursor() {
    if !std::path::Path::new("/usr/sbin/dovecot").exists() {
        assert!(
            std::env::var("NUNCHI_TEST_REQUIRE_PYTHON_PEERS").is_err(),
            "dovecot-imapd is not installed (scripts/test.sh installs it)"
        );
        eprintln!("skipped: dovecot-imapd is not installed");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let server = Peer::start(
        "dovecot_imap.py",
        &[work.path().to_str().unwrap(), USER, PASSWORD],
    );
    let maildir = work.path().join("home/Maildir");
    let mailbox = Mailbox::parse(&format!(
        "imap://support%40brand.test:s3cret%20pw@127.0.0.1:{}/INBOX",
        server.port
    ))
    .unwrap();
    let configured = mailbox.clone();
    let app = TestApp::with_settings(move |s| s.app.imap = Some(configured)).await;
    let page = app
        .page(Role::Agent, "GET", "/inbox/channels", None)
        .await
        .text();
    assert!(
        page.contains("imap://support@brand.test@127.0.0.1") && !page.contains("s3cret"),
        "the page names the mailbox, never its password"
    );
    let poll = async || imap_poll::poll_once(&app.state.app, &mailbox).await;

    deliver(&maildir, "1.eml", &korean_mail());
    deliver(
        &maildir,
        "2.eml",
        &english_mail(
            "imap-en-1@example.com",
            None,
            "The shoes are a size too small.",
        ),
    );
    deliver(&maildir, "3.eml", b"Subject: no sender\r\n\r\nwho am I\r\n");
    let first = poll().await;
    assert_eq!(first.error, None, "{first:?}");
    assert_eq!(
        (first.fetched, first.stored, first.unreadable),
        (3, 2, 1),
        "{first:?}"
    );
    let ids = conversation_ids(&app).await;
    assert_eq!(ids.len(), 2);
    assert_eq!(
        thread_texts(&app, ids[0]).await,
        ["교환 신청한 운동화가 아직 안 왔어요."],
        "EUC-KR decoded, and the first delivered is the first taken in"
    );
    let kept = app
        .api(Some(Role::Admin), "GET", "/api/v1/inbound/unreadable", None)
        .await;
    assert!(kept.text().contains("who am I"), "{}", kept.text());

    let quiet = poll().await;
    assert_eq!((quiet.fetched, quiet.stored), (0, 0), "{quiet:?}");

    deliver(
        &maildir,
        "4.eml",
        &english_mail(
            "imap-en-2@example.com",
            Some("imap-en-1@example.com"),
            "Any news on the exchange?",
        ),
    );
    let reply = poll().await;
    assert_eq!((reply.fetched, reply.stored), (1, 1), "{reply:?}");
    assert_eq!(
        conversation_ids(&app).await,
        ids,
        "the reply joined its thread"
    );
    assert_eq!(
        thread_texts(&app, ids[1]).await,
        [
            "The shoes are a size too small.",
            "Any news on the exchange?"
        ]
    );

    // A crash between storing a message and saving the cursor: the folder is read again
    // and nothing is stored twice.
    app.state
        .store
        .set_setting("imap_last_uid", "0")
        .await
        .unwrap();
    let again = poll().await;
    assert_eq!((again.fetched, again.stored), (4, 0), "{again:?}");
    assert_eq!(conversation_ids(&app).await, ids);
    assert_eq!(thread_texts(&app, ids[1]).await.len(), 2);
    assert_eq!(
        imap_poll::last_outcome(&app.state.app).await.unwrap(),
        Some(again)
    );

    let wrong = Mailbox::parse(&format!(
        "imap://support%40brand.test:nope@127.0.0.1:{}/INBOX",
        server.port
    ))
    .unwrap();
    let refused = imap_poll::poll_once(&app.state.app, &wrong).await;
    assert_eq!(refused.fetched, 0);
    assert!(
        refused
            .error
            .as_deref()
            .is_some_and(|e| e.contains("logging in")),
        "{refused:?}"
    );
    let page = app
        .page(Role::Agent, "GET", "/inbox/channels", None)
        .await
        .text();
    assert!(
        page.contains("id=\"mailbox-last\"") && page.contains("id=\"mailbox-error\""),
        "the failed check is shown: {page}"
    );
}

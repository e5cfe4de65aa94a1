//! The `mail-threading` crate's published conformance cases (RFC 5256 / JWZ threading),
//! run through the desk's real e-mail intake on a fresh store each: the conversations the
//! messages land in must group them as the crate's own threading does with subject
//! fallback off — the desk never threads by subject alone. Its subject cases are checked
//! against the subject the desk shows, with Korean reply and forward prefixes added.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Fixture {
    name: String,
    #[serde(default)]
    options: Option<serde_json::Value>,
    input: Vec<Msg>,
    expected: Expected,
}

#[derive(Debug, Deserialize)]
struct Msg {
    id: String,
    message_id: Option<String>,
    in_reply_to: Option<String>,
    references: Vec<String>,
    subject: String,
    date: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    threads: Vec<ExpectedThread>,
}

#[derive(Debug, Deserialize)]
struct ExpectedThread {
    messages: Vec<String>,
}

/// The fixtures, where cargo keeps the crate's sources.
fn fixtures() -> Vec<Fixture> {
    let home = std::env::var("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo")
        });
    let mut dirs: Vec<_> = std::fs::read_dir(home.join("registry/src"))
        .unwrap()
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("mail-threading-"))
        })
        .collect();
    dirs.sort();
    let dir = dirs
        .pop()
        .expect("mail-threading's sources in cargo's registry")
        .join("testdata/conformance");
    let mut out: Vec<Fixture> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The crate's threading with subject fallback off: the grouping the desk must reproduce.
fn oracle(input: &[Msg]) -> BTreeSet<BTreeSet<String>> {
    let messages: Vec<mail_threading::Message> = input
        .iter()
        .map(|m| mail_threading::Message {
            id: m.id.clone(),
            message_id: m.message_id.clone(),
            in_reply_to: m.in_reply_to.clone(),
            references: m.references.clone(),
            date: m.date.parse().unwrap(),
            subject: m.subject.clone(),
        })
        .collect();
    let options = mail_threading::ThreadingOptions {
        subject_merge: false,
        ..Default::default()
    };
    mail_threading::thread_messages_with(&messages, &options)
        .into_iter()
        .map(|t| t.messages.into_iter().collect())
        .collect()
}

fn raw(m: &Msg) -> Vec<u8> {
    let mut headers = format!(
        "From: Customer <customer@example.com>\r\nSubject: {}\r\n",
        m.subject
    );
    if let Some(id) = &m.message_id {
        headers.push_str(&format!("Message-ID: {id}\r\n"));
    }
    if let Some(parent) = &m.in_reply_to {
        headers.push_str(&format!("In-Reply-To: {parent}\r\n"));
    }
    if !m.references.is_empty() {
        headers.push_str(&format!("References: {}\r\n", m.references.join(" ")));
    }
    let date = m
        .date
        .parse::<jiff::Timestamp>()
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string())
        .unwrap_or_default();
    format!("{headers}Date: {date}\r\n\r\nmessage {}\r\n", m.id).into_bytes()
}

/// Where each message landed, grouped by conversation.
async fn desk(input: &[Msg]) -> BTreeSet<BTreeSet<String>> {
    let dir = tempfile::tempdir().unwrap();
    let store = nunchi_store::connect(&format!("sqlite:{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let app = Arc::new(nunchi_app::App::offline(
        store,
        nunchi_app::AppConfig::for_tests(dir.path().to_path_buf()),
    ));
    let mut by_conversation: std::collections::BTreeMap<i64, BTreeSet<String>> = Default::default();
    let mut seen_ids = BTreeSet::new();
    for m in input {
        let intake =
            nunchi_app::conversations::take_in_email(&app, &nunchi_app::Actor::operator(), &raw(m))
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", m.id));
        // The same Message-ID twice is one stored message (the intake contract).
        if !seen_ids.insert(intake.message_id) {
            continue;
        }
        by_conversation
            .entry(intake.conversation_id)
            .or_default()
            .insert(m.id.clone());
    }
    by_conversation.into_values().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_groups_mail_as_rfc_5256_threading_does_without_subject_fallback() {
    let all = fixtures();
    assert!(all.len() >= 30, "only {} fixtures found", all.len());
    let mut failures = Vec::new();
    for f in &all {
        // Deliberate difference: a repeated Message-ID is the same message taken in twice
        // (stored once, answering the same ids), where the crate keeps a renamed copy.
        if f.name == "duplicate-message-id-first-wins" {
            continue;
        }
        let want = oracle(&f.input);
        // Where the fixture itself turns subject fallback off, the crate must agree with it.
        if f.options
            .as_ref()
            .is_some_and(|o| o["subject_merge"] == false)
        {
            let published: BTreeSet<BTreeSet<String>> = f
                .expected
                .threads
                .iter()
                .map(|t| t.messages.iter().cloned().collect())
                .collect();
            assert_eq!(want, published, "{}", f.name);
        }
        let got = desk(&f.input).await;
        if got != want {
            failures.push(format!("{}: desk {got:?}, RFC 5256 {want:?}", f.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reply_and_forward_prefixes_leave_the_same_subject_in_every_language() {
    for f in fixtures() {
        if !matches!(
            f.name.as_str(),
            "localized-subject-prefixes"
                | "subject-whitespace-normalization"
                | "subject-fallback-groups-headerless"
                | "subject-fallback-attaches-to-header-thread"
        ) {
            continue;
        }
        for thread in &f.expected.threads {
            let subjects: BTreeSet<String> = thread
                .messages
                .iter()
                .map(|id| f.input.iter().find(|m| &m.id == id).unwrap())
                .map(|m| nunchi_core::conversation::base_subject(&m.subject))
                .collect();
            assert_eq!(subjects.len(), 1, "{}: {subjects:?}", f.name);
        }
    }
    for korean in [
        "회신: 배송 문의",
        "전달: 배송 문의",
        "RE: 회신: 배송 문의",
        "답장[2]: 배송 문의",
        "Fwd: 전달: 배송  문의",
    ] {
        assert_eq!(
            nunchi_core::conversation::base_subject(korean),
            "배송 문의",
            "{korean}"
        );
    }
}

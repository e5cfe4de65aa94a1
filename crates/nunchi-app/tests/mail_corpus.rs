//! Every message of `mail-parser`'s own sample corpus (RFC examples, third-party and
//! deliberately malformed mail, shipped in the crate's source) goes through the desk's
//! reader without a panic, and most of it is readable mail with a sender.

use std::path::{Path, PathBuf};

/// The corpus inside the `mail-parser` sources cargo downloaded.
fn corpus() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let registry = home.join("registry").join("src");
    let mut found = Vec::new();
    for index in std::fs::read_dir(&registry).expect("cargo's registry sources") {
        let index = index.unwrap().path();
        for krate in std::fs::read_dir(&index).into_iter().flatten().flatten() {
            let name = krate.file_name().to_string_lossy().to_string();
            if name.starts_with("mail-parser-0.11.") {
                found.push(krate.path().join("resources"));
            }
        }
    }
    found.sort();
    found
        .pop()
        .expect("mail-parser 0.11's sources in cargo's registry")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "eml") {
            out.push(p);
        }
    }
}

#[test]
fn the_mail_parser_sample_corpus_reads_without_a_panic() {
    let mut all = Vec::new();
    files(&corpus(), &mut all);
    assert!(all.len() >= 100, "only {} messages found", all.len());
    let mut readable = 0;
    for path in &all {
        let raw = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| nunchi_app::inbound_mail::read(&raw));
        let Ok(result) = outcome else {
            panic!("reading {} panicked", path.display());
        };
        if let Ok(mail) = result {
            readable += 1;
            assert!(!mail.message_id.is_empty());
            assert!(mail.text.len() <= nunchi_core::conversation::MAX_MESSAGE_BYTES);
        }
    }
    assert!(
        readable * 2 > all.len(),
        "{readable} of {} readable",
        all.len()
    );
}

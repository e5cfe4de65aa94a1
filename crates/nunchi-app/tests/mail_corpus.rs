//! Every message of `mail-parser`'s own sample corpus (RFC examples, third-party and
//! deliberately malformed mail, shipped in the crate's source) goes through the desk's
//! reader without a panic, and most of it is readable mail with a sender.

#[test]
fn the_mail_parser_sample_corpus_reads_without_a_panic() {
    let all = nunchi_app::inbound_mail::sample_corpus();
    assert!(
        all.len() >= 100,
        "only {} messages of mail-parser's corpus found in cargo's registry",
        all.len()
    );
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

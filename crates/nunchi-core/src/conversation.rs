//! The support desk's conversations as pure rules: the channels a customer writes in, the
//! states and priorities of a conversation, the kinds of line in its thread, and how an
//! incoming e-mail finds the thread it answers (by its headers, never by its subject).

crate::named_enum! {
    /// Where a conversation takes place.
    pub enum ConversationChannel("conversation channel") {
        Email = "email",
        Chat = "chat",
        Phone = "phone",
        Messenger = "messenger",
    }
}

crate::named_enum! {
    /// The messenger a messenger channel speaks: nunchi's own signed webhook contract, or a
    /// provider's webhook and reply API.
    pub enum MessengerKind("messenger kind") {
        Generic = "generic",
        Line = "line",
        Telegram = "telegram",
    }
}

crate::named_enum! {
    /// Where a conversation stands. Pending waits on the customer; snoozed waits until a time.
    pub enum ConversationStatus("conversation status") {
        Open = "open",
        Pending = "pending",
        Snoozed = "snoozed",
        Resolved = "resolved",
    }
}

crate::named_enum! {
    /// How urgent a conversation is.
    pub enum Priority("priority") {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

crate::named_enum! {
    /// A line of a thread: from the customer, to the customer (an agent's reply), a note only
    /// staff see, an activity line the desk writes (assigned, status changed), or a message
    /// the desk sends the customer by itself (a rating request), which is no one's reply.
    pub enum MessageDirection("message direction") {
        Incoming = "incoming",
        Outgoing = "outgoing",
        Note = "note",
        Activity = "activity",
        Automatic = "automatic",
    }
}

crate::named_enum! {
    /// Which way a phone call went.
    pub enum CallDirection("call direction") {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

crate::named_enum! {
    /// How a phone call ended.
    pub enum CallOutcome("call outcome") {
        Answered = "answered",
        Missed = "missed",
        Voicemail = "voicemail",
        Busy = "busy",
        Failed = "failed",
    }
}

impl ConversationStatus {
    /// Whether the conversation still waits on the team.
    pub fn is_open(self) -> bool {
        !matches!(self, ConversationStatus::Resolved)
    }
}

/// The longest message text kept, in bytes (a long e-mail thread quoted in full fits).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The Message-IDs an incoming e-mail refers to, nearest first: `References` from the
/// newest back, then `In-Reply-To` — when the two disagree the References chain decides, as
/// RFC 5256 threading does. Its thread is the first of them nunchi knows. Outlook and Gmail
/// keep both headers on a reply, but some clients send only one, and some put several ids
/// in `In-Reply-To`; all of them count, each once.
pub fn thread_candidates(in_reply_to: &[String], references: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in references.iter().rev().chain(in_reply_to.iter()) {
        let id = normalise_message_id(id);
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// A Message-ID without its angle brackets or surrounding space, as it is stored; a
/// quoted local part (`"a.b"@host`) is unquoted, since it names the same message.
pub fn normalise_message_id(id: &str) -> String {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if let Some(rest) = id.strip_prefix('"')
        && let Some((local, domain)) = rest.rsplit_once("\"@")
    {
        let mut unquoted = String::with_capacity(id.len());
        let mut escaped = false;
        for c in local.chars() {
            if c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            escaped = false;
            unquoted.push(c);
        }
        return format!("{unquoted}@{domain}");
    }
    id.to_string()
}

/// A subject without the reply and forward prefixes mail clients add — in Korean (`회신:`,
/// `답장:`, `전달:`, `답변:`), English (`Re:`, `Fwd:`, counted forms such as `Re[2]:`) and the
/// European and Chinese forms RFC 5256 implementations strip (`AW:`, `SV:`, `Antw:`, `RV:`,
/// `Odp:`, `TR:`, `WG:`, `回复:`, `转发:`) — with runs of spaces and tabs made one space, for
/// display: threading never uses the subject.
pub fn base_subject(subject: &str) -> String {
    let collapsed = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    strip_reply_prefixes(&collapsed).to_string()
}

fn strip_reply_prefixes(subject: &str) -> &str {
    let mut s = subject.trim();
    loop {
        let Some((head, rest)) = s.split_once([':', '：']) else {
            return s;
        };
        let head = head.trim();
        let word = head.split('[').next().unwrap_or(head).trim();
        let counted = head[word.len()..].trim();
        let is_prefix = matches!(
            word.to_ascii_lowercase().as_str(),
            "re" | "fw"
                | "fwd"
                | "aw"
                | "sv"
                | "vs"
                | "antw"
                | "rv"
                | "odp"
                | "tr"
                | "wg"
                | "답장"
                | "회신"
                | "전달"
                | "답변"
                | "回复"
                | "答复"
                | "转发"
        ) && (counted.is_empty()
            || (counted.starts_with('[')
                && counted.ends_with(']')
                && counted[1..counted.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_digit())));
        if !is_prefix {
            return s;
        }
        s = rest.trim();
    }
}

/// The people a note @mentions: each word after `@` (letters, digits, `.`, `_`, `-`, and
/// Hangul), lower-cased, once each, in order. `kim@brand.kr` inside a word is an address,
/// not a mention.
pub fn mentions(note: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = note.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c != '@' || (i > 0 && !chars[i - 1].is_whitespace() && !"([{,".contains(chars[i - 1])) {
            continue;
        }
        let word: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        let word = word.trim_end_matches(['.', '-', '_']).to_lowercase();
        if !word.is_empty() && !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_words_after_an_at_sign() {
        assert_eq!(
            mentions("@지우 확인 부탁, (@Minjun.Kim) 그리고 @지우. mail kim@brand.kr"),
            vec!["지우", "minjun.kim"]
        );
        assert!(mentions("no one @ all").is_empty());
    }

    #[test]
    fn reply_headers_give_candidates_newest_first_once_each() {
        let got = thread_candidates(
            &["<c@x>".into()],
            &["<a@x>".into(), "<b@x>".into(), " <c@x> ".into()],
        );
        assert_eq!(got, vec!["c@x", "b@x", "a@x"]);
        assert!(thread_candidates(&[], &["<>".into()]).is_empty());
        // When they disagree, the References chain comes first.
        assert_eq!(
            thread_candidates(&["<z@x>".into()], &["<a@x>".into()]),
            vec!["a@x", "z@x"]
        );
    }

    #[test]
    fn quoted_local_parts_name_the_same_message() {
        assert_eq!(
            normalise_message_id(" <\"01KF8JCEOCBS0045PS\"@xxx.yyy.com> "),
            "01KF8JCEOCBS0045PS@xxx.yyy.com"
        );
        assert_eq!(normalise_message_id("<\"a\\\"b\"@x>"), "a\"b@x");
        assert_eq!(
            normalise_message_id("<Case@Example>"),
            "Case@Example",
            "case kept"
        );
    }

    #[test]
    fn reply_and_forward_prefixes_are_removed_in_both_languages() {
        assert_eq!(base_subject("Re: RE: Fwd: 배송 문의"), "배송 문의");
        assert_eq!(base_subject("회신: 전달: 환불 요청"), "환불 요청");
        assert_eq!(base_subject("Re[3]: Order 1234"), "Order 1234");
        assert_eq!(base_subject("답장 : 교환"), "교환");
        // Not a prefix: a colon inside the subject stays.
        assert_eq!(base_subject("Order: 1234"), "Order: 1234");
        assert_eq!(base_subject("Re[x]: hi"), "Re[x]: hi");
        assert_eq!(base_subject("  "), "");
        assert_eq!(base_subject("AW: Antw: WG: 주문\t 확인"), "주문 확인");
        assert_eq!(base_subject("回复：订单"), "订单");
    }

    #[test]
    fn only_resolved_is_closed() {
        for s in ConversationStatus::ALL {
            assert_eq!(s.is_open(), *s != ConversationStatus::Resolved);
        }
    }
}

//! How an agent's e-mail reply reads: the brand's signature in the customer's language
//! under the agent's text, and an HTML part beside the plain one (the text escaped, its
//! paragraphs and line breaks kept, web addresses made links), so mail clients show it as
//! a reply from a brand rather than a raw text dump.

use nunchi_core::access::Permission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

const KO_KEY: &str = "reply_signature_ko";
const EN_KEY: &str = "reply_signature_en";
/// The longest signature kept, in characters.
pub const MAX_SIGNATURE_CHARS: usize = 2_000;

/// The brand's signature under e-mail replies, per language (either may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Signature {
    #[serde(default)]
    pub ko: String,
    #[serde(default)]
    pub en: String,
}

impl Signature {
    /// The one for a customer whose language is `lang` (Korean unless it is English),
    /// falling back to the other when that one is empty.
    pub fn for_language(&self, lang: Option<&str>) -> &str {
        let (first, second) = if lang == Some("en") {
            (&self.en, &self.ko)
        } else {
            (&self.ko, &self.en)
        };
        if first.trim().is_empty() {
            second
        } else {
            first
        }
    }
}

pub async fn signature(app: &App) -> Result<Signature> {
    Ok(Signature {
        ko: app.store.setting(KO_KEY).await?.unwrap_or_default(),
        en: app.store.setting(EN_KEY).await?.unwrap_or_default(),
    })
}

pub async fn set_signature(app: &App, actor: &Actor, s: &Signature) -> Result<Signature> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    for text in [&s.ko, &s.en] {
        if text.chars().count() > MAX_SIGNATURE_CHARS {
            return Err(Error::invalid(
                "invalid_signature",
                format!("a signature is at most {MAX_SIGNATURE_CHARS} characters"),
            ));
        }
    }
    let clean = Signature {
        ko: s.ko.trim().replace("\r\n", "\n"),
        en: s.en.trim().replace("\r\n", "\n"),
    };
    app.store.set_setting(KO_KEY, &clean.ko).await?;
    app.store.set_setting(EN_KEY, &clean.en).await?;
    app.audit_by(actor, "inbox.signature", "reply signature", "")
        .await;
    Ok(clean)
}

/// The plain-text body: the reply, then the signature after the customary `-- ` line.
pub fn text_body(reply: &str, signature: &str) -> String {
    if signature.trim().is_empty() {
        reply.to_string()
    } else {
        format!("{reply}\n\n-- \n{signature}")
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line of text as HTML, with `http(s)://` addresses as links.
fn line_html(line: &str) -> String {
    let next_url = |s: &str| {
        [s.find("http://"), s.find("https://")]
            .into_iter()
            .flatten()
            .min()
    };
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = next_url(rest) {
        out.push_str(&escape(&rest[..start]));
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        // Closing punctuation belongs to the sentence, not the address.
        let url = tail[..end].trim_end_matches(['.', ',', ')', '!', '?', '。']);
        let scheme_end = url.find("://").map_or(url.len(), |i| i + 3);
        if url.len() == scheme_end {
            out.push_str(&escape(&tail[..end]));
            rest = &tail[end..];
            continue;
        }
        let escaped = escape(url);
        out.push_str(&format!("<a href=\"{escaped}\">{escaped}</a>"));
        rest = &tail[url.len()..];
    }
    out.push_str(&escape(rest));
    out
}

fn paragraphs_html(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(line_html).collect();
            format!("<p>{}</p>", lines.join("<br>\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The HTML body: the reply's paragraphs, then the signature set apart in grey.
pub fn html_body(reply: &str, signature: &str) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family: -apple-system, 'Apple SD Gothic Neo', \
         'Malgun Gothic', sans-serif; font-size: 14px; line-height: 1.6; color: #1f2328\">\n{}",
        paragraphs_html(reply)
    );
    if !signature.trim().is_empty() {
        html.push_str(&format!(
            "\n<div style=\"margin-top: 1.5em; padding-top: .8em; border-top: 1px solid #d0d7de; \
             color: #59636e; font-size: 13px\">{}</div>",
            paragraphs_html(signature)
        ));
    }
    html.push_str("\n</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_keeps_lines_and_links_addresses() {
        let html = html_body(
            "안녕하세요 <고객>님,\n배송 조회: https://brand.example/track?id=1&x=2.\n\n감사합니다",
            "브랜드 고객센터\n1588-0000",
        );
        assert!(html.contains("안녕하세요 &lt;고객&gt;님,<br>"), "{html}");
        assert!(
            html.contains(
                "<a href=\"https://brand.example/track?id=1&amp;x=2\">https://brand.example/track?id=1&amp;x=2</a>."
            ),
            "{html}"
        );
        assert!(html.contains("<p>감사합니다</p>"));
        assert!(html.contains("브랜드 고객센터<br>\n1588-0000"));
        assert!(!html.contains("<고객>"));
        let plain = html_body("<script>alert(1)</script> http://", "");
        assert!(plain.contains("&lt;script&gt;") && !plain.contains("border-top"));
    }

    #[test]
    fn the_signature_follows_the_customers_language_with_a_fallback() {
        let s = Signature {
            ko: "고객센터".into(),
            en: String::new(),
        };
        assert_eq!(s.for_language(Some("en")), "고객센터");
        assert_eq!(s.for_language(None), "고객센터");
        let both = Signature {
            ko: "고객센터".into(),
            en: "Customer care".into(),
        };
        assert_eq!(both.for_language(Some("en")), "Customer care");
        assert_eq!(
            text_body("Thanks", "Customer care"),
            "Thanks\n\n-- \nCustomer care"
        );
        assert_eq!(text_body("Thanks", " "), "Thanks");
    }
}

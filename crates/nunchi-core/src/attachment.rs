//! What the support desk keeps of a file sent with a message: a size limit, a short list of
//! types a CX team exchanges (photos, PDFs, office documents, text), each recognised by its
//! first bytes rather than by what the sender declared, so nothing is ever served under a
//! type a browser would run (HTML, SVG, scripts), and a file name that is safe to show.

/// The largest file kept.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// Files one message may carry.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;

/// A file the desk keeps, with the type it is served as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub filename: String,
    pub content_type: &'static str,
    /// Shown in the thread (a photo) rather than only linked.
    pub inline: bool,
}

/// Why a file was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MiB", MAX_ATTACHMENT_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("files of this type are not kept (photos, PDF, office documents and text are)")]
    TypeNotAllowed,
}

impl Rejected {
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLarge => "too_large",
            Self::TypeNotAllowed => "type_not_allowed",
        }
    }
}

/// The name to show and offer for download: the last path segment, without control
/// characters or quotes, at most 150 characters; `attachment` when nothing is left.
pub fn safe_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .take(150)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The type a file is served as, from its first bytes (and, for the formats that share
/// a container — ZIP-based office files, plain text — its extension).
fn recognise(name: &str, bytes: &[u8]) -> Option<(&'static str, bool)> {
    let ext = extension(name);
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(("image/png", true));
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some(("image/jpeg", true));
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(("image/gif", true));
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(("image/webp", true));
    }
    // iPhone photos: an ISO media file whose brand is HEIC's.
    if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(&bytes[8..12], b"heic" | b"heix" | b"mif1" | b"msf1")
    {
        return Some(("image/heic", false));
    }
    if starts(b"%PDF-") {
        return Some(("application/pdf", false));
    }
    if starts(b"PK\x03\x04") {
        return match ext.as_str() {
            "docx" => Some((
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                false,
            )),
            "xlsx" => Some((
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                false,
            )),
            "pptx" => Some((
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                false,
            )),
            "zip" => Some(("application/zip", false)),
            _ => None,
        };
    }
    // A forwarded e-mail: downloaded, never shown.
    if ext == "eml" && !bytes.contains(&0) {
        return Some(("message/rfc822", false));
    }
    if matches!(ext.as_str(), "txt" | "csv" | "log") && !bytes.contains(&0) {
        return Some(if ext == "csv" {
            ("text/csv", false)
        } else {
            ("text/plain", false)
        });
    }
    None
}

/// Whether the desk keeps `bytes` sent as `name`, and as what.
pub fn check(name: &str, bytes: &[u8]) -> Result<Accepted, Rejected> {
    if bytes.is_empty() {
        return Err(Rejected::Empty);
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(Rejected::TooLarge);
    }
    let filename = safe_filename(name);
    let (content_type, inline) = recognise(&filename, bytes).ok_or(Rejected::TypeNotAllowed)?;
    Ok(Accepted {
        filename,
        content_type,
        inline,
    })
}

/// A size for people: `820 B`, `14.2 KB`, `3.1 MB`.
pub fn size_label(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / 1024.0 / 1024.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(check("photo.png", png).unwrap().content_type, "image/png");
        // A photo named .txt is still a photo; a page named .png is not a photo.
        assert_eq!(check("photo.txt", png).unwrap().content_type, "image/png");
        assert_eq!(
            check("x.png", b"<html><script>alert(1)</script>"),
            Err(Rejected::TypeNotAllowed)
        );
        assert_eq!(
            check("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err(Rejected::TypeNotAllowed)
        );
        assert_eq!(
            check("setup.exe", b"MZ\x90\0"),
            Err(Rejected::TypeNotAllowed)
        );
        assert!(check("receipt.pdf", b"%PDF-1.7\n").unwrap().content_type == "application/pdf");
        assert!(check("report.xlsx", b"PK\x03\x04rest").is_ok());
        assert_eq!(
            check("macro.jar", b"PK\x03\x04rest"),
            Err(Rejected::TypeNotAllowed)
        );
        assert_eq!(
            check("주문내역.csv", "번호,상품\n1,운동화\n".as_bytes())
                .unwrap()
                .content_type,
            "text/csv"
        );
        assert_eq!(check("a.txt", b"bin\0ary"), Err(Rejected::TypeNotAllowed));
        assert_eq!(
            check("fwd.eml", b"From: a@b.c\r\n\r\nhi")
                .unwrap()
                .content_type,
            "message/rfc822"
        );
        assert_eq!(check("a.txt", b""), Err(Rejected::Empty));
        assert_eq!(
            check("a.txt", &vec![b'a'; MAX_ATTACHMENT_BYTES + 1]),
            Err(Rejected::TooLarge)
        );
        assert!(check("a.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap().inline);
        assert!(!check("a.pdf", b"%PDF-1.4").unwrap().inline);
    }

    #[test]
    fn names_lose_paths_quotes_and_control_characters() {
        assert_eq!(safe_filename("C:\\Users\\kim\\영수증.pdf"), "영수증.pdf");
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("a\"b\r\n.pdf"), "ab.pdf");
        assert_eq!(safe_filename(".hidden"), "hidden");
        assert_eq!(safe_filename("///"), "attachment");
        assert_eq!(safe_filename(&"가".repeat(300)).chars().count(), 150);
        assert_eq!(size_label(820), "820 B");
        assert_eq!(size_label(14_540), "14.2 KB");
        assert_eq!(size_label(3_250_000), "3.1 MB");
    }
}

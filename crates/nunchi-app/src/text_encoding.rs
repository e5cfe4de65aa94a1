//! The character sets CSV files arrive in. Korean Excel saves CSV as CP949 (EUC-KR with
//! Microsoft's extensions) unless told otherwise, and opens a UTF-8 CSV as garbage unless
//! it starts with a byte-order mark. So imports read UTF-8 or, when the start of a file is
//! not UTF-8 but is clean CP949, decode CP949; exports start with the mark.

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, EUC_KR};

/// The UTF-8 byte-order mark, which tells Excel the file is UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How much of a file is looked at to tell its character set.
const SNIFF_BYTES: usize = 256 * 1024;

/// The character set a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    /// CP949 / EUC-KR, decoded to UTF-8 on the way in.
    Cp949,
}

/// Whether `sample` (the start of a file, perhaps cut mid-character) reads as CP949 and not
/// as UTF-8. A file that is neither stays UTF-8, so its bad lines are reported one by one.
fn looks_like_cp949(sample: &[u8], whole: bool) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => false,
        // Cut in the middle of a character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() && !whole => false,
        Err(_) => {
            let mut decoder = EUC_KR.new_decoder_without_bom_handling();
            let mut out = String::with_capacity(sample.len() * 2);
            let (result, _read) =
                decoder.decode_to_string_without_replacement(sample, &mut out, whole);
            // Malformed input is reported as an error; an unfinished last character
            // (when the sample was cut) leaves the decoder waiting, which is fine.
            !matches!(result, encoding_rs::DecoderResult::Malformed(..))
                && out.chars().any(|c| ('가'..='힣').contains(&c))
        }
    }
}

/// `reader` as UTF-8: the file itself when it is UTF-8, decoded when it is CP949.
pub fn utf8_reader(
    mut reader: Box<dyn Read + Send>,
) -> io::Result<(Box<dyn Read + Send>, Charset)> {
    let mut sample = Vec::with_capacity(SNIFF_BYTES.min(64 * 1024));
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)?;
    let whole = sample.len() < SNIFF_BYTES;
    let cp949 = looks_like_cp949(&sample, whole);
    let replayed: Box<dyn Read + Send> = Box::new(io::Cursor::new(sample).chain(reader));
    if cp949 {
        Ok((
            Box::new(Decoding {
                inner: replayed,
                decoder: EUC_KR.new_decoder_without_bom_handling(),
                input: vec![0; 64 * 1024],
                output: String::new(),
                at: 0,
                done: false,
            }),
            Charset::Cp949,
        ))
    } else {
        Ok((replayed, Charset::Utf8))
    }
}

/// A whole text as UTF-8: as it is, or decoded from CP949. `None` when it is neither
/// (the caller reports the encoding).
pub fn utf8_text(bytes: &[u8]) -> Option<(std::borrow::Cow<'_, str>, Charset)> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some((text.into(), Charset::Utf8));
    }
    if !looks_like_cp949(bytes, true) {
        return None;
    }
    let (text, _, malformed) = EUC_KR.decode(bytes);
    (!malformed).then_some((text, Charset::Cp949))
}

/// Decodes CP949 to UTF-8 as it is read. A malformed sequence further into the file than
/// the sample becomes U+FFFD, so that row is refused by its checks rather than the import.
struct Decoding {
    inner: Box<dyn Read + Send>,
    decoder: Decoder,
    input: Vec<u8>,
    output: String,
    at: usize,
    done: bool,
}

impl Read for Decoding {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.output.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            self.output.clear();
            self.at = 0;
            self.output
                .reserve(self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16));
            let (result, _, _) =
                self.decoder
                    .decode_to_string(&self.input[..n], &mut self.output, last);
            debug_assert!(matches!(result, CoderResult::InputEmpty));
            self.done = last;
        }
        let bytes = &self.output.as_bytes()[self.at..];
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp949(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = EUC_KR.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    fn read_all(bytes: Vec<u8>) -> (String, Charset) {
        let (mut r, charset) = utf8_reader(Box::new(io::Cursor::new(bytes))).unwrap();
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        (out, charset)
    }

    #[test]
    fn cp949_files_are_decoded_and_utf8_files_pass_through() {
        let text = "external_id,name\nK-1,김서연\nK-2,이도윤\n";
        assert_eq!(read_all(cp949(text)), (text.to_string(), Charset::Cp949));
        assert_eq!(
            read_all(text.as_bytes().to_vec()),
            (text.to_string(), Charset::Utf8)
        );
        assert_eq!(utf8_text(&cp949(text)).unwrap().0, text);
        assert_eq!(utf8_text(text.as_bytes()).unwrap().1, Charset::Utf8);
    }

    #[test]
    fn a_long_cp949_file_decodes_across_buffer_and_sample_boundaries() {
        let row = "K-0001,김서연,서울특별시 강남구 테헤란로\n";
        let text: String = std::iter::repeat_n(row, 20_000).collect();
        let bytes = cp949(&text);
        assert!(bytes.len() > SNIFF_BYTES, "longer than the sample");
        let (out, charset) = read_all(bytes);
        assert_eq!(charset, Charset::Cp949);
        assert_eq!(out, text);
    }

    #[test]
    fn latin1_and_random_bytes_stay_utf8_so_their_lines_are_reported() {
        let latin1 = b"external_id,name\nL-1,Jos\xe9\nL-2,Ok\n".to_vec();
        let (mut r, charset) = utf8_reader(Box::new(io::Cursor::new(latin1.clone()))).unwrap();
        assert_eq!(charset, Charset::Utf8);
        let mut same = Vec::new();
        r.read_to_end(&mut same).unwrap();
        assert_eq!(same, latin1, "passed through untouched");
        assert!(utf8_text(&latin1).is_none());
        assert!(utf8_text(b"\xff\xfe\x00a").is_none());
    }

    #[test]
    fn a_utf8_sample_cut_mid_character_is_still_utf8() {
        let text = "가".repeat(SNIFF_BYTES); // 3 bytes each: the sample ends mid-character
        let (out, charset) = read_all(text.clone().into_bytes());
        assert_eq!((out.len(), charset), (text.len(), Charset::Utf8));
    }
}

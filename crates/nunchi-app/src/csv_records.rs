//! CSV records with their line numbers, strict about quotes. The `csv` crate is lenient
//! by design: a quote that is never closed swallows every following line into one field,
//! so an import reported two rows for a file of five and no error. Here a quoted field may
//! still span lines (feedback text has paragraphs), but a quote that reaches the end of
//! the file, runs past `MAX_RECORD_BYTES`, or is followed by anything but a comma or the
//! end of the line makes the record broken: it is reported at the line where the quote
//! opened, and reading resumes on the line after it, so the rows it swallowed are read
//! on their own.

use std::collections::VecDeque;
use std::io::{self, BufRead};

/// A record (one row, with any quoted line breaks) may not grow past this.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// One record's fields, stored back to back.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// 1-based line the record starts on.
    pub line: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.bytes[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The fields as text, or `None` when one is not UTF-8.
    pub fn strs(&self) -> Option<Vec<&str>> {
        self.iter().map(|f| std::str::from_utf8(f).ok()).collect()
    }

    /// An empty line.
    pub fn is_blank(&self) -> bool {
        self.len() == 1 && self.bytes.is_empty()
    }

    fn end_field(&mut self) {
        self.ends.push(self.bytes.len());
    }
}

/// A record whose quotes do not add up, with the line they went wrong on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// Just read a quote inside a quoted field: a second quote is an escaped quote, a
    /// comma or line end closes the field, anything else is an error.
    AfterQuote,
}

/// Reads records from `reader`, one at a time.
pub struct Records<R> {
    reader: R,
    /// Number of the next line read from `reader`.
    next_line: u64,
    /// Lines read ahead by a broken record, to be read again on their own.
    replay: VecDeque<(u64, Vec<u8>)>,
    /// Lines the current record has spanned beyond its first.
    spanned: Vec<(u64, Vec<u8>)>,
    line: Vec<u8>,
    started: bool,
}

impl<R: BufRead> Records<R> {
    pub fn new(reader: R) -> Self {
        Records {
            reader,
            next_line: 1,
            replay: VecDeque::new(),
            spanned: Vec::new(),
            line: Vec::new(),
            started: false,
        }
    }

    /// The next line into `self.line`, with its number; `None` at the end.
    fn next_line(&mut self) -> io::Result<Option<u64>> {
        if let Some((n, bytes)) = self.replay.pop_front() {
            self.line = bytes;
            return Ok(Some(n));
        }
        self.line.clear();
        if self.reader.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            if self.line.starts_with("\u{feff}".as_bytes()) {
                self.line.drain(..3);
            }
        }
        let n = self.next_line;
        self.next_line += 1;
        Ok(Some(n))
    }

    /// Reads the next record: `Ok(Some(Ok(record)))`, a broken one as `Ok(Some(Err(_)))`,
    /// `Ok(None)` at the end of the input. Only the reader's own errors are `Err`.
    pub fn read(&mut self) -> io::Result<Option<Result<Record, Broken>>> {
        let Some(first) = self.next_line()? else {
            return Ok(None);
        };
        let mut rec = Record {
            line: first,
            ..Record::default()
        };
        self.spanned.clear();
        let mut state = State::FieldStart;
        let mut current = first;
        let mut quote_line = first;
        loop {
            let line = std::mem::take(&mut self.line);
            let mut i = 0;
            let mut done = false;
            while i < line.len() {
                let b = line[i];
                let line_end = b == b'\n' || (b == b'\r' && line.get(i + 1) == Some(&b'\n'));
                match state {
                    State::FieldStart | State::Unquoted if line_end => {
                        rec.end_field();
                        done = true;
                        break;
                    }
                    State::FieldStart if b == b'"' => {
                        state = State::Quoted;
                        quote_line = current;
                    }
                    State::FieldStart | State::Unquoted if b == b',' => {
                        rec.end_field();
                        state = State::FieldStart;
                    }
                    State::FieldStart | State::Unquoted => {
                        rec.bytes.push(b);
                        state = State::Unquoted;
                    }
                    State::Quoted if b == b'"' => state = State::AfterQuote,
                    State::Quoted => rec.bytes.push(b),
                    State::AfterQuote if b == b'"' => {
                        rec.bytes.push(b'"');
                        state = State::Quoted;
                    }
                    State::AfterQuote if b == b',' => {
                        rec.end_field();
                        state = State::FieldStart;
                    }
                    State::AfterQuote if line_end => {
                        rec.end_field();
                        done = true;
                        break;
                    }
                    State::AfterQuote => {
                        self.line = line;
                        return Ok(Some(Err(self.broken(
                            quote_line,
                            "text follows a closing quote; a quote inside a quoted field is written twice (\"\")",
                        ))));
                    }
                }
                i += 1;
            }
            self.line = line;
            if done {
                return Ok(Some(Ok(rec)));
            }
            // The line ran out without its end (the input's last line has none).
            if state != State::Quoted {
                rec.end_field();
                return Ok(Some(Ok(rec)));
            }
            if rec.bytes.len() > MAX_RECORD_BYTES {
                return Ok(Some(Err(self.broken(
                    quote_line,
                    "a quote opened on this line is not closed within 1 MiB",
                ))));
            }
            match self.next_line()? {
                Some(n) => {
                    current = n;
                    self.spanned.push((n, self.line.clone()));
                }
                None => {
                    return Ok(Some(Err(self.broken(
                        quote_line,
                        "a quote opened on this line is never closed",
                    ))));
                }
            }
        }
    }

    /// A broken record: the lines after the one its bad quote opened on are read again.
    fn broken(&mut self, quote_line: u64, reason: &str) -> Broken {
        for (n, bytes) in self.spanned.drain(..).rev() {
            if n > quote_line {
                self.replay.push_front((n, bytes));
            }
        }
        Broken {
            line: quote_line,
            reason: format!("malformed CSV: {reason}; the lines after it are read on their own"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record as its line and fields, or the line and "broken".
    fn read_all(input: &str) -> Vec<(u64, Result<Vec<String>, String>)> {
        let mut r = Records::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(rec) = r.read().unwrap() {
            out.push(match rec {
                Ok(rec) => (
                    rec.line,
                    Ok(rec
                        .strs()
                        .unwrap()
                        .into_iter()
                        .map(str::to_string)
                        .collect()),
                ),
                Err(b) => (b.line, Err("broken".to_string())),
            });
        }
        out
    }

    fn ok(line: u64, fields: &[&str]) -> (u64, Result<Vec<String>, String>) {
        (line, Ok(fields.iter().map(|f| f.to_string()).collect()))
    }

    fn broken(line: u64) -> (u64, Result<Vec<String>, String>) {
        (line, Err("broken".into()))
    }

    #[test]
    fn plain_quoted_and_multiline_fields() {
        let input = "\u{feff}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n\n3,,last";
        assert_eq!(
            read_all(input),
            vec![
                ok(1, &["a", "b", "c"]),
                ok(2, &["1", "x, y", "say \"hi\""]),
                ok(3, &["2", "two\nlines", ""]),
                ok(5, &[""]),
                ok(6, &["3", "", "last"]),
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_is_reported_and_the_rest_still_read() {
        let input = "id,name\nC-1,Kim\nC-2,\"Lee\nC-3,Park\nC-4,Choi\nC-5,Jung\n";
        assert_eq!(
            read_all(input),
            vec![
                ok(1, &["id", "name"]),
                ok(2, &["C-1", "Kim"]),
                broken(3),
                ok(4, &["C-3", "Park"]),
                ok(5, &["C-4", "Choi"]),
                ok(6, &["C-5", "Jung"]),
            ]
        );
    }

    #[test]
    fn a_quote_closed_by_a_later_rows_quote_is_caught_there() {
        // The stray quote on line 2 pairs with the opening quote on line 4, which is
        // followed by text: the record is broken and lines 3–4 are read again.
        let input = "src,text\nreview,\"late\nreview,fine\nreview,\"good\",\nreview,ok\n";
        assert_eq!(
            read_all(input),
            vec![
                ok(1, &["src", "text"]),
                broken(2),
                ok(3, &["review", "fine"]),
                ok(4, &["review", "good", ""]),
                ok(5, &["review", "ok"]),
            ]
        );
    }

    #[test]
    fn quotes_inside_unquoted_fields_are_text() {
        assert_eq!(
            read_all("5\" screen,x\n"),
            vec![ok(1, &["5\" screen", "x"])]
        );
        assert_eq!(read_all("\"a\"b,c\n"), vec![broken(1)]);
    }

    #[test]
    fn runaway_quotes_stop_at_the_limit() {
        let mut input = String::from("a,\"b\n");
        let filler = "x".repeat(1000);
        for _ in 0..(MAX_RECORD_BYTES / 1000 + 2) {
            input.push_str(&filler);
            input.push('\n');
        }
        let out = read_all(&input);
        assert_eq!(out[0], broken(1));
        assert_eq!(out[1], ok(2, &[filler.as_str()]));
        assert_eq!(out.len(), MAX_RECORD_BYTES / 1000 + 3);
    }
}

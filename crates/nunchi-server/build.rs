//! Generates the UI string tables (`Strings`, `EN`, `KO`) from `strings/*.strings`: one
//! file per area, each line `key = "English" | "한국어"` with both texts as Rust string
//! literals. A line missing a language, or a key declared twice, stops the build with the
//! file and line, so no language can lack a string.

use std::fmt::Write as _;
use std::path::Path;

/// A Rust string literal at the start of `s` (after spaces): the literal and the rest.
fn literal(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    let body = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some((&s[..i + 2], &s[i + 2..])),
            _ => {}
        }
    }
    None
}

fn main() {
    let dir = Path::new("strings");
    println!("cargo:rerun-if-changed=strings");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the strings folder")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "strings"))
        .collect();
    files.sort();
    let mut entries: Vec<(String, String, String)> = Vec::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file).expect("a strings file");
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("{}:{}", file.display(), n + 1);
            let (key, rest) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: expected key = \"English\" | \"한국어\"", at()));
            let key = key.trim();
            assert!(
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}: a key is lower case letters, digits and _",
                at()
            );
            let (en, rest) = literal(rest).unwrap_or_else(|| panic!("{}: no English text", at()));
            let rest = rest
                .trim_start()
                .strip_prefix('|')
                .unwrap_or_else(|| panic!("{}: no | before the Korean text", at()));
            let (ko, rest) = literal(rest).unwrap_or_else(|| panic!("{}: no Korean text", at()));
            assert!(rest.trim().is_empty(), "{}: text after the Korean", at());
            assert!(
                !entries.iter().any(|(k, _, _)| k == key),
                "{}: {key} is declared twice",
                at()
            );
            entries.push((key.to_string(), en.to_string(), ko.to_string()));
        }
    }
    let mut out = String::from("#[derive(Debug)]\npub struct Strings {\n");
    for (key, _, _) in &entries {
        let _ = writeln!(out, "    pub {key}: &'static str,");
    }
    out.push_str("}\n");
    for (name, pick) in [("EN", 1), ("KO", 2)] {
        let _ = writeln!(out, "pub static {name}: Strings = Strings {{");
        for e in &entries {
            let text = if pick == 1 { &e.1 } else { &e.2 };
            let _ = writeln!(out, "    {}: {text},", e.0);
        }
        out.push_str("};\n");
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("strings.rs");
    std::fs::write(dest, out).expect("write the string tables");
}

//! Tidy: cheap conventions checked on every test run. Every Rust file opens with a `//!`
//! line saying what it is for; no `dbg!`, `todo!` or `unimplemented!` is left behind;
//! every crate has its paragraph in ARCHITECTURE.md; the README opens with the two commands.

use std::path::{Path, PathBuf};

mod support;
use support::workspace;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_file_says_what_it_is_for_and_leaves_no_debugging_behind() {
    let mut files = vec![];
    rust_files(&workspace().join("crates"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut problems = vec![];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("{}: does not open with a //! line", f.display()));
        }
        for (n, line) in text.lines().enumerate() {
            // Spelled in two pieces so this file does not trip its own check.
            for banned in [
                concat!("dbg", "!("),
                concat!("todo", "!("),
                concat!("unimplemented", "!("),
            ] {
                if line.contains(banned) {
                    problems.push(format!("{}:{}: {banned}", f.display(), n + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn architecture_md_describes_every_crate() {
    let arch = std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).unwrap();
    for entry in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            arch.contains(&format!("### `{name}`")),
            "ARCHITECTURE.md has no section for {name}"
        );
    }
}

#[test]
fn readme_opens_with_the_two_commands() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let blocks: Vec<&str> = readme.split("```").skip(1).step_by(2).take(2).collect();
    assert!(
        blocks[0].contains("serve --demo-if-empty"),
        "first command starts nunchi with the demo: {:?}",
        blocks[0]
    );
    assert!(
        blocks[1].contains("scripts/test.sh"),
        "second command runs the tests: {:?}",
        blocks[1]
    );
    let ci = std::fs::read_to_string(workspace().join(".ci/run")).unwrap();
    assert!(
        ci.contains("scripts/test.sh"),
        ".ci/run calls the README's test command"
    );
}

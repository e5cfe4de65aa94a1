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

/// The `[dependencies]` section of a crate's manifest, one name per line.
fn dependencies(krate: &str) -> Vec<String> {
    let manifest =
        std::fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let section = manifest
        .split("\n[")
        .find(|s| s.starts_with("dependencies]"))
        .unwrap_or("");
    section
        .lines()
        .skip(1)
        .filter_map(|l| l.split(['.', '=', ' ']).next())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn layers_depend_only_downwards() {
    // (crate, what it must not depend on): the invariants ARCHITECTURE.md states.
    let forbidden: &[(&str, &[&str])] = &[
        (
            "nunchi-core",
            &["sqlx", "tokio", "serde_json", "nunchi-store", "nunchi-app"],
        ),
        (
            "nunchi-analytics",
            &["sqlx", "tokio", "nunchi-store", "nunchi-app", "axum"],
        ),
        (
            "nunchi-text",
            &["sqlx", "tokio", "nunchi-store", "nunchi-app", "axum"],
        ),
        (
            "nunchi-demo",
            &["sqlx", "tokio", "nunchi-store", "nunchi-app"],
        ),
        (
            "nunchi-charts",
            &[
                "sqlx",
                "tokio",
                "nunchi-store",
                "nunchi-app",
                "axum",
                "askama",
            ],
        ),
        (
            "nunchi-store",
            &["axum", "askama", "tower", "nunchi-app", "nunchi-server"],
        ),
        (
            "nunchi-app",
            &["axum", "askama", "tower", "tower-http", "nunchi-server"],
        ),
    ];
    // The reader sees real manifests: the app does run on tokio.
    assert!(dependencies("nunchi-app").iter().any(|d| d == "tokio"));
    let mut problems = vec![];
    for (krate, banned) in forbidden {
        let deps = dependencies(krate);
        assert!(
            !deps.is_empty() || matches!(*krate, "nunchi-demo" | "nunchi-charts"),
            "{krate} has no dependencies section"
        );
        for b in *banned {
            if deps.iter().any(|d| d == b) {
                problems.push(format!("{krate} depends on {b}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every line of the Rust files under `dir`, with the file's path.
fn lines_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = vec![];
    rust_files(dir, &mut files);
    files
        .into_iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            text.lines()
                .map(|l| (f.clone(), l.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn pages_and_endpoints_share_operations_not_each_other() {
    // A page and an endpoint that do the same thing call nunchi-app; neither imports the
    // other, so each face can change alone.
    let src = workspace().join("crates/nunchi-server/src");
    let mut problems = vec![];
    for (face, other) in [("ui", "api"), ("api", "ui")] {
        for (file, line) in lines_under(&src.join(face)) {
            let t = line.trim_start();
            if t.contains(&format!("crate::{other}::"))
                || t.contains(&format!("crate::{other};"))
                || t.starts_with(&format!("{other}::"))
                || t.contains(&format!("super::super::{other}"))
            {
                problems.push(format!("{}: {t}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn sql_stays_in_the_store() {
    let mut problems = vec![];
    for entry in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let krate = entry.unwrap().path();
        if krate.ends_with("nunchi-store") {
            continue;
        }
        for (file, line) in lines_under(&krate) {
            // Spelled in two pieces so this file does not trip its own check.
            if line.contains(concat!("sqlx", "::")) {
                problems.push(format!("{}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn modules_stay_small() {
    // Past ~800 lines a module is split, unless it is on this list with its reason.
    let allowed: &[(&str, &str)] = &[
        (
            "nunchi-server/src/ui/analytics.rs",
            "the funnel, paths and retention pages share their filter form",
        ),
        (
            "nunchi-server/src/ui/surveys.rs",
            "the builder's forms; its operations already live in nunchi-app",
        ),
    ];
    let mut files = vec![];
    rust_files(&workspace().join("crates"), &mut files);
    let mut problems = vec![];
    for f in files {
        let path = f.to_string_lossy().replace('\\', "/");
        if path.contains("/tests/") {
            continue;
        }
        let n = std::fs::read_to_string(&f).unwrap().lines().count();
        let listed = allowed.iter().any(|(p, _)| path.ends_with(p));
        if n > 800 && !listed {
            problems.push(format!("{path}: {n} lines"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn store_sql_stays_within_the_formatted_width() {
    // rustfmt cannot format the `macro_rules!` bodies that stamp the SQL onto both backends
    // or break string literals, so the store's width is checked here instead (the bodies
    // were formatted by rustfmt with their metavariables swapped for identifiers).
    let mut files = vec![];
    rust_files(&workspace().join("crates/nunchi-store/src"), &mut files);
    let mut problems = vec![];
    for f in files {
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            let width = line.chars().count();
            if width > 100 {
                problems.push(format!("{}:{}: {width} columns", f.display(), i + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn store_sql_is_written_as_named_constants() {
    // A statement the backends share is a named constant beside its module's macro, passed
    // to the query by name; only statements assembled at run time (`format!`, a query
    // builder) are written where they are used.
    let inline = passes_a_literal_to_sqlx();
    let mut files = vec![];
    rust_files(&workspace().join("crates/nunchi-store/src/sql"), &mut files);
    let mut problems = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, window) in text.lines().collect::<Vec<_>>().windows(2).enumerate() {
            let joined = format!("{} {}", window[0].trim(), window[1].trim());
            if inline(&joined) {
                problems.push(format!("{}:{}: inline SQL", f.display(), i + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether a line (joined with the next) passes a string literal straight to a query.
fn passes_a_literal_to_sqlx() -> impl Fn(&str) -> bool {
    // Spelled in parts, so that this file does not name the crate itself.
    let calls: Vec<String> = ["query(", "query_as(", "query_scalar("]
        .iter()
        .map(|c| format!("{}::{c}", "sqlx"))
        .collect();
    move |line: &str| {
        calls.iter().any(|call| {
            line.split(call.as_str())
                .skip(1)
                .any(|rest| rest.trim_start().starts_with('"'))
        })
    }
}

/// Every action written to the audit log (`audit_by(actor, "x.y", …)`, `.audit(&auth,
/// "x.y", …)`) has a name people read, in `Strings::audit_action`: the audit page never
/// shows a raw key.
#[test]
fn every_audited_action_has_a_readable_name() {
    let root = workspace();
    let names = std::fs::read_to_string(root.join("crates/nunchi-server/src/i18n.rs")).unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let mut missing = Vec::new();
    for file in files
        .into_iter()
        .filter(|f| !f.ends_with("nunchi/tests/tidy.rs"))
    {
        let text = std::fs::read_to_string(&file).unwrap();
        for call in ["audit_by(", ".audit("] {
            for (at, _) in text.match_indices(call) {
                // The action is the first dotted literal of the call.
                let window: String = text[at..].chars().take(240).collect();
                let action = window.split('"').skip(1).step_by(2).find(|lit| {
                    !lit.is_empty()
                        && lit.contains('.')
                        && lit
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                });
                if let Some(action) = action
                    && !names.contains(&format!("\"{action}\" =>"))
                {
                    missing.push(format!("{action} ({})", file.display()));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "audit actions without a name: {missing:?}"
    );
}

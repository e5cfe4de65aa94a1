//! Helpers shared by the binary's integration tests.

use std::path::{Path, PathBuf};

/// The workspace root. Cargo sets `CARGO_MANIFEST_DIR` when it runs a test, which stays
/// right when one target folder serves several checkouts; the compile-time value is the
/// fallback for running the test binary by hand.
pub fn workspace() -> PathBuf {
    let manifest =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    Path::new(&manifest)
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// A script under `scripts/`, as a string for `Command::args`.
#[allow(dead_code)] // Not every test binary runs scripts.
pub fn script(name: &str) -> String {
    workspace()
        .join("scripts")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs the built binary with these arguments.
#[allow(dead_code)] // Not every test binary runs the command with arguments only.
pub fn nunchi(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_nunchi"))
        .args(args)
        .output()
        .expect("nunchi runs")
}

/// What a successful run printed; a failed one fails the test with its error output.
#[allow(dead_code)] // Not every test binary reads output this way.
pub fn stdout(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

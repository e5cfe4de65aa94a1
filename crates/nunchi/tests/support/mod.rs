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

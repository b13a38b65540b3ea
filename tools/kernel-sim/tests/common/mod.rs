//! Test helpers: build the C twins (examples/c-twins) with [`kernel_sim::twins`] and
//! serialise kernels within one test binary.
//!
//! Missing tools fail the test with the command that installs them; nothing is skipped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub use kernel_sim::twins::Target;

/// One simulated kernel per process at a time: tests of one binary take this lock.
pub fn lock() -> MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}

/// Repository root.
pub fn repo() -> PathBuf {
    kernel_sim::twins::repo()
}

/// Include root of the FreeBSD headers for `v` ("14" or "15"), fetched by ci/freebsd-headers.sh.
pub fn headers(v: &str) -> PathBuf {
    kernel_sim::twins::headers(v).unwrap_or_else(|e| panic!("{e}"))
}

/// Build `sources` (file names under examples/c-twins) into `<tag>.ko`; returns its path.
pub fn build(tag: &str, sources: &[&str], target: Target) -> PathBuf {
    build_with(tag, sources, target, &[])
}

/// [`build`] with extra compiler flags (appended last).
pub fn build_with(tag: &str, sources: &[&str], target: Target, extra: &[&str]) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    kernel_sim::twins::build(&out, tag, sources, target, extra).unwrap_or_else(|e| panic!("{e}"))
}

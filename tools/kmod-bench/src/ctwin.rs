//! C twins for the benchmarks: built by the simulator's shared builder
//! (`kernel_sim::twins`, gcc with kern.mk's amd64 flags against the real FreeBSD 14.2
//! headers, then `ld -r` with `examples/c-twins/kmod.ld`), so the benchmark measures
//! exactly the modules the simulator's tests run.

use std::path::{Path, PathBuf};
use std::process::Command;

use kernel_sim::twins::{self, Target};

/// Builds `examples/c-twins/<source>` into `<out_dir>/<tag>/<tag>.ko` for FreeBSD 14.0.
pub fn build(source: &str, tag: &str, out_dir: &Path) -> anyhow::Result<PathBuf> {
    twins::build(out_dir, tag, &[source], Target::Fbsd14, &[]).map_err(anyhow::Error::msg)
}

/// `gcc --version`, first line.
pub fn gcc_version() -> String {
    twins::which(&["gcc", "cc"])
        .and_then(|g| Command::new(g).arg("--version").output().ok())
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_owned())
        .unwrap_or_else(|| "gcc not found".into())
}

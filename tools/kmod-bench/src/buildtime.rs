//! Build time of the example x release matrix, cold and warm.
//!
//! The matrix is built in a private copy of the workspace (sources only, no `target/`), so
//! "cold" really starts from an empty `target/kmod-build` (build-std compiles `core` and
//! `alloc` again) without disturbing anybody's builds in the real workspace, and the
//! sources cannot change between the cold and the warm pass. `target/kmod-build` is shared
//! by every release and example, so a cold matrix compiles `core`/`alloc` exactly once (the
//! first build); [`core_builds`] counts how often it did, from the inner cargo's messages. Each build is
//! `cargo_kmod::build::build`, i.e. exactly `cargo kmod build --freebsd <release> <module>`
//! (inner cargo, `ld.lld -r`, objcopy, check), one after the other as `ci/matrix.sh` does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cargo_kmod::build::{BuildOptions, BuildOutput, build};
use cargo_kmod::workspace::Workspace;

/// Copies the workspace at `from` to `to`, leaving out `target/` directories and `.git`.
pub fn copy_workspace(from: &Path, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("rm -r {}", to.display()))?;
    }
    copy_dir(from, to)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("mkdir {}", to.display()))?;
    for e in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let e = e?;
        let name = e.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let ty = e.file_type()?;
        let dst = to.join(&name);
        if ty.is_dir() {
            copy_dir(&e.path(), &dst)?;
        } else if ty.is_file() {
            std::fs::copy(e.path(), &dst)
                .with_context(|| format!("copy {}", e.path().display()))?;
        }
    }
    Ok(())
}

/// One timed `cargo kmod build`.
#[derive(Clone, Debug)]
pub struct Timed {
    /// Module package (directory under `examples/`).
    pub example: String,
    /// Release name, e.g. "14.0".
    pub release: &'static str,
    /// Wall-clock time of the build.
    pub time: Duration,
    /// What was built.
    pub output: BuildOutput,
}

/// Builds every example for every release of the catalog once, in order; returns the
/// timings.
pub fn build_matrix(ws_root: &Path, jobs: u32) -> anyhow::Result<Vec<Timed>> {
    let ws = Workspace::at(ws_root);
    let mut out = Vec::new();
    for r in freebsd_releases() {
        for ex in ws.examples() {
            let opts = BuildOptions {
                module: ex.clone(),
                release: r,
                jobs: Some(jobs),
                verbose: false,
            };
            let t0 = Instant::now();
            let output = build(&ws, &opts)
                .with_context(|| format!("cargo kmod build --freebsd {} {ex}", r.identity.name))?;
            out.push(Timed {
                example: ex,
                release: r.identity.name,
                time: t0.elapsed(),
                output,
            });
        }
    }
    Ok(out)
}

/// How many builds of `timed` compiled `core` (cargo reported it not fresh): 1 for a cold
/// matrix with one shared build-std, 0 for a warm one.
pub fn core_builds(timed: &[Timed]) -> usize {
    timed
        .iter()
        .filter(|t| t.output.compiled.iter().any(|c| c == "core"))
        .count()
}

/// The releases of the bindings (the release catalog, one per `releases/v*_*` folder, which
/// `ci/matrix.sh` iterates over), oldest first.
pub fn freebsd_releases() -> Vec<&'static cargo_kmod::Release> {
    freebsd_kpi::catalog::RELEASES.iter().collect()
}

/// `target/kmod-build` of a workspace root.
pub fn kmod_build_dir(ws_root: &Path) -> PathBuf {
    Workspace::at(ws_root).build_dir()
}

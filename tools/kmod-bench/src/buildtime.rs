//! Build time of the example x release matrix, cold and warm, and of the kernel sysroot.
//!
//! `core`/`alloc`/`compiler_builtins` are compiled once per toolchain into the kernel
//! sysroot cache (`cargo_kmod::sysroot`), shared by every workspace; [`time_sysroot`] times
//! that one-off step on its own, in a fresh cache root, as on a machine that never built a
//! module. The matrix is built in a private copy of the workspace (sources only, no
//! `target/`), so "cold" really starts from an empty `target/kmod-build` (every crate of
//! every module compiled, with the toolchain's sysroot already cached) without disturbing
//! anybody's builds in the real workspace, and the sources cannot change between the cold
//! and the warm pass. [`core_builds`] counts the builds that compiled `core` (0 once the
//! sysroot is cached), from the inner cargo's messages. Each build is
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

/// Compiles the kernel sysroot into a fresh cache root (as on a machine that never built a
/// module) and returns how long it took and the crates it compiled; the temporary cache is
/// removed. Also makes sure the machine's own cache has one, so that the matrix builds
/// that follow measure module builds only.
pub fn time_sysroot(ws_root: &Path, jobs: u32) -> anyhow::Result<(Duration, Vec<String>)> {
    let tc = cargo_kmod::toolchain::Toolchain::discover()?;
    let root = std::env::temp_dir().join(format!("kmod-bench-sysroot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let t0 = Instant::now();
    let fresh = cargo_kmod::sysroot::ensure_in(&tc, &root, Some(jobs))?;
    let time = t0.elapsed();
    std::fs::remove_dir_all(&root).with_context(|| format!("rm -r {}", root.display()))?;
    cargo_kmod::sysroot::ensure(&tc, &Workspace::at(ws_root).sysroot_fallback_dir(), Some(jobs))?;
    Ok((time, fresh.compiled))
}

/// How many builds of `timed` compiled `core` (cargo reported it not fresh): 0 when the
/// toolchain's kernel sysroot is cached, 1 when the first build had to compile it.
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

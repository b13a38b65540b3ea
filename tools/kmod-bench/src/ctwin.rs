//! Builds a C twin (`examples/c-twins/*.c`) into a `.ko` as `sys/conf/kmod.mk` does: gcc
//! with kern.mk's amd64 flags against the real FreeBSD 14.2 headers, then `ld.lld -r` (or
//! GNU `ld -r`) with `examples/c-twins/kmod.ld`.
//!
//! Copied from the simulator's test helper `tools/kernel-sim/tests/common/mod.rs`
//! (`build_with`, `Target::Fbsd14` only), returning errors instead of panicking. Keep the
//! flags in step with that file.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The first of `cands` that exists (absolute paths as is, other names on `PATH`).
pub fn which(cands: &[&str]) -> Option<PathBuf> {
    for c in cands {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.exists() {
                return Some(p.into());
            }
        } else if let Ok(path) = std::env::var("PATH") {
            for d in path.split(':') {
                let f = Path::new(d).join(c);
                if f.exists() {
                    return Some(f);
                }
            }
        }
    }
    None
}

/// Include root of the FreeBSD 14 headers, fetched (once, cached) by `ci/freebsd-headers.sh`.
pub fn headers(repo: &Path) -> anyhow::Result<PathBuf> {
    let script = repo.join("ci/freebsd-headers.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg("14")
        .output()
        .with_context(|| format!("cannot run {} (needs /bin/sh)", script.display()))?;
    if !out.status.success() {
        bail!(
            "FreeBSD 14 headers are missing and could not be fetched: `sh ci/freebsd-headers.sh 14` failed:\n{}\n\
             Install python3-pip (apt-get install python3-pip) and make PyPI reachable.",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {cmd:?}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The gcc flags of kern.mk / kmod.mk for amd64 (as in the simulator's test helper), for a
/// 14.0 module (`__FreeBSD_version` 1400097) against the headers under `inc`.
pub fn cflags(inc: &Path) -> Vec<String> {
    let mut v: Vec<String> = [
        "-c",
        "-O2",
        "-nostdinc",
        "-ffreestanding",
        "-fno-pic",
        "-fno-common",
        "-mcmodel=kernel",
        "-mno-red-zone",
        "-mno-mmx",
        "-mno-sse",
        "-msoft-float",
        "-fno-asynchronous-unwind-tables",
        "-fno-omit-frame-pointer",
        "-mno-omit-leaf-frame-pointer",
        "-fwrapv",
        "-fstack-protector",
        "-mstack-protector-guard=global",
        "-U__linux__",
        "-U__linux",
        "-Ulinux",
        "-U__gnu_linux__",
        "-D_KERNEL",
        "-DKLD_MODULE",
        "-w",
        "-D__FreeBSD__=14",
        "-D__FreeBSD_version=1400097",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    v.push(format!("-I{}", inc.join("x86_64-freebsd-none").display()));
    v.push(format!("-I{}", inc.join("generic-freebsd").display()));
    v
}

/// Builds `examples/c-twins/<source>` into `<out_dir>/<tag>.ko` for FreeBSD 14.0.
pub fn build(repo: &Path, source: &str, tag: &str, out_dir: &Path) -> anyhow::Result<PathBuf> {
    let gcc = which(&["gcc", "cc"]).context("no C compiler (gcc) found: apt-get install gcc")?;
    let lld = which(&["/usr/lib/llvm-22/bin/ld.lld", "ld.lld", "/usr/bin/ld.lld"]);
    let gnu_ld = which(&["ld"]);
    if lld.is_none() && gnu_ld.is_none() {
        bail!("no linker found (ld.lld or ld): apt-get install lld (or binutils)");
    }
    let inc = headers(repo)?;
    let twins = repo.join("examples/c-twins");
    std::fs::create_dir_all(out_dir).with_context(|| format!("mkdir {}", out_dir.display()))?;
    let obj = out_dir.join(format!("{source}.o"));
    run(
        Command::new(&gcc)
            .args(cflags(&inc))
            .arg(twins.join(source))
            .arg("-o")
            .arg(&obj),
        &format!("gcc {source}"),
    )?;
    let ko = out_dir.join(format!("{tag}.ko"));
    let mut l = match &lld {
        Some(lld) => {
            let mut l = Command::new(lld);
            l.args(["-m", "elf_x86_64_fbsd", "-r"]);
            l
        }
        None => {
            let mut l = Command::new(gnu_ld.as_ref().expect("checked above"));
            l.arg("-r");
            l
        }
    };
    // kmod.mk links with -T ldscript.kmod.amd64; kmod.ld is the same page padding.
    l.arg("-T")
        .arg(twins.join("kmod.ld"))
        .arg("-o")
        .arg(&ko)
        .arg(&obj);
    run(&mut l, "link (ld -r)")?;
    Ok(ko)
}

/// `gcc --version`, first line.
pub fn gcc_version() -> String {
    which(&["gcc", "cc"])
        .and_then(|g| Command::new(g).arg("--version").output().ok())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_else(|| "gcc not found".into())
}

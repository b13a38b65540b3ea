//! Builds the C twins of the examples (`examples/c-twins/*.c`) into `.ko` files, as
//! `sys/conf/kmod.mk` does: gcc with kern.mk's amd64 flags against the real FreeBSD headers
//! (fetched by `ci/freebsd-headers.sh`, PyPI `ziglang` wheels), then `ld.lld -r` (or GNU
//! `ld -r`) with `examples/c-twins/kmod.ld`.
//!
//! Test support shared by the simulator's tests and cargo-kmod's tests (which compare a
//! Rust module with its C twin). Errors name the command that installs what is missing;
//! nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Which FreeBSD release a twin is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// FreeBSD 14.2 headers, compiled as a 14.0 module (`__FreeBSD_version` of the 14.0 bindings).
    Fbsd14,
    /// FreeBSD 15.0 headers, `__FreeBSD_version` of the 15.0 bindings.
    Fbsd15,
    /// No FreeBSD headers (hello13.c, badreloc.s).
    Bare,
}

/// Repository root (`tools/kernel-sim/../..`).
pub fn repo() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

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

/// Include root of the FreeBSD headers for `v` ("14" or "15"), fetched (once, cached) by
/// `ci/freebsd-headers.sh`.
pub fn headers(v: &str) -> Result<PathBuf, String> {
    let script = repo().join("ci/freebsd-headers.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(v)
        .output()
        .map_err(|e| format!("cannot run {}: {e} (needs /bin/sh)", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "FreeBSD {v} headers are missing and could not be fetched: `sh ci/freebsd-headers.sh {v}` failed:\n{}\n\
             Install python3-pip (apt-get install python3-pip) and make PyPI reachable.",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("cannot run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {:?}\n{}{}",
            cmd,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Build `sources` (file names under examples/c-twins) into `<out_dir>/<tag>/<tag>.ko`,
/// adding `extra` compiler flags last; returns the `.ko` path.
pub fn build(out_dir: &Path, tag: &str, sources: &[&str], target: Target, extra: &[&str]) -> Result<PathBuf, String> {
    let gcc = which(&["gcc", "cc"]).ok_or("no C compiler (gcc) found: apt-get install gcc")?;
    let ld = which(&["/usr/lib/llvm-22/bin/ld.lld", "ld.lld", "/usr/bin/ld.lld"]);
    let gnu_ld = which(&["ld"]);
    if ld.is_none() && gnu_ld.is_none() {
        return Err("no linker found (ld.lld or ld): apt-get install lld (or binutils)".into());
    }
    let twins = repo().join("examples/c-twins");
    let out_dir = out_dir.join(tag);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("mkdir {}: {e}", out_dir.display()))?;
    let mut cflags: Vec<String> = vec![
        // kern.mk / kmod.mk for amd64 (FACTS.md section 8).
        "-c", "-O2", "-nostdinc", "-ffreestanding", "-fno-pic", "-fno-common", "-mcmodel=kernel", "-mno-red-zone",
        "-mno-mmx", "-mno-sse", "-msoft-float", "-fno-asynchronous-unwind-tables", "-fno-omit-frame-pointer",
        "-mno-omit-leaf-frame-pointer", "-fwrapv", "-fstack-protector", "-mstack-protector-guard=global",
        "-U__linux__", "-U__linux", "-Ulinux", "-U__gnu_linux__", "-D_KERNEL", "-DKLD_MODULE", "-w",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    match target {
        Target::Fbsd14 | Target::Fbsd15 => {
            let (v, release) =
                if target == Target::Fbsd14 { ("14", crate::SimRelease::V14_0) } else { ("15", crate::SimRelease::V15_0) };
            let fv = release.freebsd_version;
            let inc = headers(v)?;
            cflags.push(format!("-D__FreeBSD__={v}"));
            cflags.push(format!("-D__FreeBSD_version={fv}"));
            cflags.push(format!("-I{}", inc.join("x86_64-freebsd-none").display()));
            cflags.push(format!("-I{}", inc.join("generic-freebsd").display()));
        }
        Target::Bare => {}
    }
    let mut objs = Vec::new();
    for s in sources {
        let obj = out_dir.join(format!("{s}.o"));
        let mut c = Command::new(&gcc);
        c.args(&cflags).args(extra).arg(twins.join(s)).arg("-o").arg(&obj);
        run(&mut c, &format!("gcc {s}"))?;
        objs.push(obj);
    }
    let ko = out_dir.join(format!("{tag}.ko"));
    let mut l = match (&ld, &gnu_ld) {
        (Some(lld), _) => {
            let mut l = Command::new(lld);
            l.args(["-m", "elf_x86_64_fbsd", "-r"]);
            l
        }
        (None, Some(gnu)) => {
            let mut l = Command::new(gnu);
            l.arg("-r");
            l
        }
        (None, None) => unreachable!("checked above"),
    };
    // kmod.mk links with -T ldscript.kmod.amd64; kmod.ld is the same page padding.
    l.arg("-T").arg(twins.join("kmod.ld")).arg("-o").arg(&ko).args(&objs);
    run(&mut l, "link (ld -r)")?;
    Ok(ko)
}

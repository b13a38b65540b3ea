//! Test helpers: build the C twins (examples/c-twins) into `.ko` files with gcc and a
//! linker as `sys/conf/kmod.mk` does, and serialise kernels within one test binary.
//!
//! Missing tools fail the test with the command that installs them; nothing is skipped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// One simulated kernel per process at a time: tests of one binary take this lock.
pub fn lock() -> MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}

/// Repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// Which FreeBSD release a twin is built for.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// FreeBSD 14.2 headers, `__FreeBSD_version` 1400097 (a 14.0 module).
    Fbsd14,
    /// FreeBSD 15.0 headers, 1500068.
    Fbsd15,
    /// No FreeBSD headers (hello13.c, badreloc.s).
    Bare,
}

fn which(cands: &[&str]) -> Option<PathBuf> {
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

/// Include root of the FreeBSD headers for `v` ("14" or "15"), fetched by ci/freebsd-headers.sh.
pub fn headers(v: &str) -> PathBuf {
    let script = repo().join("ci/freebsd-headers.sh");
    let out = Command::new("sh").arg(&script).arg(v).output().unwrap_or_else(|e| {
        panic!("cannot run {}: {e} (needs /bin/sh)", script.display())
    });
    if !out.status.success() {
        panic!(
            "FreeBSD {v} headers are missing and could not be fetched: `sh ci/freebsd-headers.sh {v}` failed:\n{}\n\
             Install python3-pip (apt-get install python3-pip) and make PyPI reachable.",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    if !out.status.success() {
        panic!("{what} failed: {:?}\n{}{}", cmd, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
}

/// Build `sources` (file names under examples/c-twins) into `<tag>.ko`; returns its path.
pub fn build(tag: &str, sources: &[&str], target: Target) -> PathBuf {
    build_with(tag, sources, target, &[])
}

/// [`build`] with extra compiler flags (appended last).
pub fn build_with(tag: &str, sources: &[&str], target: Target, extra: &[&str]) -> PathBuf {
    let gcc = which(&["gcc", "cc"]).unwrap_or_else(|| panic!("no C compiler (gcc) found: apt-get install gcc"));
    let ld = which(&["/usr/lib/llvm-22/bin/ld.lld", "ld.lld", "/usr/bin/ld.lld"]);
    let gnu_ld = which(&["ld"]);
    if ld.is_none() && gnu_ld.is_none() {
        panic!("no linker found (ld.lld or ld): apt-get install lld (or binutils)");
    }
    let twins = repo().join("examples/c-twins");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins").join(tag);
    std::fs::create_dir_all(&out_dir).expect("mkdir");
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
            let (v, fv) = if matches!(target, Target::Fbsd14) { ("14", "1400097") } else { ("15", "1500068") };
            let inc = headers(v);
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
        run(&mut c, &format!("gcc {s}"));
        objs.push(obj);
    }
    let ko = out_dir.join(format!("{tag}.ko"));
    let mut l = match &ld {
        Some(lld) => {
            let mut l = Command::new(lld);
            l.args(["-m", "elf_x86_64_fbsd", "-r"]);
            l
        }
        None => {
            let mut l = Command::new(gnu_ld.as_ref().expect("ld"));
            l.arg("-r");
            l
        }
    };
    // kmod.mk links with -T ldscript.kmod.amd64; kmod.ld is the same page padding.
    l.arg("-T").arg(twins.join("kmod.ld")).arg("-o").arg(&ko).args(&objs);
    run(&mut l, "link (ld -r)");
    ko
}

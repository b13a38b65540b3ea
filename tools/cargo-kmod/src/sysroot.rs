//! The kernel sysroot: `core`, `alloc` and `compiler_builtins` compiled for the kernel target
//! once per toolchain and target spec, and shared by every module, release and workspace.
//!
//! Nothing in `core`/`alloc` depends on the FreeBSD release or on the module, so compiling
//! them with `-Z build-std` inside every module build (once per workspace target dir, or
//! worse, once per release) repeats the slowest part of a kernel build: about 30 s of
//! `core` alone on two cores. Instead, [`ensure`] builds them once with build-std from a
//! tiny `#![no_std]` crate and lays the rlibs out as a sysroot
//! (`<dir>/lib/rustlib/x86_64-unknown-freebsd-kmod/lib/*.rlib`), and module builds pass
//! `--sysroot=<dir>` instead of `-Z build-std`: exactly what rustup's prebuilt standard
//! library is for tier-1 targets.
//!
//! The cache lives in `$CARGO_KMOD_CACHE_DIR`, else `$XDG_CACHE_HOME/cargo-kmod`, else
//! `$HOME/.cache/cargo-kmod`, else (no home, or one that cannot be written) the workspace's
//! `target/kmod-sysroot`. One
//! directory per [`key`]: the whole `rustc -vV`, the toolchain's sysroot and library
//! source, the target spec, the code-generation flags, the build-std features and the
//! profile. The key is stored in the directory (`key.txt`, written last) and compared in
//! full, so a different toolchain, a changed target spec or a half-written directory is
//! rebuilt, never reused. Concurrent builds (parallel `cargo kmod` runs, test binaries)
//! take a file lock, so the sysroot is compiled by one of them and the others wait.
//!
//! The sysroot is compiled with the profile of a module package from `cargo kmod new`
//! ([`PROFILE`]: `opt-level = "s"`, one codegen unit, `panic = "abort"`), with
//! `-Cembed-bitcode=yes` so that a module whose own profile asks for LTO still links.
//! `cargo kmod build`'s link step removes the bitcode sections from the `.ko`.

use std::fs::{self, File, TryLockError};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context as _, bail};

use crate::build::{BUILD_STD, BUILD_STD_FEATURES, RUSTFLAGS, TARGET_SPEC, inner_cargo};
use crate::toolchain::Toolchain;

/// The target name rustc derives from the spec file name (its stem), i.e. the directory
/// under `lib/rustlib/` where rustc looks for the target's crates.
pub const TARGET_NAME: &str = "x86_64-unknown-freebsd-kmod";

/// The release profile the sysroot crates are compiled with (`[profile.release]` of the
/// helper crate): the one `cargo kmod new` gives module packages.
pub const PROFILE: &str = "panic = \"abort\"\nopt-level = \"s\"\ncodegen-units = 1\n";

/// Extra flag for the sysroot crates: bitcode for modules built with LTO.
pub const EMBED_BITCODE: &str = "-Cembed-bitcode=yes";

/// The crates a kernel sysroot holds (rlib file name prefixes).
pub const CRATES: [&str; 3] = ["core", "alloc", "compiler_builtins"];

/// Version of the cache layout; part of the key.
const LAYOUT: &str = "cargo-kmod kernel sysroot, layout 1";

/// A usable kernel sysroot.
#[derive(Clone, Debug)]
pub struct Sysroot {
    /// The directory to pass as `--sysroot`.
    pub dir: PathBuf,
    /// The crates this call compiled (empty when the cache was fresh), e.g. `core`.
    pub compiled: Vec<String>,
    /// The build command when this call compiled the sysroot.
    pub command: Option<String>,
}

/// Everything the sysroot's contents depend on, as text.
pub fn key(tc: &Toolchain) -> String {
    format!(
        "{LAYOUT}\nrustc: {}\n{}\ntoolchain sysroot: {}\nrustflags: {} {EMBED_BITCODE}\n-Z build-std={BUILD_STD} -Z build-std-features={BUILD_STD_FEATURES}\nprofile:\n{PROFILE}target spec:\n{TARGET_SPEC}",
        tc.rustc.display(),
        tc.rustc_version_verbose,
        tc.sysroot.display(),
        RUSTFLAGS.join(" "),
    )
}

/// The cache root: `$CARGO_KMOD_CACHE_DIR`, `$XDG_CACHE_HOME/cargo-kmod`,
/// `$HOME/.cache/cargo-kmod`, else `fallback`.
pub fn cache_root(fallback: &Path) -> PathBuf {
    cache_root_from(|name| std::env::var_os(name), fallback)
}

/// [`cache_root`] with the environment read through `var`.
fn cache_root_from(
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
    fallback: &Path,
) -> PathBuf {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("CARGO_KMOD_CACHE_DIR") {
        return dir;
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return dir.join("cargo-kmod");
    }
    if let Some(home) = var("HOME") {
        return home.join(".cache").join("cargo-kmod");
    }
    fallback.to_owned()
}

/// The directory of the sysroot for `key` under `root`: readable (target, rustc release)
/// plus a checksum of the whole key.
pub fn dir_for(root: &Path, tc: &Toolchain, key: &str) -> PathBuf {
    root.join("sysroot").join(format!(
        "{TARGET_NAME}-rustc-{}-{:08x}",
        tc.rustc_version.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "_"),
        crc32fast::hash(key.as_bytes())
    ))
}

/// `<dir>.<suffix>` (the directory name has dots of its own, so not `with_extension`).
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Where rustc looks for the target's crates in sysroot `dir`.
pub fn lib_dir(dir: &Path) -> PathBuf {
    dir.join("lib").join("rustlib").join(TARGET_NAME).join("lib")
}

/// Whether `dir` holds a complete sysroot for `key`.
pub fn is_fresh(dir: &Path, key: &str) -> bool {
    fs::read_to_string(dir.join("key.txt")).is_ok_and(|k| k == key)
        && CRATES.iter().all(|c| has_rlib(&lib_dir(dir), c))
}

fn has_rlib(lib: &Path, krate: &str) -> bool {
    fs::read_dir(lib).into_iter().flatten().flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.starts_with(&format!("lib{krate}-")) && name.ends_with(".rlib")
    })
}

/// Returns the kernel sysroot for `tc`, compiling it first if the cache has none (once per
/// toolchain and target spec; `fallback` is the cache root when there is no home
/// directory). `jobs` is the inner cargo's `-j`.
pub fn ensure(tc: &Toolchain, fallback: &Path, jobs: Option<u32>) -> anyhow::Result<Sysroot> {
    let root = cache_root(fallback);
    if root != fallback && std::env::var_os("CARGO_KMOD_CACHE_DIR").is_none() {
        if let Err(e) = fs::create_dir_all(root.join("sysroot")) {
            // A read-only or missing home: the workspace keeps its own sysroot.
            eprintln!(
                "note: cannot use the kernel sysroot cache {} ({e}); using {} (set CARGO_KMOD_CACHE_DIR to share one)",
                root.display(),
                fallback.display()
            );
            return ensure_in(tc, fallback, jobs);
        }
    }
    ensure_in(tc, &root, jobs)
}

/// [`ensure`] with the cache root `root` (instead of [`cache_root`]).
pub fn ensure_in(tc: &Toolchain, root: &Path, jobs: Option<u32>) -> anyhow::Result<Sysroot> {
    let key = key(tc);
    let dir = dir_for(root, tc, &key);
    if is_fresh(&dir, &key) {
        return Ok(Sysroot { dir, compiled: Vec::new(), command: None });
    }
    let parent = dir.parent().context("sysroot directory has no parent")?;
    fs::create_dir_all(parent).with_context(|| {
        format!(
            "cannot create the kernel sysroot cache {}; set CARGO_KMOD_CACHE_DIR to a writable directory",
            parent.display()
        )
    })?;
    let lock_path = sibling(&dir, "lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("cannot create the lock file {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            eprintln!(
                "Waiting for another cargo kmod to finish the kernel sysroot {}",
                dir.display()
            );
            lock.lock()
                .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", lock_path.display()));
        }
    }
    // Another process may have built it while we waited.
    if is_fresh(&dir, &key) {
        return Ok(Sysroot { dir, compiled: Vec::new(), command: None });
    }
    let (compiled, command) = build_into(tc, &dir, &key, jobs)?;
    Ok(Sysroot { dir, compiled, command: Some(command) })
}

/// Compiles the sysroot crates with build-std from a helper crate and installs them in
/// `dir` (atomically: a temporary directory renamed into place, `key.txt` inside it).
fn build_into(
    tc: &Toolchain,
    dir: &Path,
    key: &str,
    jobs: Option<u32>,
) -> anyhow::Result<(Vec<String>, String)> {
    let work = sibling(dir, "build");
    let krate = work.join("kmod-sysroot");
    fs::create_dir_all(krate.join("src"))
        .with_context(|| format!("cannot create {}", krate.display()))?;
    fs::write(
        krate.join("Cargo.toml"),
        format!(
            "# Helper crate of cargo kmod: compiles core/alloc for the kernel sysroot.\n\
             [package]\nname = \"kmod-sysroot\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [lib]\npath = \"src/lib.rs\"\n\n[profile.release]\n{PROFILE}\n[workspace]\n"
        ),
    )?;
    fs::write(krate.join("src/lib.rs"), "#![no_std]\nextern crate alloc;\n")?;
    let spec = work.join(crate::build::TARGET_SPEC_FILE);
    fs::write(&spec, TARGET_SPEC)?;

    eprintln!(
        "Compiling core/alloc for the kernel target (build-std, once per toolchain) into {}",
        dir.display()
    );
    let target_dir = work.join("target");
    let mut rustflags: Vec<&str> = RUSTFLAGS.to_vec();
    rustflags.push(EMBED_BITCODE);
    let mut cmd = inner_cargo(tc, &rustflags.join("\x1f"));
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(krate.join("Cargo.toml"))
        .arg("--release")
        .arg("--target")
        .arg(&spec)
        .args(["-Z", "json-target-spec"])
        .arg("-Z")
        .arg(format!("build-std={BUILD_STD}"))
        .arg("-Z")
        .arg(format!("build-std-features={BUILD_STD_FEATURES}"))
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--message-format=json-render-diagnostics");
    if let Some(j) = jobs {
        cmd.arg(format!("-j{j}"));
    }
    let line = crate::link::command_line(&cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", tc.cargo.display()))?;
    let mut compiled = Vec::new();
    let mut rlibs = Vec::new();
    for l in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let l = l?;
        compiled.extend(crate::build::compiled_crate(&l).filter(|c| c != "kmod_sysroot"));
        rlibs.extend(sysroot_rlib(&l));
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "compiling core/alloc for the kernel target failed ({status}); the toolchain ({}) needs its library source \
             (Debian: rust-web-src; rustup: the rust-src component). Command: {line}",
            tc.describe()
        );
    }
    let tmp = sibling(dir, &format!("tmp{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let lib = lib_dir(&tmp);
    fs::create_dir_all(&lib).with_context(|| format!("cannot create {}", lib.display()))?;
    for rlib in &rlibs {
        let name = rlib.file_name().context("rlib without a file name")?;
        fs::copy(rlib, lib.join(name))
            .with_context(|| format!("cannot copy {} into {}", rlib.display(), lib.display()))?;
    }
    for c in CRATES {
        if !has_rlib(&lib, c) {
            bail!("the sysroot build produced no lib{c}-*.rlib (command: {line})");
        }
    }
    fs::write(tmp.join("key.txt"), key)?;
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    fs::rename(&tmp, dir).with_context(|| format!("cannot move {} to {}", tmp.display(), dir.display()))?;
    let _ = fs::remove_dir_all(&work);
    Ok((compiled, line))
}

/// The rlib of a standard-library crate in a `compiler-artifact` message (not the helper
/// crate's own).
fn sysroot_rlib(line: &str) -> Option<PathBuf> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" || msg["target"]["name"] == "kmod_sysroot" {
        return None;
    }
    msg["filenames"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".rlib"))
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toolchain(version: &str) -> Toolchain {
        Toolchain {
            cargo: "/usr/bin/cargo".into(),
            rustc: "/usr/bin/rustc".into(),
            sysroot: "/usr".into(),
            rustc_version: version.into(),
            rustc_version_verbose: format!("rustc {version}\nrelease: {version}\n"),
            llvm_major: Some(22),
            ld: "/usr/bin/ld.lld".into(),
            objcopy: "/usr/bin/llvm-objcopy".into(),
            origin: "test".into(),
        }
    }

    /// A different compiler gets a different directory and key; the key carries the
    /// target spec and the build-std choices.
    #[test]
    fn key_and_directory_follow_the_toolchain() {
        let (a, b) = (toolchain("1.96.0"), toolchain("1.97.0"));
        assert_ne!(key(&a), key(&b));
        assert!(key(&a).contains(TARGET_SPEC) && key(&a).contains(BUILD_STD_FEATURES));
        let root = Path::new("/cache");
        let (da, db) = (dir_for(root, &a, &key(&a)), dir_for(root, &b, &key(&b)));
        assert_ne!(da, db);
        assert!(da.starts_with("/cache/sysroot") && da.to_string_lossy().contains("rustc-1.96.0"));
    }

    /// A directory without its key file, or with another key, or without one of the
    /// crates, is not used.
    #[test]
    fn only_a_complete_directory_with_the_same_key_is_fresh() {
        let dir = std::env::temp_dir().join(format!("kmod-sysroot-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let lib = lib_dir(&dir);
        fs::create_dir_all(&lib).unwrap();
        for c in ["core", "alloc"] {
            fs::write(lib.join(format!("lib{c}-0123.rlib")), "").unwrap();
        }
        assert!(!is_fresh(&dir, "k"));
        fs::write(dir.join("key.txt"), "k").unwrap();
        assert!(!is_fresh(&dir, "k"), "compiler_builtins is missing");
        fs::write(lib.join("libcompiler_builtins-0123.rlib"), "").unwrap();
        assert!(is_fresh(&dir, "k"));
        assert!(!is_fresh(&dir, "other key"));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// `CARGO_KMOD_CACHE_DIR` wins, then `XDG_CACHE_HOME`, then `HOME`; empty values do
    /// not count; without any the fallback is used.
    #[test]
    fn cache_root_order() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let f = Path::new("/f");
        const ALL: &[(&str, &str)] = &[("CARGO_KMOD_CACHE_DIR", "/a"), ("XDG_CACHE_HOME", "/b"), ("HOME", "/c")];
        assert_eq!(cache_root_from(env(ALL), f), Path::new("/a"));
        assert_eq!(cache_root_from(env(&ALL[1..]), f), Path::new("/b/cargo-kmod"));
        assert_eq!(cache_root_from(env(&ALL[2..]), f), Path::new("/c/.cache/cargo-kmod"));
        assert_eq!(
            cache_root_from(env(&[("CARGO_KMOD_CACHE_DIR", ""), ("HOME", "/c")]), f),
            Path::new("/c/.cache/cargo-kmod")
        );
        assert_eq!(cache_root_from(env(&[]), f), f);
    }
}

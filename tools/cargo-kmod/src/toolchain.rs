//! Finds the tools a kernel build needs: a rustc whose sysroot has the library source
//! (for `-Z build-std` of the kernel sysroot), the matching cargo, an `ld.lld` and an objcopy.
//!
//! Order: a rustup `nightly` with the `rust-src` component; else Debian's `rustc-web` /
//! `cargo-web` / `rust-web-src` (`/usr/bin/rustc`, source in
//! `/usr/lib/rustlib/src/rust`), used with `RUSTC_BOOTSTRAP=1`. The environment variables
//! `KMOD_RUSTC`, `KMOD_CARGO`, `KMOD_LD` and `KMOD_OBJCOPY` override the discovery.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian packages that provide everything.
pub const APT_INSTALL: &str = "apt-get install -y rustc-web cargo-web rust-web-src lld-22 llvm-22";
/// The rustup alternative.
pub const RUSTUP_INSTALL: &str =
    "rustup toolchain install nightly -c rust-src (plus an lld: apt-get install -y lld-22 llvm-22)";

/// A missing tool, with the command that installs it.
#[derive(Debug, thiserror::Error)]
#[error("{what} not found ({detail}); install it with `{APT_INSTALL}` or `{RUSTUP_INSTALL}`")]
pub struct MissingTool {
    /// The tool.
    pub what: String,
    /// Where it was looked for.
    pub detail: String,
}

/// The kernel-build toolchain.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// `cargo` to run the inner build with.
    pub cargo: PathBuf,
    /// `rustc` (passed as `RUSTC`).
    pub rustc: PathBuf,
    /// `rustc --print sysroot`.
    pub sysroot: PathBuf,
    /// `rustc -vV` release line, e.g. `1.96.0`.
    pub rustc_version: String,
    /// The whole `rustc -vV` output (release, commit hash, host, LLVM version): what
    /// identifies the compiler, e.g. in the key of the kernel sysroot cache.
    pub rustc_version_verbose: String,
    /// LLVM major version of rustc.
    pub llvm_major: Option<u32>,
    /// `ld.lld`.
    pub ld: PathBuf,
    /// `llvm-objcopy`, `rust-objcopy` or GNU `objcopy`.
    pub objcopy: PathBuf,
    /// Where the toolchain came from ("rustup nightly", "Debian rustc-web", "KMOD_RUSTC").
    pub origin: String,
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A command without the variables an outer rustup/cargo sets.
fn clean(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTC_WRAPPER");
    cmd
}

fn has_library_source(sysroot: &Path) -> bool {
    sysroot
        .join("lib/rustlib/src/rust/library/core/Cargo.toml")
        .is_file()
}

fn on_path(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A rustc + cargo pair whose sysroot has the library source.
fn find_rust() -> Result<(PathBuf, PathBuf, PathBuf, String), MissingTool> {
    let mut tried = Vec::new();
    if let Some(rustc) = env::var_os("KMOD_RUSTC").map(PathBuf::from) {
        let cargo = env::var_os("KMOD_CARGO")
            .map(PathBuf::from)
            .unwrap_or_else(|| rustc.with_file_name("cargo"));
        let sysroot = output(clean(&rustc).args(["--print", "sysroot"])).map(PathBuf::from);
        // An explicit choice that does not work is an error, not a reason to use another
        // toolchain behind the user's back.
        return match sysroot {
            Some(s) if has_library_source(&s) => Ok((rustc, cargo, s, "KMOD_RUSTC".into())),
            Some(s) => Err(MissingTool {
                what: "a Rust toolchain with the library source (rust-src)".into(),
                detail: format!(
                    "KMOD_RUSTC={} has no library source under {}/lib/rustlib/src/rust; unset KMOD_RUSTC or point it at one that has",
                    rustc.display(),
                    s.display()
                ),
            }),
            None => Err(MissingTool {
                what: "a Rust toolchain with the library source (rust-src)".into(),
                detail: format!(
                    "KMOD_RUSTC={} does not run; unset KMOD_RUSTC or point it at a rustc",
                    rustc.display()
                ),
            }),
        };
    }
    // rustup nightly with rust-src.
    if let Some(rustup) = on_path("rustup") {
        let which = |tool: &str| {
            output(clean(&rustup).args(["which", "--toolchain", "nightly", tool]))
                .map(PathBuf::from)
        };
        if let (Some(rustc), Some(cargo)) = (which("rustc"), which("cargo")) {
            match output(clean(&rustc).args(["--print", "sysroot"])).map(PathBuf::from) {
                Some(s) if has_library_source(&s) => {
                    return Ok((rustc, cargo, s, "rustup nightly".into()));
                }
                Some(s) => tried.push(format!("rustup nightly ({}) has no rust-src", s.display())),
                None => tried.push("rustup nightly rustc does not run".into()),
            }
        } else {
            tried.push("no rustup nightly toolchain".into());
        }
    }
    // Debian rustc-web + cargo-web + rust-web-src.
    let (rustc, cargo) = (
        PathBuf::from("/usr/bin/rustc"),
        PathBuf::from("/usr/bin/cargo"),
    );
    if rustc.is_file() && cargo.is_file() {
        match output(clean(&rustc).args(["--print", "sysroot"])).map(PathBuf::from) {
            Some(s) if has_library_source(&s) => {
                return Ok((rustc, cargo, s, "Debian rustc-web".into()));
            }
            Some(s) => tried.push(format!(
                "/usr/bin/rustc: no library source under {}/lib/rustlib/src/rust",
                s.display()
            )),
            None => tried.push("/usr/bin/rustc does not run".into()),
        }
    } else {
        tried.push("no /usr/bin/rustc + /usr/bin/cargo".into());
    }
    Err(MissingTool {
        what: "a Rust toolchain with the library source (rust-src)".into(),
        detail: tried.join("; "),
    })
}

fn find_ld(llvm: Option<u32>, sysroot: &Path) -> Result<PathBuf, MissingTool> {
    if let Some(p) = env::var_os("KMOD_LD") {
        return Ok(PathBuf::from(p));
    }
    let mut candidates = Vec::new();
    if let Some(v) = llvm {
        candidates.push(PathBuf::from(format!("/usr/lib/llvm-{v}/bin/ld.lld")));
        candidates.extend(on_path(&format!("ld.lld-{v}")));
    }
    candidates.push(sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld/ld.lld"));
    candidates.extend(on_path("ld.lld"));
    for v in (14..=30).rev() {
        candidates.push(PathBuf::from(format!("/usr/lib/llvm-{v}/bin/ld.lld")));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file() && output(Command::new(p).arg("--version")).is_some())
        .ok_or_else(|| MissingTool {
            what: "ld.lld".into(),
            detail: format!(
                "looked for /usr/lib/llvm-{}/bin/ld.lld, ld.lld on PATH and rust-lld",
                llvm.unwrap_or(22)
            ),
        })
}

fn find_objcopy(llvm: Option<u32>, sysroot: &Path) -> Result<PathBuf, MissingTool> {
    if let Some(p) = env::var_os("KMOD_OBJCOPY") {
        return Ok(PathBuf::from(p));
    }
    let mut candidates = Vec::new();
    if let Some(v) = llvm {
        candidates.push(PathBuf::from(format!("/usr/lib/llvm-{v}/bin/llvm-objcopy")));
        candidates.extend(on_path(&format!("llvm-objcopy-{v}")));
    }
    candidates.push(sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-objcopy"));
    candidates.push(PathBuf::from(
        "/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-objcopy",
    ));
    candidates.extend(on_path("llvm-objcopy"));
    candidates.extend(on_path("objcopy"));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| MissingTool {
            what: "an objcopy (llvm-objcopy, rust-objcopy or GNU objcopy)".into(),
            detail: "looked in /usr/lib/llvm-*/bin, the rustc sysroot and PATH".into(),
        })
}

impl Toolchain {
    /// Discovers the toolchain; the error names what is missing and how to install it.
    pub fn discover() -> Result<Self, MissingTool> {
        let (rustc, cargo, sysroot, origin) = find_rust()?;
        let vv = output(clean(&rustc).arg("-vV")).unwrap_or_default();
        let field = |key: &str| {
            vv.lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::trim)
                .map(str::to_owned)
        };
        let rustc_version = field("release:").unwrap_or_else(|| "unknown".into());
        let llvm_major = field("LLVM version:").and_then(|v| v.split('.').next()?.parse().ok());
        let ld = find_ld(llvm_major, &sysroot)?;
        let objcopy = find_objcopy(llvm_major, &sysroot)?;
        Ok(Toolchain {
            cargo,
            rustc,
            sysroot,
            rustc_version,
            rustc_version_verbose: vv.clone(),
            llvm_major,
            ld,
            objcopy,
            origin,
        })
    }

    /// A one-line description for progress output.
    pub fn describe(&self) -> String {
        format!(
            "rustc {} ({}, LLVM {}), ld {}, objcopy {}",
            self.rustc_version,
            self.origin,
            self.llvm_major
                .map_or_else(|| "?".into(), |v| v.to_string()),
            self.ld.display(),
            self.objcopy.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tool_names_the_install_commands() {
        let e = MissingTool {
            what: "ld.lld".into(),
            detail: "looked in PATH".into(),
        }
        .to_string();
        assert!(e.contains("ld.lld not found"), "{e}");
        assert!(
            e.contains("apt-get install -y rustc-web cargo-web rust-web-src lld-22 llvm-22"),
            "{e}"
        );
        assert!(
            e.contains("rustup toolchain install nightly -c rust-src"),
            "{e}"
        );
    }
}

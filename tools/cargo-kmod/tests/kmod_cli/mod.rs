//! `cargo kmod run` as a user types it, for the test files that drive the built binary from
//! the workspace root.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root.
pub fn repo() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `cargo kmod run -j 2 <args>` from the workspace root: (success, stdout, stdout + stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-kmod"))
        .args(["run", "-j", "2"])
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run cargo-kmod");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), stdout, all)
}

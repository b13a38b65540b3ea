//! `cargo kmod` as a user types it, for the test files that drive the built binary from the
//! workspace root. Each test file uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The workspace root.
pub fn repo() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// What a `cargo kmod` run printed and how it exited.
pub struct Out {
    /// Exit status (`None`: killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Whether it exited with status 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Both streams, labelled, for assertion messages.
    pub fn all(&self) -> String {
        format!("--- stdout ---\n{}--- stderr ---\n{}", self.stdout, self.stderr)
    }

    /// The last line of stdout: `cargo kmod run`'s verdict.
    pub fn verdict(&self) -> &str {
        self.stdout.trim_end().lines().last().unwrap_or("")
    }
}

/// `cargo kmod <args>` from the workspace root.
pub fn kmod(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-kmod"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run cargo-kmod");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cargo kmod run -j 2 <args>` from the workspace root.
pub fn kmod_run(args: &[&str]) -> Out {
    let mut full = vec!["run", "-j", "2"];
    full.extend_from_slice(args);
    kmod(&full)
}

/// [`kmod_run`] as `(success, stdout, stdout + stderr)`.
pub fn run(args: &[&str]) -> (bool, String, String) {
    let o = kmod_run(args);
    let all = format!("{}\n{}", o.stdout, o.stderr);
    (o.ok(), o.stdout, all)
}

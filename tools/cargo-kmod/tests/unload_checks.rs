//! `cargo kmod run` and `cargo kmod check` on the simulator's new checks: a thread still in a
//! module's text when kldunload frees it fails the run under `--schedules`, naming the seed
//! (examples/c-twins/unload_race.c); a module whose symbols sit in zero-size sections is
//! accepted by `check` and runs (examples/c-twins/empty_sections.c).

use std::path::{Path, PathBuf};
use std::process::Command;

use kernel_sim::twins::{self, Target};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

fn ko(tag: &str, source: &str) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    twins::build(&out, tag, &[source], Target::Fbsd14, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn cargo_kmod(args: &[&str], ko: &Path) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_cargo-kmod"))
        .args(args)
        .arg(ko)
        .current_dir(repo())
        .output()
        .expect("run cargo-kmod");
    (o.status.success(), format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn a_thread_left_in_freed_module_text_fails_the_schedules_run() {
    let ko = ko("unload_race", "unload_race.c");
    let (ok, out) = cargo_kmod(&["run", "--freebsd", "14.0", "--schedules", "50", "--cycles", "20"], &ko);
    assert!(!ok, "{out}");
    let verdict = out.lines().find(|l| l.starts_with("FAIL: ")).unwrap_or_else(|| panic!("no verdict: {out}"));
    assert!(verdict.contains("still executing in unloaded module unload_race.ko at unload_race_thread+0x"), "{verdict}");
    assert!(verdict.contains("[scheduler seed "), "{verdict}");
    // Without a seed (FIFO) the threads leave before the unloader runs again.
    let (ok, out) = cargo_kmod(&["run", "--freebsd", "14.0"], &ko);
    assert!(ok, "{out}");
}

#[test]
fn symbols_in_zero_size_sections_pass_check_and_run() {
    let ko = ko("empty_sections", "empty_sections.c");
    let (ok, out) = cargo_kmod(&["check", "--freebsd", "14.0"], &ko);
    assert!(ok, "{out}");
    let (ok, out) = cargo_kmod(&["run", "--freebsd", "14.0"], &ko);
    assert!(ok, "{out}");
}

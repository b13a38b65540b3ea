//! `cargo kmod run` and `cargo kmod check` on the simulator's new checks: a thread still in a
//! module's text when kldunload frees it fails the run under `--schedules`, naming the seed
//! (examples/c-twins/unload_race.c); a module whose symbols sit in zero-size sections is
//! accepted by `check` and runs (examples/c-twins/empty_sections.c).

mod kmod_cli;

use std::path::{Path, PathBuf};

use kernel_sim::twins::{self, Target};

fn ko(tag: &str, source: &str) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    twins::build(&out, tag, &[source], Target::Fbsd14, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// `cargo kmod <args> <ko>`: (success, stdout, a newline, stderr).
fn cargo_kmod(args: &[&str], ko: &Path) -> (bool, String) {
    let mut full = args.to_vec();
    full.push(ko.to_str().expect("UTF-8 path"));
    let o = kmod_cli::kmod(&full);
    (o.ok(), format!("{}\n{}", o.stdout, o.stderr))
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

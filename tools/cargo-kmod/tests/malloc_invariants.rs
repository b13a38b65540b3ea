//! `cargo kmod run` reports what an INVARIANTS kernel's malloc(9) reports (issue 9 item 7):
//! flags that are not exactly one of M_WAITOK and M_NOWAIT fail the run, naming the caller.

use std::path::{Path, PathBuf};
use std::process::Command;

use kernel_sim::twins::{self, Target};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

#[test]
fn bad_malloc_flags_fail_the_run_at_the_caller() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    let ko = twins::build(&out, "badflags", &["badflags.c"], Target::Fbsd14, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let o = Command::new(env!("CARGO_BIN_EXE_cargo-kmod"))
        .args(["run", "--freebsd", "14.0"])
        .arg(&ko)
        .current_dir(repo())
        .output()
        .expect("run cargo-kmod");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let all = format!("{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(!o.status.success(), "{all}");
    assert!(
        stdout.contains("Bad malloc flags: 0\nKDB: stack backtrace:\n"),
        "{all}"
    );
    let verdict = stdout.trim_end().lines().last().unwrap_or("");
    assert!(verdict.starts_with("FAIL: "), "{all}");
    assert!(
        verdict.contains("malloc(9) called with flags 0x0 at badflags_modevent+0x"),
        "{verdict}"
    );
    assert!(verdict.contains("(badflags.ko)"), "{verdict}");
}

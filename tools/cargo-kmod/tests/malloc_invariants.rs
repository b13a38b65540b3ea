//! `cargo kmod run` reports what an INVARIANTS kernel's malloc(9) reports (issue 9 item 7):
//! flags that are not exactly one of M_WAITOK and M_NOWAIT fail the run, naming the caller.

mod kmod_cli;

use std::path::Path;

use kernel_sim::twins::{self, Target};
use kmod_cli::kmod;

#[test]
fn bad_malloc_flags_fail_the_run_at_the_caller() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    let ko = twins::build(&out, "badflags", &["badflags.c"], Target::Fbsd14, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let o = kmod(&["run", "--freebsd", "14.0", ko.to_str().unwrap()]);
    let (stdout, all) = (&o.stdout, o.all());
    assert!(!o.ok(), "{all}");
    assert!(
        stdout.contains("Bad malloc flags: 0\nKDB: stack backtrace:\n"),
        "{all}"
    );
    let verdict = o.verdict();
    assert!(verdict.starts_with("FAIL: "), "{all}");
    assert!(
        verdict.contains("malloc(9) called with flags 0x0 at badflags_modevent+0x"),
        "{verdict}"
    );
    assert!(verdict.contains("(badflags.ko)"), "{verdict}");
}

//! The harness measures what it claims: every bench loop of the Rust module and of its C
//! twin runs in the simulator, makes exactly the allocations it claims per iteration (one
//! for the allocation loops, none for the lock loop), frees all of it, and the module loads and unloads cleanly. No timings are checked here.

use std::path::Path;

use cargo_kmod::build::{BuildOptions, build};
use cargo_kmod::workspace::Workspace;
use kmod_bench::measure::{OPS, run_regions};
use kmod_bench::{ctwin, repo};

/// One simulated kernel per process at a time (kernel-sim's rule): the tests of this file
/// take turns.
fn one_kernel_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn check(ko: &Path, ops: &[(&str, u64)]) {
    let funcs: Vec<String> = ops.iter().map(|(f, _)| f.to_string()).collect();
    let n = 100;
    let checked =
        run_regions(ko, "14.0", &funcs, n, 3).unwrap_or_else(|e| panic!("{}: {e:#}", ko.display()));
    assert_eq!(checked.calls.len(), 2 * funcs.len());
    for (f, m, ret, allocs) in &checked.calls {
        assert!(*m == 0 || *m == n, "{f}: unexpected count {m}");
        assert_eq!(ret, m, "{f}({m}) returned {ret}");
        let per_iteration = ops.iter().find(|(name, _)| name == f).map(|o| o.1).unwrap();
        if per_iteration == 0 {
            // The lock loop: at most the mutex itself (Rust allocates it once per call).
            assert!(*allocs <= 1, "{f}({m}) made {allocs} allocations, expected none per iteration");
        } else {
            assert_eq!(
                *allocs,
                m * per_iteration,
                "{f}({m}) made {allocs} allocations, expected {per_iteration} per iteration"
            );
        }
    }
    assert!(
        checked.console.contains("bench: loaded"),
        "console: {}",
        checked.console
    );
    assert!(
        checked.console.contains("bench: unloaded"),
        "console: {}",
        checked.console
    );
}

#[test]
fn bench_loops_run_allocate_once_per_iteration_and_free_everything() {
    let _turn = one_kernel_at_a_time();
    let repo = repo();
    let release = cargo_kmod::release::resolve(Some("14.0")).expect("14.0 bindings");
    let opts = BuildOptions {
        module: "bench".into(),
        release,
        jobs: Some(2),
        verbose: false,
    };
    let rust = build(&Workspace::at(&repo), &opts)
        .unwrap_or_else(|e| panic!("cargo kmod build bench: {e:#}"));
    let c = ctwin::build(
        "bench.c",
        "bench",
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("kmod-bench"),
    )
    .unwrap_or_else(|e| panic!("C twin: {e:#}"));
    // The size breakdown sees the module's own code and the runtime crates.
    let groups = kmod_bench::elfsize::code_by_crate(&rust.ko).expect("symbols");
    println!("{groups:?}");
    for g in ["C ABI", "core::fmt", "freebsd_kmi"] {
        assert!(
            groups.iter().any(|(n, b)| n == g && *b > 0),
            "{g} in {groups:?}"
        );
    }
    // One simulated kernel per process at a time: one after the other.
    check(&rust.ko, &OPS.map(|o| (o.rust, o.allocs_per_iteration)));
    check(&c, &OPS.map(|o| (o.c, o.allocs_per_iteration)));
}

/// The device I/O loops (4 KiB pwrite/pread on /dev/echo) run for examples/echo and its C
/// twin, each call moving exactly 4 KiB.
#[test]
fn echo_device_io_loops_run_for_rust_and_c() {
    let _turn = one_kernel_at_a_time();
    let repo = repo();
    let release = cargo_kmod::release::resolve(Some("14.0")).expect("14.0 bindings");
    let opts = BuildOptions { module: "echo".into(), release, jobs: Some(2), verbose: false };
    let rust = build(&Workspace::at(&repo), &opts).unwrap_or_else(|e| panic!("cargo kmod build echo: {e:#}"));
    let c = ctwin::build("echo.c", "echo", &Path::new(env!("CARGO_TARGET_TMPDIR")).join("kmod-bench"))
        .unwrap_or_else(|e| panic!("C twin: {e:#}"));
    for ko in [&rust.ko, &c] {
        kmod_bench::devio::run_regions(ko, "14.0", 50).unwrap_or_else(|e| panic!("{}: {e:#}", ko.display()));
        let rate = kmod_bench::devio::fuzz_rate(ko, 300).unwrap_or_else(|e| panic!("{}: {e:#}", ko.display()));
        assert!(rate > 0.0);
    }
    // `kmod-bench devio` also measures the Rust echo on the other releases' simulators.
    for r in kmod_bench::devio::RELEASES.into_iter().filter(|r| *r != "14.0") {
        let release = cargo_kmod::release::resolve(Some(r)).expect("bindings");
        let opts = BuildOptions { module: "echo".into(), release, jobs: Some(2), verbose: false };
        let ko = build(&Workspace::at(&repo), &opts).unwrap_or_else(|e| panic!("cargo kmod build --freebsd {r} echo: {e:#}")).ko;
        kmod_bench::devio::run_regions(&ko, r, 50).unwrap_or_else(|e| panic!("{r}: {}: {e:#}", ko.display()));
    }
}

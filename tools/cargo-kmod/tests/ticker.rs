//! examples/ticker through the CLI: `cargo kmod run ticker --exec 'sleep 1' --exec 'sysctl
//! debug.ticker.ticks'` shows 10 ticks (a callout every 100 ms on the simulated clock), one
//! task ran, and the unload drained everything, on 13.1, 14.0 and 15.0 and under seeded
//! schedules. (`--cycles 1000 --nowait-sweep` is ci/matrix.sh's step for every example.)

mod kmod_cli;

use std::path::Path;

/// `cargo kmod <args>`: (success, stdout followed by stderr).
fn kmod(args: &[&str]) -> (bool, String) {
    let o = kmod_cli::kmod(args);
    (o.ok(), format!("{}{}", o.stdout, o.stderr))
}

#[test]
fn ticker_ticks_ten_times_in_a_simulated_second_on_every_release() {
    for release in ["13.1", "14.0", "15.0"] {
        let (ok, out) = kmod(&["run", "-j", "2", "--freebsd", release, "ticker", "--exec", "sleep 1", "--exec", "sysctl debug.ticker"]);
        assert!(ok, "{out}");
        assert!(out.contains("$ sysctl debug.ticker\ndebug.ticker.tasks: 1\ndebug.ticker.ticks: 10\n"), "{release}: {out}");
        assert!(out.contains("ticker: ticking every 100 ms\nticker: stopped after 10 ticks, 1 tasks\n"), "{release}: {out}");
        assert!(out.contains("\nleaks: 0 malloc type(s), 0 bytes live\n"), "{out}");
    }
}

#[test]
fn ticker_passes_twenty_schedules() {
    let (ok, out) = kmod(&["run", "-j", "2", "--freebsd", "14.0", "ticker", "--schedules", "20", "--exec", "sleep 1", "--exec", "sysctl debug.ticker.ticks"]);
    assert!(ok, "{out}");
    assert!(out.contains("debug.ticker.ticks: 10\n"), "{out}");
    assert!(out.contains("20 seeded schedules"), "{out}");
}

#[test]
fn ticker_without_sleep_never_ticks_and_lowmem_is_a_command() {
    // No simulated time passes between commands: load + unload, zero ticks.
    let (ok, out) = kmod(&["run", "-j", "2", "--freebsd", "15.0", "ticker", "--exec", "lowmem", "--exec", "sysctl debug.ticker.ticks"]);
    assert!(ok, "{out}");
    assert!(out.contains("debug.ticker.ticks: 0\n"), "{out}");
    assert!(out.contains("ticker: stopped after 0 ticks, 0 tasks\n"), "{out}");
}

/// The C twin (examples/c-twins/ticker.c, real 14.2 headers) under the same commands prints
/// the same console lines and the same sysctl values as the Rust module.
#[test]
fn ticker_c_twin_behaves_like_the_rust_module() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    let ko = kernel_sim::twins::build(&out, "ticker", &["ticker.c"], kernel_sim::twins::Target::Fbsd14, &[]).unwrap_or_else(|e| panic!("{e}"));
    let section = |all: &str| {
        let start = all.find("--- console ---\n").expect("console");
        let end = all.find("--- allocations").expect("allocations");
        all[start..end].to_owned()
    };
    let args = ["--exec", "sleep 1", "--exec", "sysctl debug.ticker", "--exec", "lowmem"];
    let mut c_args = vec!["run", "--freebsd", "14.0", ko.to_str().unwrap()];
    c_args.extend_from_slice(&args);
    let (ok, c_out) = kmod(&c_args);
    assert!(ok, "{c_out}");
    let mut r_args = vec!["run", "-j", "2", "--freebsd", "14.0", "ticker"];
    r_args.extend_from_slice(&args);
    let (ok, r_out) = kmod(&r_args);
    assert!(ok, "{r_out}");
    assert_eq!(section(&c_out), section(&r_out), "C:\n{c_out}\nRust:\n{r_out}");
    assert!(c_out.contains("debug.ticker.ticks: 10\n"), "{c_out}");
}

//! Rust modules using `freebsd_kmi::callout`, `taskqueue` and `eventhandler` in the
//! simulator: callout reset/stop results, FreeBSD's task coalescing, `enqueue_if_idle` on
//! 14.0+, timeout tasks and event handlers (`--shutdown`, the `lowmem` command), drained on
//! unload under seeded schedules; a leaked callout keeps the module loaded; a sleeping
//! callout handler is reported.

mod kmod_cli;

use kmod_cli::run;

#[test]
fn callouts_tasks_and_event_handlers_on_every_release() {
    for release in ["13.1", "14.0", "15.0"] {
        let (ok, stdout, all) = run(&[
            "--freebsd",
            release,
            "--shutdown",
            "tools/cargo-kmod/tests/fixtures/kmod-timers",
            "--exec",
            "sleep 1",
            "--exec",
            "lowmem",
        ]);
        assert!(ok, "{all}");
        assert!(stdout.contains("kmod_timers: reset false true, stop true false\n"), "{all}");
        assert!(stdout.contains("kmod_timers: task ran 1 time(s), pending 3\n"), "{all}");
        if release != "13.1" {
            assert!(stdout.contains("kmod_timers: enqueue_if_idle true Some(\"EEXIST\")\n"), "{all}");
        }
        assert!(stdout.contains("kmod_timers: vm_lowmem (2)\n"), "{all}");
        assert!(stdout.contains("kmod_timers: shutdown_pre_sync (0)\nkmod_timers: shutdown_final (0)\n"), "{all}");
        let runs = if release == "13.1" { 1 } else { 2 };
        assert!(stdout.contains(&format!("kmod_timers: unloaded: 10 ticks, {runs} task runs, 1 timeout runs\n")), "{all}");
        assert!(stdout.contains("\nleaks: 0 malloc type(s), 0 bytes live\n"), "{all}");
    }
}

/// Under seeded schedules the queue thread may run between the enqueues (so the pending
/// count varies, as on a kernel): every schedule must still drain everything cleanly.
#[test]
fn callouts_tasks_and_event_handlers_under_seeded_schedules() {
    let (ok, stdout, all) = run(&[
        "--freebsd",
        "14.0",
        "--schedules",
        "10",
        "--shutdown",
        "tools/cargo-kmod/tests/fixtures/kmod-timers",
        "--exec",
        "sleep 1",
        "--exec",
        "lowmem",
    ]);
    assert!(ok, "{all}");
    assert!(stdout.contains("; 10 seeded schedules"), "{all}");
    assert!(stdout.contains("kmod_timers: unloaded: 10 ticks, "), "{all}");
}

#[test]
fn a_leaked_callout_keeps_the_module_loaded() {
    let (ok, stdout, all) = run(&["--freebsd", "14.0", "tools/cargo-kmod/tests/fixtures/kmod-leak-callout", "--exec", "sleep 1"]);
    assert!(!ok, "the unload must be refused:\n{all}");
    assert!(stdout.contains("kmod_leak_callout: state dropped\n"), "{all}");
    assert!(stdout.contains("kldunload: module kmod_leak_callout failed to unload: MOD_UNLOAD returned 16\n"), "{all}");
    assert!(!stdout.contains("still armed after the module was unloaded"), "the module stays loaded:\n{all}");
}

#[test]
fn a_callout_handler_that_sleeps_is_reported() {
    let (ok, stdout, all) = run(&["--freebsd", "15.0", "tools/cargo-kmod/tests/fixtures/kmod-callout-sleeps", "--exec", "sleep 1"]);
    assert!(!ok, "{all}");
    assert!(stdout.contains("Sleeping on \"naughty\" with the following non-sleepable locks held"), "{all}");
    assert!(stdout.contains("freebsd_kmi::callout::trampoline"), "{all}");
}

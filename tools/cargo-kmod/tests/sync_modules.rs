//! Rust modules using `freebsd_kmi::sync` and `freebsd_kmi::thread` in the simulator:
//! kernel threads joined in either order under seeded schedules, and lock misuse caught by
//! the WITNESS checks, in WITNESS's words, naming the lock by the `file:line` of its
//! constructor (the crate's default lock name), where it was locked, and the module code
//! that slept.

mod kmod_cli;

use kmod_cli::run;

/// Threads that finish before the join and after it, an sx lock, a timed cv wait and a
/// sleep/wakeup with an interlock: every schedule passes, leak-free, with the same result.
#[test]
fn kernel_threads_are_joined_in_either_order_under_every_schedule() {
    for release in ["13.1", "14.0", "15.0"] {
        let (ok, stdout, all) = run(&[
            "--freebsd",
            release,
            "--schedules",
            "25",
            "--cycles",
            "4",
            "tools/cargo-kmod/tests/fixtures/kmod-kthreads",
        ]);
        assert!(ok, "{all}");
        assert!(stdout.contains("kmod_kthreads: 4 threads started\n"), "{all}");
        assert!(
            stdout.contains(
                "kmod_kthreads: joined, 0 left, sx value 1, cv wait timed out Some(true), flag seen by 1 thread\n"
            ),
            "{all}"
        );
        assert!(stdout.contains("\nleaks: 0 malloc type(s), 0 bytes live\n"), "{all}");
        assert!(stdout.contains("; 25 seeded schedules"), "{all}");
    }
}

#[test]
fn sleeping_with_a_mutex_guard_is_reported_with_the_lock_name_and_site() {
    let (ok, stdout, all) = run(&["--freebsd", "14.0", "tools/cargo-kmod/tests/fixtures/kmod-sleep-locked"]);
    assert!(!ok, "the run must fail:\n{all}");
    assert!(stdout.contains("kmod_sleep_locked: sleeping with a mutex held\n"), "{all}");
    // src/lib.rs:17 is `Mutex::new(0u32)?` (the lock's name), :18 is `m.lock()`.
    assert!(
        stdout.contains(
            "panic: Sleeping on \"nap\" with the following non-sleepable locks held:\n\
             exclusive sleep mutex src/lib.rs:17 r = 0"
        ),
        "{all}"
    );
    assert!(stdout.contains("locked @ src/lib.rs:18\n"), "{all}");
    assert!(stdout.contains("offending call at "), "{all}");
    assert!(stdout.lines().any(|l| l.starts_with("FAIL: kmod_sleep_locked.ko on FreeBSD 14.0")), "{all}");
}

/// A leaked `KThread` handle (safe `mem::forget`) leaves a thread in module code: the unload
/// drops the state but is refused with EBUSY, so the code stays mapped.
#[test]
fn a_leaked_thread_handle_keeps_the_module_loaded() {
    let (ok, stdout, all) = run(&["--freebsd", "14.0", "tools/cargo-kmod/tests/fixtures/kmod-leak-thread"]);
    assert!(!ok, "the unload must be refused:\n{all}");
    assert!(stdout.contains("kmod_leak_thread: state dropped\n"), "{all}");
    assert!(
        stdout.contains("kldunload: module kmod_leak_thread failed to unload: MOD_UNLOAD returned 16\n"),
        "{all}"
    );
    assert!(stdout.contains("[EBUSY (16)]"), "{all}");
}

//! Lock misuse in a Rust module is caught by the simulator's WITNESS checks, in WITNESS's
//! words, naming the lock by the `file:line` of its constructor (the crate's default lock
//! name), where it was locked, and the module code that slept.

use std::process::Command;

/// The workspace root.
fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn sleeping_with_a_mutex_guard_is_reported_with_the_lock_name_and_site() {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-kmod"))
        .args(["run", "-j", "2", "--freebsd", "14.0", "tools/cargo-kmod/tests/fixtures/kmod-sleep-locked"])
        .current_dir(repo())
        .output()
        .expect("run cargo-kmod");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "the run must fail:\n{all}");
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

//! Issue 15: impossible allocation sizes are an `Err`, never a hung or panicked kernel (and
//! never a crashed simulator). The fixtures `kmod-huge-{waitok,nowait,disabled}` call
//! `Vec::try_reserve(1 << 40)`, `try_reserve(usize::MAX / 2)` and
//! `KVec::try_with_capacity(1 << 40, ..)` under each global allocator mode; each must load,
//! get `Err` every time and unload leak-free. `kmod-huge-infallible` calls
//! `Vec::with_capacity(1 << 40)`: the alloc-error handler panics naming the size.
//! One simulated kernel per `cargo kmod run` subprocess, so the tests may run in parallel.

mod kmod_cli;

use kmod_cli::kmod_run as run;

fn fallible(mode: &str, release: &str) {
    let o = run(&[
        "--freebsd",
        release,
        "--cycles",
        "2",
        &format!("tools/cargo-kmod/tests/fixtures/kmod-huge-{mode}"),
    ]);
    assert!(o.ok(), "{}", o.all());
    assert!(o.verdict().starts_with("PASS: "), "{}", o.all());
    let name = format!("kmod_huge_{mode}");
    for line in [
        "Vec::try_reserve(1 << 40): Err",
        "Vec::try_reserve(usize::MAX / 2): Err",
        "KVec::try_with_capacity(1 << 40, WAITOK): Err(ENOMEM)",
        "KVec::try_with_capacity(1 << 40, NOWAIT): Err(ENOMEM)",
        "loaded, every impossible allocation refused",
    ] {
        assert!(
            o.stdout.contains(&format!("{name}: {line}\n")),
            "{line}\n{}",
            o.all()
        );
    }
    assert!(!o.stdout.contains("BUG"), "{}", o.all());
    assert!(
        o.stdout
            .contains("\nleaks: 0 malloc type(s), 0 bytes live\n"),
        "{}",
        o.all()
    );
}

#[test]
fn impossible_sizes_are_err_with_the_waitok_global_allocator() {
    fallible("waitok", "15.0");
}

#[test]
fn impossible_sizes_are_err_with_the_nowait_global_allocator() {
    fallible("nowait", "15.0");
}

#[test]
fn impossible_sizes_are_err_with_the_global_allocator_disabled() {
    fallible("disabled", "15.0");
}

#[test]
fn impossible_sizes_are_err_on_the_legacy_releases() {
    fallible("waitok", "13.1");
    fallible("waitok", "14.0");
}

#[test]
fn infallible_impossible_allocation_panics_naming_the_size() {
    let o = run(&["tools/cargo-kmod/tests/fixtures/kmod-huge-infallible"]);
    assert!(!o.ok(), "{}", o.all());
    let msg = "rust: memory allocation of 1099511627776 bytes (align 1) failed";
    assert!(o.stdout.contains(&format!("panic: {msg}")), "{}", o.all());
    assert!(
        o.verdict()
            .contains("kmod_huge_infallible.ko crashed during load")
            && o.verdict().contains(msg),
        "{}",
        o.all()
    );
    // The allocator refused the size itself: malloc(9) never saw it.
    assert!(
        !o.stdout.contains("malloc(M_WAITOK) returned NULL"),
        "{}",
        o.all()
    );
}

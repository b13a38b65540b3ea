//! Lock rules the type system carries (trybuild; expected messages in
//! tests/ui_locks/*.stderr): guards are not `Send`, a spin-mutex guard is not a sleep
//! interlock, a dropped-at-once guard is flagged.

#[test]
fn lock_misuse_fails_to_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui_locks/guard_not_send.rs");
    t.compile_fail("tests/ui_locks/sleep_with_spin_mutex.rs");
    t.compile_fail("tests/ui_locks/guard_unused.rs");
}

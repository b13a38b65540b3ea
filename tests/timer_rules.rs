//! Rules of the timer and deferred-work API the type system carries (trybuild; expected
//! messages in tests/ui_timers/*.stderr): a callout's value is `Send + 'static`, a task's
//! value is `Sync`.

#[test]
fn timer_misuse_fails_to_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui_timers/callout_value_not_send.rs");
    t.compile_fail("tests/ui_timers/task_value_not_sync.rs");
    t.compile_fail("tests/ui_timers/callout_handler_borrows_nothing.rs");
}

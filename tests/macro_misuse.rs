//! Misusing the crate's macros is a compile error with a message saying what to change
//! (trybuild; expected messages in tests/ui/*.stderr).

#[test]
fn macro_misuse_fails_to_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/global_allocator_with_builtin.rs");
    t.compile_fail("tests/ui/allocator_invalid_flags.rs");
    t.compile_fail("tests/ui/allocator_reserve_without_nowait.rs");
    t.compile_fail("tests/ui/malloc_define_nul.rs");
    t.compile_fail("tests/ui/malloc_define_missing_description.rs");
    t.compile_fail("tests/ui/module_not_a_module.rs");
    t.compile_fail("tests/ui/module_missing_name.rs");
    t.compile_fail("tests/ui/module_name_nul.rs");
    t.compile_fail("tests/ui/module_not_sync.rs");
    t.compile_fail("tests/ui/sysinit_wrong_signature.rs");
    t.compile_fail("tests/ui/malloc_type_new_is_unsafe.rs");
    t.compile_fail("tests/ui/module_state_has_no_getter.rs");
    t.pass("tests/ui/module_ok.rs");
}

//! Proves the handler features for the kernel target (`target_os = "none"`), where the
//! default `#[panic_handler]` and `#[alloc_error_handler]` exist, and the
//! `GLOBAL_ALLOC_DISABLED` + `global_allocator!` pair. Each case is a staticlib fixture
//! crate built exactly as `cargo kmod build` builds a module (the kernel target spec,
//! against the kernel sysroot of `cargo_kmod::sysroot`). Needs the kernel toolchain
//! (`ci/setup-toolchain.sh`); without it the test fails naming what is missing.

mod fixture;

use fixture::{Fixture, Outcome};

const OWN_PANIC_HANDLER: &str = r#"
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    freebsd_kmi::panic::report_panic::<freebsd_kmi::kernel::Kernel>(info)
}
"#;

const OWN_ALLOC_ERROR_HANDLER: &str = r#"
#[alloc_error_handler]
fn oom(layout: core::alloc::Layout) -> ! {
    freebsd_kmi::panic::report_alloc_error::<freebsd_kmi::kernel::Kernel>(layout)
}
"#;

const USES_ALLOC: &str = r#"
extern crate alloc;
#[unsafe(no_mangle)]
pub extern "C" fn fixture_alloc(n: usize) -> usize {
    let v: alloc::vec::Vec<u8> = alloc::vec![1; n];
    v.len()
}
"#;

const OWN_ALLOCATOR: &str = r#"
freebsd_kmi::malloc_define!(M_FIXTURE, "fixture", "fixture allocations");
freebsd_kmi::global_allocator!(static ALLOCATOR = (M_FIXTURE, Flags::NOWAIT.union(Flags::USE_RESERVE)));
"#;

struct Case {
    what: &'static str,
    features: &'static [&'static str],
    body: Vec<&'static str>,
    /// `None`: must build; `Some(fragment)`: must fail with it in the output.
    error: Option<&'static str>,
}

fn build(case: &Case, release: &str) -> Result<(), String> {
    let mut src = String::from("#![no_std]\n#![feature(alloc_error_handler)]\n#![allow(unused_features)]\n");
    src.push_str("pub use freebsd_kmi;\n");
    for part in &case.body {
        src.push_str(part);
    }
    let fixture = Fixture::new(case.features, false, "staticlib", &src);
    match (fixture.cargo_build_kernel(release), case.error) {
        (Outcome::Ok, None) => Ok(()),
        (Outcome::Ok, Some(e)) => Err(format!("{} ({fixture}): built, but must fail with {e:?}", case.what)),
        (Outcome::Failed(out), None) => Err(format!("{} ({fixture}): must build, failed:\n{out}", case.what)),
        (Outcome::Failed(out), Some(e)) if out.contains(e) => Ok(()),
        (Outcome::Failed(out), Some(e)) => Err(format!("{} ({fixture}): output lacks {e:?}:\n{out}", case.what)),
    }
}

#[test]
fn handler_and_allocator_features_on_the_kernel_target() {
    const WAITOK: &[&str] = &["GLOBAL_ALLOC_FLAG_WAITOK"];
    let cases = [
        Case { what: "defaults provide both handlers and the allocator", features: WAITOK, body: vec![USES_ALLOC], error: None },
        Case {
            what: "a second panic handler clashes with the default",
            features: WAITOK,
            body: vec![OWN_PANIC_HANDLER],
            error: Some("duplicate lang item"),
        },
        Case {
            what: "EXCLUDE_PANICHANDLER lets the user supply one",
            features: &["GLOBAL_ALLOC_FLAG_WAITOK", "GLOBAL_ALLOC_EXCLUDE_PANICHANDLER"],
            body: vec![OWN_PANIC_HANDLER, USES_ALLOC],
            error: None,
        },
        Case {
            what: "EXCLUDE_PANICHANDLER really removes the default",
            features: &["GLOBAL_ALLOC_FLAG_WAITOK", "GLOBAL_ALLOC_EXCLUDE_PANICHANDLER"],
            body: vec![USES_ALLOC],
            error: Some("`#[panic_handler]` function required, but not found"),
        },
        Case {
            what: "a second alloc-error handler clashes with the default",
            features: WAITOK,
            body: vec![OWN_ALLOC_ERROR_HANDLER, USES_ALLOC],
            error: Some("alloc_error_handler"),
        },
        Case {
            what: "EXCLUDE_ALLOC_ERROR_HNDL lets the user supply one",
            features: &["GLOBAL_ALLOC_FLAG_WAITOK", "GLOBAL_ALLOC_EXCLUDE_ALLOC_ERROR_HNDL"],
            body: vec![OWN_ALLOC_ERROR_HANDLER, USES_ALLOC],
            error: None,
        },
        Case {
            what: "GLOBAL_ALLOC_DISABLED removes the built-in allocator",
            features: &["GLOBAL_ALLOC_DISABLED"],
            body: vec![USES_ALLOC],
            error: Some("no global memory allocator found"),
        },
        Case {
            what: "GLOBAL_ALLOC_DISABLED + global_allocator! with the user's type and flags",
            features: &["GLOBAL_ALLOC_DISABLED"],
            body: vec![OWN_ALLOCATOR, USES_ALLOC],
            error: None,
        },
        Case {
            what: "both handlers excluded and both supplied",
            features: &["GLOBAL_ALLOC_FLAG_NOWAIT", "GLOBAL_ALLOC_EXCLUDE_PANICHANDLER", "GLOBAL_ALLOC_EXCLUDE_ALLOC_ERROR_HNDL"],
            body: vec![OWN_PANIC_HANDLER, OWN_ALLOC_ERROR_HANDLER, USES_ALLOC],
            error: None,
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = build(case, "15.0") {
            failures.push(e);
        }
    }
    // The facade's handlers are release-independent; prove two cases on the legacy releases too.
    for release in ["13.1", "14.0"] {
        for case in &cases[..2] {
            if let Err(e) = build(case, release) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n---\n"));
}

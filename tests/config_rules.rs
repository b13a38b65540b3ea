//! Proves every feature rule of freebsd-kmi-rs from a dependent crate, as a user meets it.
//!
//! For every release and every one of the 64 combinations of the six `GLOBAL_ALLOC_*`
//! features, a fixture crate (`#![no_std]`, depending on freebsd-kmi-rs with
//! `default-features = false` and exactly those features) is generated under
//! `target/config-fixtures/` and checked with `cargo check` for the host. The expected
//! outcome comes from an independent statement of the rules below; an invalid combination
//! must fail with a message naming the conflicting features and the fix, a valid one must
//! compile. The release rules (none, both) and the defaults are proven the same way.
//!
//! The handler-exclusion features only change kernel builds; `tests/kernel_handlers.rs`
//! proves them for the kernel target.

mod fixture;

use fixture::{Fixture, Outcome};

const RELEASES: [&str; 3] = ["freebsd-13", "freebsd-14", "freebsd-15"];

const ALLOC_FEATURES: [&str; 6] = [
    "GLOBAL_ALLOC_DISABLED",
    "GLOBAL_ALLOC_FLAG_WAITOK",
    "GLOBAL_ALLOC_FLAG_NOWAIT",
    "GLOBAL_ALLOC_FLAG_USERESERVE",
    "GLOBAL_ALLOC_EXCLUDE_PANICHANDLER",
    "GLOBAL_ALLOC_EXCLUDE_ALLOC_ERROR_HNDL",
];

/// The rules, stated independently of src/config.rs: for an invalid set, the fragments
/// its error message must contain (the features involved and the fix).
fn expected_errors(features: &[&str]) -> Vec<Vec<&'static str>> {
    let on = |f: &str| features.contains(&f);
    let disabled = on("GLOBAL_ALLOC_DISABLED");
    let waitok = on("GLOBAL_ALLOC_FLAG_WAITOK");
    let nowait = on("GLOBAL_ALLOC_FLAG_NOWAIT");
    let reserve = on("GLOBAL_ALLOC_FLAG_USERESERVE");
    let mut errors = Vec::new();
    if disabled {
        for (flag, on) in [
            ("GLOBAL_ALLOC_FLAG_WAITOK", waitok),
            ("GLOBAL_ALLOC_FLAG_NOWAIT", nowait),
            ("GLOBAL_ALLOC_FLAG_USERESERVE", reserve),
        ] {
            if on {
                errors.push(vec!["`GLOBAL_ALLOC_DISABLED` conflicts with", flag, "Remove"]);
            }
        }
    } else {
        if waitok && nowait {
            errors.push(vec!["`GLOBAL_ALLOC_FLAG_WAITOK` and `GLOBAL_ALLOC_FLAG_NOWAIT` are both enabled", "default-features = false"]);
        }
        if !waitok && !nowait {
            errors.push(vec!["needs a malloc(9) flag", "GLOBAL_ALLOC_FLAG_WAITOK", "GLOBAL_ALLOC_FLAG_NOWAIT", "GLOBAL_ALLOC_DISABLED"]);
        }
        if reserve && !nowait {
            errors.push(vec!["`GLOBAL_ALLOC_FLAG_USERESERVE` requires `GLOBAL_ALLOC_FLAG_NOWAIT`"]);
        }
    }
    errors
}

fn check(features: Vec<&str>, default_features: bool, expect: &[Vec<&str>]) -> Result<(), String> {
    let fixture = Fixture::host(&features, default_features);
    match (fixture.cargo_check(), expect.is_empty()) {
        (Outcome::Ok, true) => Ok(()),
        (Outcome::Ok, false) => Err(format!("{fixture}: compiled, but should fail with {expect:?}")),
        (Outcome::Failed(stderr), true) => Err(format!("{fixture}: should compile, failed:\n{stderr}")),
        (Outcome::Failed(stderr), false) => {
            for fragments in expect {
                for frag in fragments {
                    if !stderr.contains(frag) {
                        return Err(format!("{fixture}: error output lacks {frag:?}:\n{stderr}"));
                    }
                }
            }
            Ok(())
        }
    }
}

#[test]
fn every_allocator_feature_combination_on_every_release() {
    let mut failures = Vec::new();
    let mut valid = 0;
    for release in RELEASES {
        for mask in 0u32..64 {
            let mut features = vec![release];
            features.extend(ALLOC_FEATURES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, f)| *f));
            let expect = expected_errors(&features);
            valid += usize::from(expect.is_empty());
            if let Err(e) = check(features, false, &expect) {
                failures.push(e);
            }
        }
    }
    // 4 allocator modes x 4 handler choices, on each release.
    assert_eq!(valid, RELEASES.len() * 16, "the rules allow exactly 16 combinations per release");
    assert!(failures.is_empty(), "{} rule violation(s):\n{}", failures.len(), failures.join("\n---\n"));
}

#[test]
fn exactly_one_release() {
    let none = ["no FreeBSD release selected", "`freebsd-15`", "`freebsd-14`", "`freebsd-13`"];
    let several = ["more than one of the features `freebsd-13`, `freebsd-14`, `freebsd-15`", "default-features = false"];
    let mut failures = Vec::new();
    let mut cases = vec![(vec!["GLOBAL_ALLOC_FLAG_WAITOK"], false, vec![none.to_vec()])];
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        cases.push((vec![RELEASES[a], RELEASES[b], "GLOBAL_ALLOC_FLAG_WAITOK"], false, vec![several.to_vec()]));
    }
    cases.push((RELEASES.iter().copied().chain(["GLOBAL_ALLOC_FLAG_WAITOK"]).collect(), false, vec![several.to_vec()]));
    // freebsd-15 is a default: adding an older release without default-features = false fails.
    cases.push((vec!["freebsd-13"], true, vec![several.to_vec()]));
    cases.push((vec!["freebsd-14"], true, vec![several.to_vec()]));
    for (features, default_features, expect) in cases {
        if let Err(e) = check(features, default_features, &expect) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn defaults_compile_and_pinning_13_1_is_documented_usage() {
    let mut failures = Vec::new();
    for (features, default_features, expect) in [
        (vec![], true, vec![]),
        (vec!["freebsd-13", "GLOBAL_ALLOC_FLAG_WAITOK"], false, vec![]),
        (vec!["freebsd-14", "GLOBAL_ALLOC_FLAG_WAITOK"], false, vec![]),
        // Choosing NOWAIT on top of the default WAITOK is refused with the fix.
        (vec!["GLOBAL_ALLOC_FLAG_NOWAIT"], true, expected_errors(&["GLOBAL_ALLOC_FLAG_WAITOK", "GLOBAL_ALLOC_FLAG_NOWAIT"])),
        (vec!["GLOBAL_ALLOC_DISABLED"], true, expected_errors(&["GLOBAL_ALLOC_DISABLED", "GLOBAL_ALLOC_FLAG_WAITOK"])),
    ] {
        if let Err(e) = check(features, default_features, &expect) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

//! The feature rules. Every violation is a compile error naming the features involved and
//! the fix; `tests/config_rules.rs` proves each one from a dependent crate.

// --- Release matrix: exactly one of freebsd-13 / freebsd-14 / freebsd-15. ---
// Checked by freebsd-kpi-rs (releases/lib.rs), which this crate forwards the release
// features to and which cargo compiles first; its messages name this crate's fix. The
// check below repeats the "none" rule for builds where another crate turned on
// freebsd-kpi-rs's `catalog` feature, which lifts the rule there.
#[cfg(not(any(feature = "freebsd-13", feature = "freebsd-14", feature = "freebsd-15")))]
compile_error!(
    "freebsd-kmi-rs: no FreeBSD release selected. Enable exactly one of the features `freebsd-15` \
     (15.0, current, the default), `freebsd-14` (14.0, legacy) or `freebsd-13` (13.1, legacy), e.g. \
     `freebsd-kmi-rs = { default-features = false, features = [\"freebsd-15\", \"GLOBAL_ALLOC_FLAG_WAITOK\"] }`."
);

// --- Global allocator: GLOBAL_ALLOC_DISABLED excludes every FLAG feature. ---
#[cfg(all(feature = "GLOBAL_ALLOC_DISABLED", feature = "GLOBAL_ALLOC_FLAG_WAITOK"))]
compile_error!(
    "freebsd-kmi-rs: `GLOBAL_ALLOC_DISABLED` conflicts with `GLOBAL_ALLOC_FLAG_WAITOK`: with the built-in global \
     allocator disabled its flag means nothing. Remove `GLOBAL_ALLOC_FLAG_WAITOK` (it is a default feature: use \
     `default-features = false` and list your release feature), or remove `GLOBAL_ALLOC_DISABLED`."
);
#[cfg(all(feature = "GLOBAL_ALLOC_DISABLED", feature = "GLOBAL_ALLOC_FLAG_NOWAIT"))]
compile_error!(
    "freebsd-kmi-rs: `GLOBAL_ALLOC_DISABLED` conflicts with `GLOBAL_ALLOC_FLAG_NOWAIT`: with the built-in global \
     allocator disabled its flag means nothing. Remove `GLOBAL_ALLOC_FLAG_NOWAIT` (pass the flags to \
     `global_allocator!` instead), or remove `GLOBAL_ALLOC_DISABLED`."
);
#[cfg(all(feature = "GLOBAL_ALLOC_DISABLED", feature = "GLOBAL_ALLOC_FLAG_USERESERVE"))]
compile_error!(
    "freebsd-kmi-rs: `GLOBAL_ALLOC_DISABLED` conflicts with `GLOBAL_ALLOC_FLAG_USERESERVE`: with the built-in global \
     allocator disabled its flag means nothing. Remove `GLOBAL_ALLOC_FLAG_USERESERVE` (pass \
     `Flags::NOWAIT | Flags::USE_RESERVE` to `global_allocator!` instead), or remove `GLOBAL_ALLOC_DISABLED`."
);

// --- Exactly one malloc(9) wait flag for the built-in allocator. ---
#[cfg(all(
    not(feature = "GLOBAL_ALLOC_DISABLED"),
    feature = "GLOBAL_ALLOC_FLAG_WAITOK",
    feature = "GLOBAL_ALLOC_FLAG_NOWAIT"
))]
compile_error!(
    "freebsd-kmi-rs: `GLOBAL_ALLOC_FLAG_WAITOK` and `GLOBAL_ALLOC_FLAG_NOWAIT` are both enabled; the global \
     allocator takes exactly one. `GLOBAL_ALLOC_FLAG_WAITOK` is a default feature: for NOWAIT write \
     `default-features = false, features = [\"freebsd-15\", \"GLOBAL_ALLOC_FLAG_NOWAIT\"]`."
);
#[cfg(not(any(
    feature = "GLOBAL_ALLOC_DISABLED",
    feature = "GLOBAL_ALLOC_FLAG_WAITOK",
    feature = "GLOBAL_ALLOC_FLAG_NOWAIT"
)))]
compile_error!(
    "freebsd-kmi-rs: the global allocator needs a malloc(9) flag. Enable exactly one of `GLOBAL_ALLOC_FLAG_WAITOK` \
     (may sleep, never fails) or `GLOBAL_ALLOC_FLAG_NOWAIT` (never sleeps, may fail), or enable \
     `GLOBAL_ALLOC_DISABLED` and declare your own with `freebsd_kmi::global_allocator!`."
);

// --- M_USE_RESERVE only alters M_NOWAIT. ---
#[cfg(all(
    not(feature = "GLOBAL_ALLOC_DISABLED"),
    feature = "GLOBAL_ALLOC_FLAG_USERESERVE",
    not(feature = "GLOBAL_ALLOC_FLAG_NOWAIT")
))]
compile_error!(
    "freebsd-kmi-rs: `GLOBAL_ALLOC_FLAG_USERESERVE` requires `GLOBAL_ALLOC_FLAG_NOWAIT` (M_USE_RESERVE only alters \
     M_NOWAIT allocations). Replace `GLOBAL_ALLOC_FLAG_WAITOK` with `GLOBAL_ALLOC_FLAG_NOWAIT` \
     (`default-features = false`), or remove `GLOBAL_ALLOC_FLAG_USERESERVE`."
);

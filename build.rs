//! Readable cfgs for the facade (`cfg_aliases`), and the release status passed up by
//! `freebsd-kpi-rs` (whose build script validated the release identity with `semver`).

use cfg_aliases::cfg_aliases;

fn main() {
    cfg_aliases! {
        // Built for the kernel: a freestanding target such as cargo-kmod's
        // x86_64-unknown-freebsd-kmod. Host builds (tests, `cargo check`) have no
        // panic handler or global allocator of ours.
        kernel: { target_os = "none" },
        // The release matrix.
        freebsd13: { feature = "freebsd-13" },
        freebsd14: { feature = "freebsd-14" },
        freebsd15: { feature = "freebsd-15" },
        // Allocator mode.
        alloc_disabled: { feature = "GLOBAL_ALLOC_DISABLED" },
        alloc_waitok: { all(not(alloc_disabled), feature = "GLOBAL_ALLOC_FLAG_WAITOK") },
        alloc_nowait: { all(not(alloc_disabled), feature = "GLOBAL_ALLOC_FLAG_NOWAIT") },
        alloc_use_reserve: { all(alloc_nowait, feature = "GLOBAL_ALLOC_FLAG_USERESERVE") },
        builtin_global_allocator: { all(kernel, not(alloc_disabled)) },
        // Handlers.
        default_panic_handler: { all(kernel, not(feature = "GLOBAL_ALLOC_EXCLUDE_PANICHANDLER")) },
        default_alloc_error_handler: { all(kernel, not(feature = "GLOBAL_ALLOC_EXCLUDE_ALLOC_ERROR_HNDL")) },
    }
    // Release status (legacy/current) comes from the selected folder's release.toml.
    println!("cargo::rustc-check-cfg=cfg(legacy)");
    println!("cargo::rustc-check-cfg=cfg(current)");
    match std::env::var("DEP_FREEBSD_KPI_STATUS").as_deref() {
        Ok("legacy") => println!("cargo::rustc-cfg=legacy"),
        Ok("current") => println!("cargo::rustc-cfg=current"),
        // No (or more than one) release selected: src/config.rs reports it.
        _ => {}
    }
}

//! Raw bindings to the FreeBSD kernel programming interface (KPI), one folder per
//! supported release.
//!
//! | folder   | release | `__FreeBSD_version` | status  | feature      |
//! |----------|---------|---------------------|---------|--------------|
//! | `v13_1/` | 13.1    | 1301000             | legacy  | `freebsd-13` |
//! | `v14_0/` | 14.0    | 1400097             | legacy  | `freebsd-14` |
//! | `v15_0/` | 15.0    | 1500068             | current | `freebsd-15` |
//!
//! Exactly one release feature selects [`selected`], the bindings a kernel module is built
//! against. Items that are identical on every release (the kernel binary interface that
//! FreeBSD keeps stable across majors) live in `common/` and are re-exported by every
//! release folder; each folder adds what differs on its release (for example
//! `struct sysinit`, which gained a `next` link in 14.0, and `M_VERSION`). Every folder
//! exports the same names, so code written against [`selected`] compiles on every release.
//!
//! The `catalog` feature compiles every release folder at once, as data for host tools:
//! `catalog::RELEASES` lists each release's identity, KPI symbol tables and ABI tables
//! ([`abi`]: every struct layout and constant). One list per folder is the source of truth:
//! the declaration macros (`kpi_functions!`, `kpi_statics!`, `abi_structs!`, `abi_consts!`)
//! emit each binding and its table row together, and the conformance test
//! (`tests/conformance.rs`) checks every row against the real FreeBSD headers.
//!
//! This crate is `no_std` and mirrors C declarations one to one: structs keep their C
//! names and every layout is checked at compile time against the header it mirrors.
#![no_std]
#![allow(non_camel_case_types)]

#[cfg(any(
    all(feature = "freebsd-13", feature = "freebsd-14"),
    all(feature = "freebsd-13", feature = "freebsd-15"),
    all(feature = "freebsd-14", feature = "freebsd-15"),
))]
compile_error!(
    "freebsd-kmi-rs / freebsd-kpi-rs: more than one of the features `freebsd-13`, `freebsd-14`, `freebsd-15` is \
     enabled; select exactly one FreeBSD release. `freebsd-15` is a default feature of freebsd-kmi-rs: to pin an \
     older release write `freebsd-kmi-rs = { default-features = false, features = [\"freebsd-14\", \
     \"GLOBAL_ALLOC_FLAG_WAITOK\"] }` (or \"freebsd-13\")."
);
#[cfg(not(any(feature = "freebsd-13", feature = "freebsd-14", feature = "freebsd-15", feature = "catalog")))]
compile_error!(
    "freebsd-kmi-rs / freebsd-kpi-rs: no FreeBSD release selected. Enable exactly one of the features \
     `freebsd-15` (15.0, current, the default), `freebsd-14` (14.0, legacy) or `freebsd-13` (13.1, legacy), e.g. \
     `freebsd-kmi-rs = { default-features = false, features = [\"freebsd-15\", \"GLOBAL_ALLOC_FLAG_WAITOK\"] }`."
);

pub mod abi;
pub mod kpi;
pub mod kpi_cdev;
pub mod kpi_sync;
pub mod release;

#[macro_use]
mod macros;

#[macro_use]
pub mod common;

#[cfg(any(feature = "freebsd-13", feature = "catalog"))]
#[path = "v13_1/mod.rs"]
pub mod v13_1;
#[cfg(any(feature = "freebsd-14", feature = "catalog"))]
#[path = "v14_0/mod.rs"]
pub mod v14_0;
#[cfg(any(feature = "freebsd-15", feature = "catalog"))]
#[path = "v15_0/mod.rs"]
pub mod v15_0;

/// The release selected by the crate features: the bindings a module is built against.
#[cfg(all(feature = "freebsd-13", not(feature = "freebsd-14"), not(feature = "freebsd-15")))]
pub use v13_1 as selected;
/// The release selected by the crate features: the bindings a module is built against.
#[cfg(all(feature = "freebsd-14", not(feature = "freebsd-13"), not(feature = "freebsd-15")))]
pub use v14_0 as selected;
/// The release selected by the crate features: the bindings a module is built against.
#[cfg(all(feature = "freebsd-15", not(feature = "freebsd-13"), not(feature = "freebsd-14")))]
pub use v15_0 as selected;

pub use core::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};

/// Every release folder at once, as data for host tools (feature `catalog`).
#[cfg(feature = "catalog")]
pub mod catalog {
    use crate::release::Release;

    /// Every supported release, oldest first.
    pub static RELEASES: &[Release] = &[crate::v13_1::RELEASE, crate::v14_0::RELEASE, crate::v15_0::RELEASE];

    /// The release whose bindings load on a kernel of version `major.minor`
    /// (same major, not newer than the kernel), e.g. `14.2` -> 14.0.
    pub fn for_kernel(major: u64, minor: u64) -> Option<&'static Release> {
        RELEASES
            .iter()
            .filter(|r| r.identity.major == major && r.identity.minor <= minor)
            .max_by_key(|r| r.identity.minor)
    }
}

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

    /// A FreeBSD minor release a kernel can be: its name and `__FreeBSD_version`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MinorRelease {
        /// `"14.2"`.
        pub name: &'static str,
        /// Major version.
        pub major: u64,
        /// Minor version.
        pub minor: u64,
        /// `__FreeBSD_version` of the X.Y-RELEASE kernel (sys/sys/param.h).
        pub freebsd_version: u32,
    }

    const fn minor(name: &'static str, major: u64, minor: u64, freebsd_version: u32) -> MinorRelease {
        MinorRelease { name, major, minor, freebsd_version }
    }

    /// Every known minor release of the supported majors, oldest first.
    ///
    /// Sources: the Porter's Handbook `__FreeBSD_version` table (freebsd/freebsd-doc,
    /// documentation/content/en/books/porters-handbook/versions/_index.adoc): 13.1 = 1301000
    /// ("releng/13.1 branched", @018ab791), 14.0 = 1400097 (stable/14 branched at 1400097 and
    /// releng/14.0 kept it, the branch moving to 1400500, @35ec8c4a). A releng/X.Y branch
    /// sets `__FreeBSD_version` to MMmm000 while the stable branch moves on to MMmm500: the
    /// table (@35ec8c4a) shows stable/14 at 1401500 "14.1-STABLE after it was renamed from
    /// 14.1-PRERELEASE", 1402500 for 14.2 and 1403503 for 14.3, so 14.1/14.2/14.3-RELEASE are
    /// 1401000/1402000/1403000; 13.2-13.5 follow the same pattern (1302000-1305000; medium
    /// confidence, as FACTS.md says). 15.0 = 1500068 (`releases/v15_0/release.toml`).
    pub static MINOR_RELEASES: &[MinorRelease] = &[
        minor("13.1", 13, 1, 1_301_000),
        minor("13.2", 13, 2, 1_302_000),
        minor("13.3", 13, 3, 1_303_000),
        minor("13.4", 13, 4, 1_304_000),
        minor("13.5", 13, 5, 1_305_000),
        minor("14.0", 14, 0, 1_400_097),
        minor("14.1", 14, 1, 1_401_000),
        minor("14.2", 14, 2, 1_402_000),
        minor("14.3", 14, 3, 1_403_000),
        minor("15.0", 15, 0, 1_500_068),
    ];

    /// A known minor release by name (`"14.2"`).
    pub fn minor_release(name: &str) -> Option<&'static MinorRelease> {
        MINOR_RELEASES.iter().find(|m| m.name == name)
    }

    /// The release whose bindings load on a kernel of version `major.minor`
    /// (same major, not newer than the kernel), e.g. `14.2` -> 14.0.
    pub fn for_kernel(major: u64, minor: u64) -> Option<&'static Release> {
        RELEASES
            .iter()
            .filter(|r| r.identity.major == major && r.identity.minor <= minor)
            .max_by_key(|r| r.identity.minor)
    }
}

//! FreeBSD 15.0-RELEASE bindings (current).
//!
//! `__FreeBSD_version` 1500068 (see `release.toml` for the source and its confidence).
//! Modules built from this folder load on every 15.x kernel (`MODULE_DEPEND(kernel,
//! 1500068, 1500068, 1599999)`) and are refused by 13.x and 14.x. Layouts are checked
//! against the FreeBSD 15.0 headers (PyPI's ziglang==0.17.0 wheel).
//!
//! Differences from 14.0, each cited in its file:
//! - `M_VERSION` is 2024073001 ([`M_VERSION`]); `malloc_init` panics on a mismatch.
//! - `M_NEVERFREED` exists ([`M_NEVERFREED`]).
//!
//! Unchanged from 14.0 and compiled from the 14.0 folder's files: `struct sysinit` with its
//! `next` link (32 bytes), `malloc_aligned()` and `M_NORECLAIM`.

pub use crate::common::{domainset, errno, kernel::*, module::*, syslog::*, systm::*};
pub use crate::common::malloc::*;

#[path = "../v14_0/malloc14.rs"]
mod malloc14;
mod malloc15;
#[path = "../v14_0/sysinit_layout.rs"]
mod sysinit_layout;

pub use malloc14::{M_NORECLAIM, MALLOC14_CONSTS, MALLOC14_FUNCTIONS, malloc_aligned};
pub use malloc15::{M_NEVERFREED, M_VERSION};
pub use sysinit_layout::sysinit;

include!(concat!(env!("OUT_DIR"), "/release_v15_0.rs"));

/// Every kernel symbol this folder binds (the KPI a 15.0 module may import).
pub const SYMBOL_TABLES: &[&[crate::kpi::KpiSymbol]] = &[
    crate::common::malloc::MALLOC_FUNCTIONS,
    crate::common::module::MODULE_FUNCTIONS,
    crate::common::systm::SYSTM_FUNCTIONS,
    crate::common::domainset::DOMAINSET_DATA,
    MALLOC14_FUNCTIONS,
];

/// Every struct layout and constant this folder binds: the common ones and this folder's.
/// Checked by the conformance test against the FreeBSD 15.0 headers.
pub const ABI: crate::abi::AbiTables = crate::abi::AbiTables {
    structs: &[
        crate::common::kernel::SYSINIT_ENUMS,
        crate::common::malloc::MALLOC_STRUCTS,
        crate::common::module::MODULE_STRUCTS,
        sysinit_layout::SYSINIT_STRUCTS,
    ],
    consts: &[
        crate::common::errno::ERRNO_CONSTS,
        crate::common::kernel::SYSINIT_CONSTS,
        crate::common::malloc::MALLOC_CONSTS,
        crate::common::module::MODEVENT_CONSTS,
        crate::common::module::MODULE_CONSTS,
        crate::common::syslog::SYSLOG_CONSTS,
        malloc14::MALLOC14_CONSTS,
        malloc15::MALLOC15_CONSTS,
    ],
};

/// This release, as data (identity, layouts, symbols).
pub const RELEASE: crate::release::Release = crate::release::Release {
    identity: IDENTITY,
    m_version: M_VERSION,
    sysinit_size: core::mem::size_of::<sysinit>(),
    symbol_tables: SYMBOL_TABLES,
    abi: ABI,
};

/// The 15.0 kernel, as the [`Kpi`](crate::kpi::Kpi) implementation.
pub struct Kernel;

// SAFETY: every method is the default, which calls the kernel function it names; the
// constants are this release's values.
unsafe impl crate::kpi::Kpi for Kernel {
    const RELEASE: crate::release::Release = RELEASE;
    const M_VERSION: u64 = M_VERSION;
}

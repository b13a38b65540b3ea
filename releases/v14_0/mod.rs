//! FreeBSD 14.0-RELEASE bindings (legacy since 15.0 is current).
//!
//! `__FreeBSD_version` 1400097 (Porter's Handbook: stable/14 branched at 1400097 and
//! releng/14.0 kept it). Modules built from this folder load on every 14.x kernel
//! (`MODULE_DEPEND(kernel, 1400097, 1400097, 1499999)`) and are refused by 13.x and 15.x.
//! Layouts were checked against the FreeBSD 14.2 headers (KBI-compatible with 14.0).
//!
//! Differences from 13.1, each cited in its file:
//! - `struct sysinit` gained `STAILQ_ENTRY(sysinit) next`: 32 bytes ([`sysinit`]).
//! - `malloc_aligned()` and `M_NORECLAIM` exist ([`malloc_aligned`], [`M_NORECLAIM`]).

pub use crate::common::{domainset, errno, kernel::*, module::*, syslog::*, systm::*};
pub use crate::common::malloc::*;

mod malloc14;
mod malloc_version;
mod sysinit_layout;

pub use malloc_version::M_VERSION;
pub use malloc14::{M_NORECLAIM, MALLOC14_CONSTS, MALLOC14_FUNCTIONS, malloc_aligned};
pub use sysinit_layout::sysinit;

include!(concat!(env!("OUT_DIR"), "/release_v14_0.rs"));

/// Every kernel symbol this folder binds (the KPI a 14.0 module may import).
pub const SYMBOL_TABLES: &[&[crate::kpi::KpiSymbol]] = &[
    crate::common::malloc::MALLOC_FUNCTIONS,
    crate::common::module::MODULE_FUNCTIONS,
    crate::common::systm::SYSTM_FUNCTIONS,
    crate::common::domainset::DOMAINSET_DATA,
    MALLOC14_FUNCTIONS,
];

/// Every struct layout and constant this folder binds: the common ones and this folder's.
/// Checked by the conformance test against the FreeBSD 14.x headers.
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
        malloc_version::MALLOC14_VERSION_CONSTS,
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

/// The 14.0 kernel, as the [`Kpi`](crate::kpi::Kpi) implementation.
pub struct Kernel;

// SAFETY: every method is the default, which calls the kernel function it names; the
// constants are this release's values.
unsafe impl crate::kpi::Kpi for Kernel {
    const RELEASE: crate::release::Release = RELEASE;
    const M_VERSION: u64 = M_VERSION;
}

//! FreeBSD 13.1-RELEASE bindings (legacy).
//!
//! `__FreeBSD_version` 1301000 (Porter's Handbook: "releng/13.1 branched"). Modules built
//! from this folder load on 13.1 through 13.x (`MODULE_DEPEND(kernel, 1301000, 1301000,
//! 1399999)`) and are refused by 13.0, 14.x and 15.x kernels.
//!
//! Differences from 14.0, each cited in its file:
//! - `struct sysinit` has no `next` link: 24 bytes ([`sysinit`]).
//! - `malloc_aligned()` and `M_NORECLAIM` are not bound (absent in 13.0, unverified for
//!   13.1); aligned allocations use `malloc_domainset_aligned`, present since 13.0.

pub use crate::common::{domainset, errno, kernel::*, module::*, syslog::*, systm::*};
pub use crate::common::malloc::*;

mod malloc_version;
mod sysinit_layout;

pub use malloc_version::M_VERSION;
pub use sysinit_layout::sysinit;

include!(concat!(env!("OUT_DIR"), "/release_v13_1.rs"));

/// Every kernel symbol this folder binds (the KPI a 13.1 module may import).
pub const SYMBOL_TABLES: &[&[crate::kpi::KpiSymbol]] = crate::common::SYMBOL_TABLES;

/// This release, as data (identity, layouts, symbols).
pub const RELEASE: crate::release::Release = crate::release::Release {
    identity: IDENTITY,
    m_version: M_VERSION,
    sysinit_size: core::mem::size_of::<sysinit>(),
    symbol_tables: SYMBOL_TABLES,
};

/// The 13.1 kernel, as the [`Kpi`](crate::kpi::Kpi) implementation.
pub struct Kernel;

// SAFETY: every method is the default, which calls the kernel function it names; the
// constants are this release's values.
unsafe impl crate::kpi::Kpi for Kernel {
    const RELEASE: crate::release::Release = RELEASE;
    const M_VERSION: u64 = M_VERSION;
}

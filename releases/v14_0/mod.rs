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
pub use crate::common::{callout::*, condvar::*, kthread::*, lock::*, mutex::*, param::*, sx::*, time::*};
pub use priority::*;
pub use crate::common::malloc::*;

mod malloc14;
mod malloc_version;
mod priority;
mod sysinit_layout;

pub use malloc_version::M_VERSION;
pub use malloc14::{M_NORECLAIM, MALLOC14_CONSTS, MALLOC14_FUNCTIONS, malloc_aligned};
pub use sysinit_layout::sysinit;

include!(concat!(env!("OUT_DIR"), "/release_v14_0.rs"));

release_folder! {
    name: "14.0",
    folder: "v14_0",
    symbols: [MALLOC14_FUNCTIONS],
    structs: [sysinit_layout::SYSINIT_STRUCTS],
    consts: [priority::PRIORITY_CONSTS, malloc14::MALLOC14_CONSTS, malloc_version::MALLOC14_VERSION_CONSTS],
}

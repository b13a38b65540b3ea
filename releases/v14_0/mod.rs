//! FreeBSD 14.0-RELEASE bindings (legacy since 15.0 is current).
//!
//! `__FreeBSD_version` 1400097 (Porter's Handbook: stable/14 branched at 1400097 and
//! releng/14.0 kept it). Modules built from this folder load on every 14.x kernel
//! (`MODULE_DEPEND(kernel, 1400097, 1400097, 1499999)`) and are refused by 13.x and 15.x.
//! Layouts were checked against the FreeBSD 14.2 headers (KBI-compatible with 14.0).
//!
//! Differences from 13.1, each cited in its file:
//! - `struct sysinit` gained `STAILQ_ENTRY(sysinit) next`: 32 bytes ([`sysinit`]).
//! - `struct sysctl_oid` keeps its children in an `RB` tree (1400071): 112 bytes
//!   ([`sysctl_oid`]).
//! - `malloc_aligned()` and `M_NORECLAIM` exist ([`malloc_aligned`], [`M_NORECLAIM`]).

pub use crate::common::{domainset, errno, kernel::*, module::*, syslog::*, systm::*};
pub use crate::common::{conf::*, ioccom::*, r#priv::*, uio::*};
pub use crate::common::{callout::*, condvar::*, eventhandler::*, taskqueue::*, kthread::*, lock::*, mutex::*, param::*, sx::*, time::*};
pub use priority::*;
pub use crate::common::malloc::*;
pub use crate::common::sysctl::*;

mod callout_stop3;
mod malloc14;
mod taskqueue14;
mod malloc_version;
mod priority;
mod sysinit_layout;
mod sysctl_oid_layout;

pub use callout_stop3::{_callout_stop_safe, callout_stop_safe};
pub use taskqueue14::{TASKQUEUE_FAIL_IF_CANCELING, TASKQUEUE_FAIL_IF_PENDING, taskqueue_enqueue_flags};
pub use malloc_version::M_VERSION;
pub use malloc14::{M_NORECLAIM, MALLOC14_CONSTS, MALLOC14_FUNCTIONS, malloc_aligned};
pub use sysinit_layout::sysinit;
pub use sysctl_oid_layout::*;

include!(concat!(env!("OUT_DIR"), "/release_v14_0.rs"));

release_folder! {
    name: "14.0",
    folder: "v14_0",
    symbols: [MALLOC14_FUNCTIONS, callout_stop3::CALLOUT_STOP_FUNCTIONS, taskqueue14::TASKQUEUE14_FUNCTIONS, sysctl_oid_layout::SYSCTL_OID_FUNCTIONS, sysctl_oid_layout::SYSCTL_ROOTS],
    structs: [sysinit_layout::SYSINIT_STRUCTS, sysctl_oid_layout::SYSCTL_OID_STRUCTS],
    consts: [taskqueue14::TASKQUEUE14_CONSTS, priority::PRIORITY_CONSTS, malloc14::MALLOC14_CONSTS, malloc_version::MALLOC14_VERSION_CONSTS],
}

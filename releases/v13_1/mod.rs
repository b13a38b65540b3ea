//! FreeBSD 13.1-RELEASE bindings (legacy).
//!
//! `__FreeBSD_version` 1301000 (Porter's Handbook: "releng/13.1 branched"). Modules built
//! from this folder load on 13.1 through 13.x (`MODULE_DEPEND(kernel, 1301000, 1301000,
//! 1399999)`) and are refused by 13.0, 14.x and 15.x kernels.
//!
//! Differences from 14.0, each cited in its file:
//! - `struct sysinit` has no `next` link: 24 bytes ([`sysinit`]).
//! - `malloc_aligned()` and `M_NORECLAIM` are not bound. Both are absent from 13.0's
//!   `sys/sys/malloc.h` (read in sobomax/freebsd14_vendor@0f7ff3427c99, a 13.0-RELEASE tree,
//!   `__FreeBSD_version` 1300139); no 13.1 (1301000) tree was found in the source index, so
//!   their presence on 13.1 is unverified and the folder does not rely on them. Aligned
//!   allocations use `malloc_domainset_aligned`, declared in that same 13.0 header.
//!
//! No 13.x header tree exists on the CI machines: `abi-13.1.tsv` lists every value this
//! folder binds with the source it was read from, and the conformance test
//! (`tests/conformance`) checks the folder against it (the common items are also proven
//! against the 14.x headers).

pub use crate::common::{domainset, errno, kernel::*, module::*, syslog::*, systm::*};
pub use crate::common::{callout::*, condvar::*, kthread::*, lock::*, mutex::*, param::*, sx::*, time::*};
pub use priority::*;
pub use crate::common::malloc::*;

mod malloc_version;
mod priority;
mod sysinit_layout;

pub use malloc_version::M_VERSION;
pub use sysinit_layout::sysinit;

include!(concat!(env!("OUT_DIR"), "/release_v13_1.rs"));

release_folder! {
    name: "13.1",
    folder: "v13_1",
    symbols: [],
    structs: [sysinit_layout::SYSINIT_STRUCTS],
    consts: [priority::PRIORITY_CONSTS, malloc_version::MALLOC13_CONSTS],
}

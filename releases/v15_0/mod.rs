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
pub use crate::common::{callout::*, condvar::*, kthread::*, lock::*, mutex::*, param::*, sx::*, time::*};
pub use priority::*;
pub use crate::common::malloc::*;

// Unchanged since 14.0: the same files, compiled into this folder (the `catalog` feature
// compiles every folder at once, so the files are then loaded twice, on purpose).
#[allow(clippy::duplicate_mod)]
#[path = "../v14_0/malloc14.rs"]
mod malloc14;
mod malloc15;
mod priority;
#[allow(clippy::duplicate_mod)]
#[path = "../v14_0/sysinit_layout.rs"]
mod sysinit_layout;

pub use malloc14::{M_NORECLAIM, MALLOC14_CONSTS, MALLOC14_FUNCTIONS, malloc_aligned};
pub use malloc15::{M_NEVERFREED, M_VERSION};
pub use sysinit_layout::sysinit;

include!(concat!(env!("OUT_DIR"), "/release_v15_0.rs"));

release_folder! {
    name: "15.0",
    folder: "v15_0",
    symbols: [MALLOC14_FUNCTIONS],
    structs: [sysinit_layout::SYSINIT_STRUCTS],
    consts: [priority::PRIORITY_CONSTS, malloc14::MALLOC14_CONSTS, malloc15::MALLOC15_CONSTS],
}

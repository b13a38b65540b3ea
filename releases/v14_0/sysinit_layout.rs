//! `struct sysinit` on 14.x and 15.0: 32 bytes with a list link. The 15.0 folder compiles
//! this same file (the 15.0 header's struct is identical; the conformance test checks it).
//!
//! Source: `sys/sys/kernel.h` (14.2 headers, KBI-compatible with 14.0):
//! ```c
//! struct sysinit {
//!     enum sysinit_sub_id     subsystem;
//!     enum sysinit_elem_order order;
//!     STAILQ_ENTRY(sysinit)   next;
//!     sysinit_cfunc_t func;
//!     const void      *udata;
//! };
//! ```
//! The link was added in main by cedc82c0466a (2023-08-20, as SLIST, later STAILQ with the
//! same single-pointer ABI), before stable/14 branched at 1400097 (2023-08-24). The kernel
//! writes `next` at load time, so a sysinit must live in writable memory; the `SYSINIT`
//! initialiser leaves it NULL.

use crate::common::kernel::{sysinit_cfunc_t, sysinit_elem_order, sysinit_sub_id};
use core::ffi::c_void;

/// `struct sysinit` (14.x layout).
#[repr(C)]
pub struct sysinit {
    /// Subsystem (`SI_SUB_*`).
    pub subsystem: sysinit_sub_id,
    /// Order within the subsystem (`SI_ORDER_*`).
    pub order: sysinit_elem_order,
    /// `STAILQ_ENTRY(sysinit) next`: kernel-owned link, NULL initially.
    pub next: *mut sysinit,
    /// Function to call.
    pub func: sysinit_cfunc_t,
    /// Its argument.
    pub udata: *const c_void,
}

abi_structs! {
    table SYSINIT_STRUCTS, header "sys/sys/kernel.h";
    sysinit = "struct sysinit", size 32, align 8, { subsystem: 0, order: 4, next: 8, func: 16, udata: 24 };
}

impl sysinit {
    /// The `SYSINIT(uniquifier, subsystem, order, func, ident)` initialiser.
    pub const fn new(subsystem: sysinit_sub_id, order: sysinit_elem_order, func: sysinit_cfunc_t, udata: *const c_void) -> Self {
        sysinit { subsystem, order, next: core::ptr::null_mut(), func, udata }
    }
}

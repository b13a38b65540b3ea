//! `struct sysinit` on 13.x: 24 bytes, no list link.
//!
//! Source: `sys/sys/kernel.h` of stable/13 (read in a 13.0-RELEASE tree,
//! sobomax/freebsd14_vendor@0f7ff342; KBI-frozen for 13.1):
//! ```c
//! struct sysinit {
//!     enum sysinit_sub_id     subsystem;
//!     enum sysinit_elem_order order;
//!     sysinit_cfunc_t func;
//!     const void      *udata;
//! };
//! ```
//! The `next` link only arrived in main in August 2023 (commit cedc82c0466a), for 14.0.

use crate::common::kernel::{sysinit_cfunc_t, sysinit_elem_order, sysinit_sub_id};
use core::ffi::c_void;

/// `struct sysinit` (13.x layout).
#[repr(C)]
pub struct sysinit {
    /// Subsystem (`SI_SUB_*`).
    pub subsystem: sysinit_sub_id,
    /// Order within the subsystem (`SI_ORDER_*`).
    pub order: sysinit_elem_order,
    /// Function to call.
    pub func: sysinit_cfunc_t,
    /// Its argument.
    pub udata: *const c_void,
}

abi_structs! {
    table SYSINIT_STRUCTS, header "sys/sys/kernel.h";
    sysinit = "struct sysinit", size 24, align 8, { subsystem: 0, order: 4, func: 8, udata: 16 };
}

impl sysinit {
    /// The `SYSINIT(uniquifier, subsystem, order, func, ident)` initialiser.
    pub const fn new(subsystem: sysinit_sub_id, order: sysinit_elem_order, func: sysinit_cfunc_t, udata: *const c_void) -> Self {
        sysinit { subsystem, order, func, udata }
    }
}

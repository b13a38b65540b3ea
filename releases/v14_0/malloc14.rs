//! malloc(9) items of 14.x that 13.x lacks or that carry a 14.x value
//! (`sys/sys/malloc.h`, checked against the 14.2 headers).

use crate::common::malloc::malloc_type;
use core::ffi::{c_int, c_ulong, c_void};

abi_consts! {
    table MALLOC14_CONSTS, header "sys/sys/malloc.h";
    /// `ks_version` of every `struct malloc_type` on 14.x (`#define M_VERSION 2020110501`;
    /// unchanged from 13.x, changes to 2024073001 in 15.0). `malloc_init()` panics on a
    /// mismatch (kern_malloc.c).
    pub const M_VERSION: c_ulong = 2020110501;

    /// Do not reclaim memory to satisfy the request (absent in 13.0).
    pub const M_NORECLAIM: c_int = 0x0080;
}

kpi_functions! {
    table MALLOC14_FUNCTIONS, header "sys/sys/malloc.h";
    /// Aligned allocation (`malloc_domainset_aligned` with `DOMAINSET_RR()`).
    pub fn malloc_aligned(size: usize, align: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void;
}

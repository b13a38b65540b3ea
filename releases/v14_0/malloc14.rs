//! malloc(9) items that 14.0 added and 15.0 keeps unchanged (`sys/sys/malloc.h`, checked
//! against the 14.2 and 15.0 headers). The 15.0 folder compiles this same file.

use crate::common::malloc::malloc_type;
use core::ffi::{c_int, c_void};

abi_consts! {
    table MALLOC14_CONSTS, header "sys/sys/malloc.h";
    /// Do not reclaim memory to satisfy the request (absent in 13.0).
    pub const M_NORECLAIM: c_int = 0x0080;
}

kpi_functions! {
    table MALLOC14_FUNCTIONS, header "sys/sys/malloc.h";
    /// Aligned allocation (`malloc_domainset_aligned` with `DOMAINSET_RR()`).
    pub fn malloc_aligned(size: usize, align: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void;
}

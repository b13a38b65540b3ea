//! `M_VERSION` on 13.x.
//!
//! Source: `sys/sys/malloc.h` of stable/13 (`#define M_VERSION 2020110501`, introduced
//! with the malloc_type_internal rework of November 2020 before 13.0; read in a 13.0-RELEASE
//! tree, sobomax/freebsd14_vendor@0f7ff342; kept by the stable/13 KBI). `malloc_init()`
//! panics on a mismatch (kern_malloc.c).

use core::ffi::c_ulong;

abi_consts! {
    table MALLOC13_CONSTS, header "sys/sys/malloc.h";
    /// `ks_version` of every `struct malloc_type` on 13.x.
    pub const M_VERSION: c_ulong = 2020110501;
}

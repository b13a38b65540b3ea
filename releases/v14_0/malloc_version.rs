//! `M_VERSION` on 14.x (`sys/sys/malloc.h`, checked against the 14.2 headers):
//! `#define M_VERSION 2020110501`, unchanged from 13.x; 15.0 changes it to 2024073001.
//! `malloc_init()` panics on a mismatch (kern_malloc.c).

use core::ffi::c_ulong;

abi_consts! {
    table MALLOC14_VERSION_CONSTS, header "sys/sys/malloc.h";
    /// `ks_version` of every `struct malloc_type` on 14.x.
    pub const M_VERSION: c_ulong = 2020110501;
}

//! malloc(9) items new in 15.0 or carrying a 15.0 value (`sys/sys/malloc.h`, checked
//! against the 15.0 headers from PyPI's ziglang==0.17.0 wheel).

use core::ffi::{c_int, c_ulong};

abi_consts! {
    table MALLOC15_CONSTS, header "sys/sys/malloc.h";
    /// `ks_version` of every `struct malloc_type` on 15.x: `#define M_VERSION 2024073001`
    /// (was 2020110501 on 13.x/14.x). `malloc_init()` panics on a mismatch, so a module
    /// built for 14.x cannot register its malloc types on 15.x and vice versa.
    pub const M_VERSION: c_ulong = 2024073001;

    /// The allocation is never freed (added at 1500023, "new flags to malloc(9)").
    pub const M_NEVERFREED: c_int = 0x10000;
}

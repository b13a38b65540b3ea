//! The lock object every FreeBSD lock starts with (`sys/sys/_lock.h`) and the lock
//! operation flags shared by the lock classes (`sys/sys/lock.h`).
//!
//! A module never touches `struct lock_object` fields: it passes `&lock.lock_object` as the
//! interlock of `_sleep` and `_cv_wait*` (the expansion of `msleep(chan, mtx, ...)` is
//! `_sleep(chan, &(mtx)->lock_object, ...)`, sys/sys/systm.h).
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342, a 13.0-RELEASE tree: `_lock.h`;
//! FACTS.md section 4), 14.2 and 15.0 (probed).

use core::ffi::{c_char, c_int, c_uint, c_void};

/// `struct lock_object` (24 bytes): the common head of `struct mtx`, `struct sx`,
/// `struct rwlock` and `struct lock`.
#[repr(C)]
pub struct lock_object {
    /// `lo_name`: the individual lock's name.
    pub lo_name: *const c_char,
    /// `lo_flags`: class index and `LO_*` flags.
    pub lo_flags: c_uint,
    /// `lo_data`: class-specific data (the recursion count of a mutex).
    pub lo_data: c_uint,
    /// `lo_witness`: WITNESS's record (opaque).
    pub lo_witness: *mut c_void,
}

abi_structs! {
    table LOCK_STRUCTS, header "sys/sys/_lock.h";
    lock_object = "struct lock_object", size 24, align 8,
        { lo_name: 0, lo_flags: 8, lo_data: 12, lo_witness: 16 };
}

abi_consts! {
    table LOCK_CONSTS, header "sys/sys/lock.h";
    /// Do not log the lock operation (`MTX_QUIET`).
    pub const LOP_QUIET: c_int = 0x00000002;
    /// Do not check for duplicate acquires (`MTX_DUPOK`).
    pub const LOP_DUPOK: c_int = 0x00000010;
}

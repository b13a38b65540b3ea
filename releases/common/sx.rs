//! sx(9) shared/exclusive locks: `struct sx` (`sys/sys/_sx.h`) and the functions the
//! `sys/sys/sx.h` macros expand to in a module (`LOCK_DEBUG` 1): `sx_xlock(sx)` is
//! `(void)_sx_xlock(sx, 0, __FILE__, __LINE__)`, `sx_xunlock(sx)` is `_sx_xunlock(sx,
//! __FILE__, __LINE__)`, `sx_init(sx, d)` is `sx_init_flags(sx, d, 0)`.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `sx.h`, @5836bb2a `_sx.h`),
//! 14.2 and 15.0 (probed).

use super::lock::lock_object;
use super::mutex::uintptr_t;
use core::ffi::{c_char, c_int};

/// `struct sx` (32 bytes, alignment 8).
#[repr(C)]
pub struct sx {
    /// `lock_object`: the common lock head (pass `&sx.lock_object` as a sleep interlock).
    pub lock_object: lock_object,
    /// `sx_lock`: owner, sharer count and flags (`volatile uintptr_t`).
    pub sx_lock: uintptr_t,
}

abi_structs! {
    table SX_STRUCTS, header "sys/sys/_sx.h";
    sx = "struct sx", size 32, align 8, { lock_object: 0, sx_lock: 24 };
}

abi_consts! {
    table SX_CONSTS, header "sys/sys/sx.h";
    /// `sx_init_flags` option: do not check for duplicate acquires.
    pub const SX_DUPOK: c_int = 0x01;
    /// Option: do not profile this lock.
    pub const SX_NOPROFILE: c_int = 0x02;
    /// Option: no WITNESS checking.
    pub const SX_NOWITNESS: c_int = 0x04;
    /// Option: do not log.
    pub const SX_QUIET: c_int = 0x08;
    /// Option: the lock may recurse.
    pub const SX_RECURSE: c_int = 0x20;
    /// Option: do not check for double initialisation.
    pub const SX_NEW: c_int = 0x40;
    /// `_sx_xlock`/`_sx_slock` option: a signal interrupts the wait (`sx_xlock_sig`).
    pub const SX_INTERRUPTIBLE: c_int = 0x40;
}

kpi_functions! {
    table SX_FUNCTIONS, header "sys/sys/sx.h";
    /// `sx_init_flags(sx, description, opts)` (`sx_init(sx, d)` passes 0).
    pub fn sx_init_flags(sx: *mut sx, description: *const c_char, opts: c_int);
    /// `sx_destroy(sx)`.
    pub fn sx_destroy(sx: *mut sx);
    /// `sx_xlock(sx)` (opts 0: returns 0) / `sx_xlock_sig(sx)` (`SX_INTERRUPTIBLE`: EINTR or
    /// ERESTART on a signal).
    pub fn _sx_xlock(sx: *mut sx, opts: c_int, file: *const c_char, line: c_int) -> c_int;
    /// `sx_xunlock(sx)`.
    pub fn _sx_xunlock(sx: *mut sx, file: *const c_char, line: c_int);
    /// `sx_slock(sx)` / `sx_slock_sig(sx)`.
    pub fn _sx_slock(sx: *mut sx, opts: c_int, file: *const c_char, line: c_int) -> c_int;
    /// `sx_sunlock(sx)`.
    pub fn _sx_sunlock(sx: *mut sx, file: *const c_char, line: c_int);
}

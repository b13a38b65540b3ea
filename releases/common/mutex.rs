//! mtx(9): `struct mtx` (`sys/sys/_mutex.h`) and the functions the `sys/sys/mutex.h` macros
//! expand to in a module.
//!
//! A module is built with `KLD_MODULE` and without `KLD_TIED`, so `LOCK_DEBUG` is 1
//! (sys/sys/_lock.h) and every lock operation is an out-of-line call that takes the caller's
//! file and line: `mtx_lock(m)` is `__mtx_lock_flags(&(m)->mtx_lock, 0, __FILE__,
//! __LINE__)`, `mtx_init(m, n, t, o)` is `_mtx_init(&(m)->mtx_lock, n, t, o)`. The functions
//! take the address of the lock word (`mtx_lock`, at offset 24), not of the mutex.
//! `mtx_assert` is `(void)0` without `INVARIANTS`; `mtx_owned` reads the lock word inline.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `mutex.h`, @4b33055d `_mutex.h`,
//! FACTS.md section 4), 14.2 and 15.0 (probed).

use super::lock::lock_object;
use core::ffi::{c_char, c_int};

/// `uintptr_t`.
pub type uintptr_t = usize;

/// A `volatile` object in a C prototype: the binding of `volatile uintptr_t *` is
/// `*mut Volatile<uintptr_t>`. Rust has no volatile types; accesses through such a pointer
/// must use `read_volatile`/`write_volatile` (the kernel updates the word atomically).
pub type Volatile<T> = T;

/// `struct mtx` (32 bytes, alignment 8).
#[repr(C)]
pub struct mtx {
    /// `lock_object`: the common lock head (pass `&m.lock_object` as a sleep interlock).
    pub lock_object: lock_object,
    /// `mtx_lock`: owner and flags (`volatile uintptr_t`); the mtx functions take its address.
    pub mtx_lock: uintptr_t,
}

abi_structs! {
    table MUTEX_STRUCTS, header "sys/sys/_mutex.h";
    mtx = "struct mtx", size 32, align 8, { lock_object: 0, mtx_lock: 24 };
}

abi_consts! {
    table MUTEX_CONSTS, header "sys/sys/mutex.h";
    /// Default (sleep) mutex.
    pub const MTX_DEF: c_int = 0x00000000;
    /// Spin mutex (disables interrupts).
    pub const MTX_SPIN: c_int = 0x00000001;
    /// Option: the lock may recurse.
    pub const MTX_RECURSE: c_int = 0x00000004;
    /// Option: no WITNESS checking.
    pub const MTX_NOWITNESS: c_int = 0x00000008;
    /// Option: do not profile this lock.
    pub const MTX_NOPROFILE: c_int = 0x00000020;
    /// Option: do not check for double initialisation.
    pub const MTX_NEW: c_int = 0x00000040;
    /// Lock operation option: do not log (`LOP_QUIET`).
    pub const MTX_QUIET: c_int = 0x00000002;
    /// Lock operation option: do not check for duplicate acquires (`LOP_DUPOK`).
    pub const MTX_DUPOK: c_int = 0x00000010;
    /// Lock word of a free mutex.
    pub const MTX_UNOWNED: uintptr_t = 0x00000000;
    /// Lock word bit: recursed (MTX_DEF only).
    pub const MTX_RECURSED: uintptr_t = 0x00000001;
    /// Lock word bit: contested (MTX_DEF only).
    pub const MTX_CONTESTED: uintptr_t = 0x00000002;
    /// Lock word of a destroyed mutex.
    pub const MTX_DESTROYED: uintptr_t = 0x00000004;
    /// The flag bits of the lock word; the rest is the owning `struct thread *`.
    pub const MTX_FLAGMASK: uintptr_t = 0x00000007;
}

kpi_functions! {
    table MUTEX_FUNCTIONS, header "sys/sys/mutex.h";
    /// `mtx_init(m, name, type, opts)`: `type` names the WITNESS class (NULL: `name`).
    pub fn _mtx_init(c: *mut Volatile<uintptr_t>, name: *const c_char, type_: *const c_char, opts: c_int);
    /// `mtx_destroy(m)`.
    pub fn _mtx_destroy(c: *mut Volatile<uintptr_t>);
    /// `mtx_trylock_flags(m, opts)`: non-zero when acquired.
    pub fn _mtx_trylock_flags_(c: *mut Volatile<uintptr_t>, opts: c_int, file: *const c_char, line: c_int) -> c_int;
    /// `mtx_lock_flags(m, opts)` of an `MTX_DEF` mutex.
    pub fn __mtx_lock_flags(c: *mut Volatile<uintptr_t>, opts: c_int, file: *const c_char, line: c_int);
    /// `mtx_unlock_flags(m, opts)` of an `MTX_DEF` mutex.
    pub fn __mtx_unlock_flags(c: *mut Volatile<uintptr_t>, opts: c_int, file: *const c_char, line: c_int);
    /// `mtx_lock_spin_flags(m, opts)` of an `MTX_SPIN` mutex (enters a critical section).
    pub fn __mtx_lock_spin_flags(c: *mut Volatile<uintptr_t>, opts: c_int, file: *const c_char, line: c_int);
    /// `mtx_unlock_spin_flags(m, opts)` of an `MTX_SPIN` mutex.
    pub fn __mtx_unlock_spin_flags(c: *mut Volatile<uintptr_t>, opts: c_int, file: *const c_char, line: c_int);
}

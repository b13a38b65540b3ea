//! Lock objects shared by every lock class (`sys/kern/subr_lock.c`, `sys/sys/lock.h`,
//! `sys/sys/_lock.h`).
//!
//! `struct lock_object` (24 bytes): `const char *lo_name@0; u_int lo_flags@8; u_int
//! lo_data@12; struct witness *lo_witness@16`; the lock word (`mtx_lock`, `sx_lock`) follows
//! at offset 24 (`sys/sys/_mutex.h`, `sys/sys/_sx.h`). `lock_init()` panics with
//! `lock "%s" %p already initialized` unless `LO_NEW` is given, stores
//! `class index << LO_CLASSSHIFT | flags | LO_INITIALIZED` (class indices of
//! `lock_classes[]`: spin mutex 0, sleep mutex 1, sx 2); `lock_destroy()` clears
//! `LO_INITIALIZED`. The lock word holds the owning `struct thread *` like the kernel's, so
//! the header macros `mtx_owned()`, `mtx_owner()`, `sx_xlocked()`, `sx_xholder()` and
//! `mtx_initialized()` work in module code.
//!
//! The host keeps, per initialised lock, its name, witness name (`type` or name), class and
//! flags in [`LockRec`]: the module's memory stays the source of truth for ownership.

use super::kern_switch::sched;
use super::panic::kernel_panic;

/// `LO_INITIALIZED` (sys/sys/lock.h).
pub const LO_INITIALIZED: u32 = 0x0001_0000;
/// `LO_WITNESS`.
pub const LO_WITNESS: u32 = 0x0002_0000;
/// `LO_QUIET`.
pub const LO_QUIET: u32 = 0x0004_0000;
/// `LO_RECURSABLE`.
pub const LO_RECURSABLE: u32 = 0x0008_0000;
/// `LO_SLEEPABLE`.
pub const LO_SLEEPABLE: u32 = 0x0010_0000;
/// `LO_UPGRADABLE`.
pub const LO_UPGRADABLE: u32 = 0x0020_0000;
/// `LO_DUPOK`.
pub const LO_DUPOK: u32 = 0x0040_0000;
/// `LO_NOPROFILE`.
pub const LO_NOPROFILE: u32 = 0x1000_0000;
/// `LO_NEW`.
pub const LO_NEW: u32 = 0x2000_0000;
/// `LO_CLASSSHIFT`.
pub const LO_CLASSSHIFT: u32 = 24;
/// Offset of the lock word after the `struct lock_object`.
pub const WORD: usize = 24;

/// A lock class (`struct lock_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `lock_class_mtx_spin`.
    SpinMutex,
    /// `lock_class_mtx_sleep`.
    SleepMutex,
    /// `lock_class_sx`.
    Sx,
}

impl Class {
    /// `lc_name`.
    pub fn name(self) -> &'static str {
        match self {
            Class::SpinMutex => "spin mutex",
            Class::SleepMutex => "sleep mutex",
            Class::Sx => "sx",
        }
    }
    /// Index in `lock_classes[]` (subr_lock.c).
    pub fn index(self) -> u32 {
        match self {
            Class::SpinMutex => 0,
            Class::SleepMutex => 1,
            Class::Sx => 2,
        }
    }
}

/// What the host knows about an initialised lock.
#[derive(Debug, Clone)]
pub struct LockRec {
    /// `lo_name`.
    pub name: String,
    /// WITNESS name: the `type` argument, or the name.
    pub wname: String,
    /// Class.
    pub class: Class,
    /// `LO_*` flags given at init.
    pub flags: u32,
}

impl LockRec {
    /// May recurse.
    pub fn recursable(&self) -> bool {
        self.flags & LO_RECURSABLE != 0
    }
    /// May be held while sleeping.
    pub fn sleepable(&self) -> bool {
        self.flags & LO_SLEEPABLE != 0
    }
    /// Watched by WITNESS.
    pub fn witness(&self) -> bool {
        self.flags & LO_WITNESS != 0
    }
}

/// Read the lock word of `lo`.
pub fn word(lo: usize) -> usize {
    // SAFETY: lo is a struct lock_object embedded in a mutex or sx (32 bytes) in module memory.
    unsafe { ((lo + WORD) as *const usize).read_volatile() }
}

/// Write the lock word of `lo`.
pub fn set_word(lo: usize, v: usize) {
    // SAFETY: as in word().
    unsafe { ((lo + WORD) as *mut usize).write_volatile(v) }
}

/// `lo_data` (recursion count of mutexes and sx locks).
pub fn lo_data(lo: usize) -> u32 {
    // SAFETY: lo_data is at offset 12 of the lock object.
    unsafe { ((lo + 12) as *const u32).read_volatile() }
}

/// Set `lo_data`.
pub fn set_lo_data(lo: usize, v: u32) {
    // SAFETY: as in lo_data().
    unsafe { ((lo + 12) as *mut u32).write_volatile(v) }
}

fn lo_flags(lo: usize) -> u32 {
    // SAFETY: lo_flags is at offset 8 of the lock object.
    unsafe { ((lo + 8) as *const u32).read_volatile() }
}

/// `lock_init(lock, class, name, type, flags)`.
pub fn lock_init(lo: usize, class: Class, name: usize, type_: usize, flags: u32, caller: usize) {
    // SAFETY: name/type are NULL or C strings of the module.
    let (n, t) = unsafe { (super::cstr(name), if type_ != 0 { Some(super::cstr(type_)) } else { None }) };
    if flags & LO_NEW == 0 && lo_flags(lo) & LO_INITIALIZED != 0 {
        kernel_panic(format!("lock \"{n}\" {lo:#x} already initialized"), caller);
    }
    // SAFETY: writing lo_name/lo_flags/lo_data/lo_witness of the module's lock object.
    unsafe {
        (lo as *mut usize).write(name);
        ((lo + 8) as *mut u32).write((class.index() << LO_CLASSSHIFT) | flags | LO_INITIALIZED);
        ((lo + 12) as *mut u32).write(0);
        ((lo + 16) as *mut usize).write(0);
    }
    sched().locks.insert(lo, LockRec { wname: t.unwrap_or_else(|| n.clone()), name: n, class, flags });
}

/// `lock_destroy(lock)`.
pub fn lock_destroy(lo: usize) {
    // SAFETY: clearing LO_INITIALIZED in the module's lock object.
    unsafe { ((lo + 8) as *mut u32).write(lo_flags(lo) & !LO_INITIALIZED) };
    sched().locks.remove(&lo);
}

/// The record of an initialised lock.
pub fn rec(lo: usize) -> Option<LockRec> {
    sched().locks.get(&lo).cloned()
}

/// Owning thread (`struct thread *`) of an exclusively held lock.
pub fn owner_of(lo: usize) -> Option<usize> {
    let r = rec(lo)?;
    let w = word(lo);
    match r.class {
        Class::Sx if w & super::kern_sx::SX_LOCK_SHARED != 0 => None,
        Class::Sx => Some(w & !super::kern_sx::SX_LOCK_FLAGMASK).filter(|&o| o != 0),
        _ => Some(w & !super::kern_mutex::MTX_FLAGMASK).filter(|&o| o != 0),
    }
}

/// `lc_unlock`: release an interlock before sleeping; returns whether it was exclusive.
pub fn class_unlock(lo: usize, caller: usize) -> bool {
    let Some(r) = rec(lo) else {
        kernel_panic(format!("sleep interlock {lo:#x} is not an initialized lock"), caller)
    };
    // unlock_mtx()/unlock_sx(): the interlock must be held exactly once
    // (mtx_assert(m, MA_OWNED | MA_NOTRECURSED), sx_assert(sx, SA_LOCKED | SA_NOTRECURSED)).
    if lo_data(lo) != 0 {
        let what = if r.class == Class::Sx { format!("Lock {} recursed", r.name) } else { format!("mutex {} recursed", r.name) };
        kernel_panic(
            format!("{what} at kern_synch.c (sleeping with a recursed interlock)\n  offending call at {}\n", super::subr_witness::sym(caller)),
            caller,
        );
    }
    match r.class {
        Class::SleepMutex | Class::SpinMutex => {
            super::kern_mutex::unlock(lo, 0, "kern_synch.c".into(), 0, caller, r.class == Class::SpinMutex);
            true
        }
        Class::Sx => {
            let w = word(lo);
            if w & super::kern_sx::SX_LOCK_SHARED != 0 {
                super::kern_sx::sunlock(lo, "kern_synch.c".into(), 0, caller);
                false
            } else {
                super::kern_sx::xunlock(lo, "kern_synch.c".into(), 0, caller);
                true
            }
        }
    }
}

/// `lc_lock`: take an interlock back after sleeping.
pub fn class_lock(lo: usize, exclusive: bool, file: String, line: i32, caller: usize) {
    let Some(r) = rec(lo) else { kernel_panic(format!("sleep interlock {lo:#x} was destroyed while sleeping"), caller) };
    match r.class {
        Class::SleepMutex => super::kern_mutex::lock(lo, 0, file, line, caller, false),
        Class::SpinMutex => super::kern_mutex::lock(lo, 0, file, line, caller, true),
        Class::Sx if exclusive => super::kern_sx::xlock(lo, file, line, caller),
        Class::Sx => super::kern_sx::slock(lo, file, line, caller),
    }
}

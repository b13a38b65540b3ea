//! sx(9) shared/exclusive locks (`sys/kern/kern_sx.c`, `sys/sys/sx.h`, `sys/sys/_sx.h`).
//!
//! `struct sx` (32 bytes) = `struct lock_object` + `volatile uintptr_t sx_lock`. The lock
//! word is `SX_LOCK_UNLOCKED` (`SX_SHARERS_LOCK(0)` = 0x1), `SX_SHARERS_LOCK(n)` (`n << 5 |
//! SX_LOCK_SHARED`) while share-locked, the owner's `struct thread *` while exclusively
//! locked (`| SX_LOCK_RECURSED` while recursed, depth in `sx_recurse` = `lo_data`), or
//! `SX_LOCK_DESTROYED` (0x6), so `sx_xlocked()`/`sx_xholder()` work in module code.
//! sx locks are sleepable (`sx_init_flags` sets `LO_SLEEPABLE | LO_UPGRADABLE`): they may be
//! held across sleeps. `sx_destroy` asserts `sx lock still held` / `sx lock still
//! recursed`. `SX_INTERRUPTIBLE` waits are never interrupted (no signals in the simulator).

use super::kern_switch::{Wait, block, preempt, sched};
use super::panic::kernel_panic;
use super::subr_lock::{self, Class, LO_DUPOK, LO_NEW, LO_NOPROFILE, LO_QUIET, LO_RECURSABLE, LO_SLEEPABLE, LO_UPGRADABLE, LO_WITNESS};
use super::subr_witness::{self as witness, caller, caller_shim, file_arg, sym};
use crate::ksyms::KsymDef;

/// `SX_LOCK_SHARED`.
pub const SX_LOCK_SHARED: usize = 0x01;
/// `SX_LOCK_RECURSED`.
pub const SX_LOCK_RECURSED: usize = 0x10;
/// `SX_LOCK_FLAGMASK` (shared | both waiter bits | write spinner | recursed).
pub const SX_LOCK_FLAGMASK: usize = 0x01 | 0x02 | 0x04 | 0x08 | 0x10;
/// `SX_SHARERS_SHIFT`.
pub const SX_SHARERS_SHIFT: usize = 5;
/// `SX_ONE_SHARER`.
pub const SX_ONE_SHARER: usize = 1 << SX_SHARERS_SHIFT;
/// `SX_LOCK_UNLOCKED`.
pub const SX_LOCK_UNLOCKED: usize = SX_LOCK_SHARED;
/// `SX_LOCK_DESTROYED` (both waiter bits).
pub const SX_LOCK_DESTROYED: usize = 0x02 | 0x04;
/// `SX_DUPOK`, `SX_NOPROFILE`, `SX_NOWITNESS`, `SX_QUIET`, `SX_RECURSE`, `SX_NEW`.
pub const SX_DUPOK: i32 = 0x01;
const SX_NOPROFILE: i32 = 0x02;
const SX_NOWITNESS: i32 = 0x04;
const SX_QUIET: i32 = 0x08;
const SX_RECURSE: i32 = 0x20;
const SX_NEW: i32 = 0x40;
/// `SA_LOCKED`, `SA_SLOCKED`, `SA_XLOCKED`, `SA_RECURSED`, `SA_NOTRECURSED` (LA_*).
const SA_LOCKED: i32 = 0x1;
const SA_SLOCKED: i32 = 0x2;
const SA_XLOCKED: i32 = 0x4;
const SA_RECURSED: i32 = 0x8;
const SA_NOTRECURSED: i32 = 0x10;

fn check(lo: usize, what: &str, file: &str, line: i32, caller: usize) -> subr_lock::LockRec {
    if subr_lock::word(lo) == SX_LOCK_DESTROYED {
        kernel_panic(format!("{what}() of destroyed sx @ {file}:{line}"), caller);
    }
    match subr_lock::rec(lo) {
        Some(r) if r.class == Class::Sx => r,
        _ => kernel_panic(format!("{what}() of uninitialized sx {lo:#x} @ {file}:{line} (sx_init was not called)"), caller),
    }
}

/// Exclusive lock.
pub fn xlock(lo: usize, file: String, line: i32, caller: usize) {
    preempt();
    let r = check(lo, "sx_xlock", &file, line, caller);
    witness::checkorder(lo, &file, line, caller);
    loop {
        let td = sched().curthread();
        let v = subr_lock::word(lo);
        if v == SX_LOCK_UNLOCKED {
            subr_lock::set_word(lo, td);
            break;
        }
        if v & SX_LOCK_SHARED == 0 && v & !SX_LOCK_FLAGMASK == td {
            if !r.recursable() {
                witness::lock(lo, true, file.clone(), line, caller);
            }
            subr_lock::set_lo_data(lo, subr_lock::lo_data(lo) + 1);
            subr_lock::set_word(lo, v | SX_LOCK_RECURSED);
            break;
        }
        if v & SX_LOCK_SHARED != 0 && witness::held(lo).is_some() {
            kernel_panic(format!("exclusive lock of (sx) {} @ {file}:{line}\nwhile share locked\n  offending call at {}\n", r.name, sym(caller)), caller);
        }
        block(Wait { chan: lo, wmesg: r.name.clone(), deadline: None, caller, on_lock: true, seq: 0, pri: 0 });
    }
    witness::lock(lo, true, file, line, caller);
}

/// Exclusive unlock.
pub fn xunlock(lo: usize, file: String, line: i32, caller: usize) {
    preempt();
    let r = check(lo, "sx_xunlock", &file, line, caller);
    witness::unlock(lo, &file, line, caller);
    let td = sched().curthread();
    let v = subr_lock::word(lo);
    if v & SX_LOCK_SHARED != 0 || v & !SX_LOCK_FLAGMASK != td {
        kernel_panic(format!("Lock {} not exclusively locked @ {file}:{line}", r.name), caller);
    }
    let depth = subr_lock::lo_data(lo);
    if depth > 0 {
        subr_lock::set_lo_data(lo, depth - 1);
        if depth == 1 {
            subr_lock::set_word(lo, v & !SX_LOCK_RECURSED);
        }
    } else {
        subr_lock::set_word(lo, SX_LOCK_UNLOCKED);
        sched().wake_chan(lo, true, false);
    }
    preempt();
}

/// Shared lock.
pub fn slock(lo: usize, file: String, line: i32, caller: usize) {
    preempt();
    let r = check(lo, "sx_slock", &file, line, caller);
    if let Some(h) = witness::held(lo)
        && h.exclusive
    {
        kernel_panic(format!("shared lock of (sx) {} @ {file}:{line}\nwhile exclusively locked from {}:{}\n  offending call at {}\n", r.name, h.file, h.line, sym(caller)), caller);
    }
    witness::checkorder(lo, &file, line, caller);
    loop {
        let v = subr_lock::word(lo);
        if v & SX_LOCK_SHARED != 0 {
            subr_lock::set_word(lo, v + SX_ONE_SHARER);
            break;
        }
        block(Wait { chan: lo, wmesg: r.name.clone(), deadline: None, caller, on_lock: true, seq: 0, pri: 0 });
    }
    witness::lock(lo, false, file, line, caller);
}

/// Shared unlock.
pub fn sunlock(lo: usize, file: String, line: i32, caller: usize) {
    preempt();
    let r = check(lo, "sx_sunlock", &file, line, caller);
    witness::unlock(lo, &file, line, caller);
    let v = subr_lock::word(lo);
    if v & SX_LOCK_SHARED == 0 || v >> SX_SHARERS_SHIFT == 0 {
        kernel_panic(format!("Lock {} not share locked @ {file}:{line}", r.name), caller);
    }
    let n = v - SX_ONE_SHARER;
    subr_lock::set_word(lo, n);
    if n == SX_LOCK_UNLOCKED {
        sched().wake_chan(lo, true, false);
    }
    preempt();
}

extern "C" fn k_sx_init_flags(sx: usize, desc: usize, opts: i32) {
    let caller = caller();
    let mut flags = LO_SLEEPABLE | LO_UPGRADABLE;
    if opts & SX_DUPOK != 0 {
        flags |= LO_DUPOK;
    }
    if opts & SX_NOPROFILE != 0 {
        flags |= LO_NOPROFILE;
    }
    if opts & SX_NOWITNESS == 0 {
        flags |= LO_WITNESS;
    }
    if opts & SX_RECURSE != 0 {
        flags |= LO_RECURSABLE;
    }
    if opts & SX_QUIET != 0 {
        flags |= LO_QUIET;
    }
    if opts & SX_NEW != 0 {
        flags |= LO_NEW;
    }
    subr_lock::lock_init(sx, Class::Sx, desc, 0, flags, caller);
    subr_lock::set_word(sx, SX_LOCK_UNLOCKED);
}

extern "C" fn k_sx_destroy(sx: usize) {
    let caller = caller();
    let name = subr_lock::rec(sx).map(|r| r.name).unwrap_or_default();
    if subr_lock::word(sx) != SX_LOCK_UNLOCKED {
        kernel_panic(format!("sx lock still held (sx_destroy of \"{name}\")\n  offending call at {}\n", sym(caller)), caller);
    }
    if subr_lock::lo_data(sx) != 0 {
        kernel_panic(format!("sx lock still recursed (sx_destroy of \"{name}\")\n  offending call at {}\n", sym(caller)), caller);
    }
    subr_lock::set_word(sx, SX_LOCK_DESTROYED);
    subr_lock::lock_destroy(sx);
}

extern "C" fn k_sx_xlock(sx: usize, _opts: i32, file: usize, line: i32) -> i32 {
    let caller = caller();
    xlock(sx, file_arg(file), line, caller);
    0
}

extern "C" fn k_sx_xunlock(sx: usize, file: usize, line: i32) {
    let caller = caller();
    xunlock(sx, file_arg(file), line, caller);
}

extern "C" fn k_sx_slock(sx: usize, _opts: i32, file: usize, line: i32) -> i32 {
    let caller = caller();
    slock(sx, file_arg(file), line, caller);
    0
}

extern "C" fn k_sx_sunlock(sx: usize, file: usize, line: i32) {
    let caller = caller();
    sunlock(sx, file_arg(file), line, caller);
}

extern "C" fn k_sx_try_xlock(sx: usize, file: usize, line: i32) -> i32 {
    let caller = caller();
    preempt();
    let file = file_arg(file);
    let r = check(sx, "sx_try_xlock", &file, line, caller);
    let td = sched().curthread();
    let v = subr_lock::word(sx);
    if v == SX_LOCK_UNLOCKED {
        subr_lock::set_word(sx, td);
    } else if v & SX_LOCK_SHARED == 0 && v & !SX_LOCK_FLAGMASK == td && r.recursable() {
        subr_lock::set_lo_data(sx, subr_lock::lo_data(sx) + 1);
        subr_lock::set_word(sx, v | SX_LOCK_RECURSED);
    } else {
        return 0;
    }
    witness::lock(sx, true, file, line, caller);
    1
}

extern "C" fn k_sx_try_slock(sx: usize, file: usize, line: i32) -> i32 {
    let caller = caller();
    preempt();
    let file = file_arg(file);
    check(sx, "sx_try_slock", &file, line, caller);
    let v = subr_lock::word(sx);
    if v & SX_LOCK_SHARED == 0 {
        return 0;
    }
    subr_lock::set_word(sx, v + SX_ONE_SHARER);
    witness::lock(sx, false, file, line, caller);
    1
}

extern "C" fn k_sx_assert(sx: usize, what: i32, file: usize, line: i32) {
    let caller = caller();
    let file = file_arg(file);
    let name = subr_lock::rec(sx).map(|r| r.name).unwrap_or_else(|| "(uninitialized)".into());
    let td = sched().curthread();
    let v = subr_lock::word(sx);
    let xlocked = v & SX_LOCK_SHARED == 0 && v != SX_LOCK_DESTROYED && v & !SX_LOCK_FLAGMASK == td;
    let held = witness::held(sx);
    let fail = |m: String| -> ! { kernel_panic(format!("{m}\n  offending call at {}\n", sym(caller)), caller) };
    let base = what & !(SA_RECURSED | SA_NOTRECURSED);
    match base {
        SA_XLOCKED => {
            if !xlocked {
                fail(format!("Lock {name} not exclusively locked @ {file}:{line}"));
            }
            let rec = subr_lock::lo_data(sx) != 0;
            if rec && what & SA_NOTRECURSED != 0 {
                fail(format!("Lock {name} recursed @ {file}:{line}"));
            } else if !rec && what & SA_RECURSED != 0 {
                fail(format!("Lock {name} not recursed @ {file}:{line}"));
            }
        }
        SA_LOCKED | SA_SLOCKED => {
            if held.is_none() {
                fail(format!("Lock {name} not locked @ {file}:{line}"));
            }
            if base == SA_SLOCKED && xlocked {
                fail(format!("Lock {name} exclusively locked @ {file}:{line}"));
            }
        }
        0 => {
            if xlocked {
                fail(format!("Lock {name} exclusively locked @ {file}:{line}"));
            }
            if held.is_some() {
                fail(format!("Lock {name} share locked @ {file}:{line}"));
            }
        }
        _ => fail(format!("Unknown sx lock assertion: {what} @ {file}:{line}")),
    }
}

/// `sx_sysinit(arg)` (the SYSINIT of `SX_SYSINIT`): `struct sx_args { struct sx *sa_sx;
/// const char *sa_desc; int sa_flags; }` -> `sx_init_flags(sa_sx, sa_desc, sa_flags)`.
extern "C" fn k_sx_sysinit(args: usize) {
    // SAFETY: args is the module's struct sx_args (sys/sys/sx.h).
    let (sx, desc, flags) = unsafe { ((args as *const usize).read(), ((args + 8) as *const usize).read(), ((args + 16) as *const i32).read()) };
    k_sx_init_flags(sx, desc, flags);
}

caller_shim!(sim_sx_init_flags, k_sx_init_flags);
caller_shim!(sim_sx_sysinit, k_sx_sysinit);
caller_shim!(sim_sx_destroy, k_sx_destroy);
caller_shim!(sim_sx_xlock, k_sx_xlock);
caller_shim!(sim_sx_xunlock, k_sx_xunlock);
caller_shim!(sim_sx_slock, k_sx_slock);
caller_shim!(sim_sx_sunlock, k_sx_sunlock);
caller_shim!(sim_sx_try_xlock, k_sx_try_xlock);
caller_shim!(sim_sx_try_slock, k_sx_try_slock);
caller_shim!(sim_sx_assert, k_sx_assert);

/// Register the sx KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("sx_init_flags", sim_sx_init_flags as *const () as usize));
    v.push(KsymDef::function("sx_sysinit", sim_sx_sysinit as *const () as usize));
    v.push(KsymDef::function("sx_destroy", sim_sx_destroy as *const () as usize));
    v.push(KsymDef::function("_sx_xlock", sim_sx_xlock as *const () as usize));
    v.push(KsymDef::function("_sx_xunlock", sim_sx_xunlock as *const () as usize));
    v.push(KsymDef::function("_sx_slock", sim_sx_slock as *const () as usize));
    v.push(KsymDef::function("_sx_sunlock", sim_sx_sunlock as *const () as usize));
    v.push(KsymDef::function("sx_try_xlock_", sim_sx_try_xlock as *const () as usize));
    v.push(KsymDef::function("sx_try_slock_", sim_sx_try_slock as *const () as usize));
    v.push(KsymDef::function("_sx_assert", sim_sx_assert as *const () as usize));
}

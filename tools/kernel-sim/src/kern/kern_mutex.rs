//! mutex(9) (`sys/kern/kern_mutex.c`, `sys/sys/mutex.h`, `sys/sys/_mutex.h`).
//!
//! `struct mtx` (32 bytes) = `struct lock_object` + `volatile uintptr_t mtx_lock`. Under
//! `KLD_MODULE` the header macros call the functions below with `&m->mtx_lock` (`c`), so the
//! mutex is `c - 24`. The lock word holds `MTX_UNOWNED` (0), the owner's `struct thread *`
//! (`| MTX_RECURSED` while recursed, the depth in `mtx_recurse` = `lo_data`) or
//! `MTX_DESTROYED` (4), exactly like the kernel, so `mtx_owned(m)` (`(m->mtx_lock &
//! ~MTX_FLAGMASK) == curthread`) and `mtx_recursed(m)` work in module code.
//!
//! * `_mtx_init(c, name, type, opts)`: `MTX_SPIN` selects the spin class; `MTX_RECURSE` ->
//!   `LO_RECURSABLE`, `MTX_NOWITNESS` clears `LO_WITNESS`, `MTX_DUPOK`, `MTX_QUIET`,
//!   `MTX_NOPROFILE`, `MTX_NEW` like `_mtx_init()`.
//! * `__mtx_lock_flags`/`__mtx_unlock_flags` (sleep mutexes) and `__mtx_lock_spin_flags`/
//!   `__mtx_unlock_spin_flags` (spin mutexes, which also enter a critical section: no
//!   preemption and no sleeping inside), with the KASSERTs `mtx_lock() of destroyed mutex @
//!   %s:%d`, `mtx_lock() of spin mutex %s @ %s:%d`, `mtx_lock_spin() of sleep mutex %s @
//!   %s:%d`, and WITNESS checks (subr_witness.rs). A contested sleep mutex blocks the thread
//!   (turnstile) until the owner releases it; a release wakes every waiter to contend again.
//! * `_mtx_trylock_flags_`: 1 when acquired (recursing only when recursable), else 0.
//! * `__mtx_assert` (INVARIANTS): `mutex %s not owned at %s:%d`, `mutex %s owned at %s:%d`,
//!   `mutex %s recursed at %s:%d`, `mutex %s unrecursed at %s:%d`.
//! * `_mtx_destroy`: a mutex owned by another thread fails `MPASS(mtx_unowned(m))`; one
//!   owned by the caller must not be recursed nor contested (`MPASS((m->mtx_lock &
//!   (MTX_RECURSED|MTX_CONTESTED)) == 0)`), then it is unlocked for WITNESS and destroyed.

use super::kern_switch::{Wait, block, preempt, sched};
use super::panic::kernel_panic;
use super::subr_lock::{self, Class, LO_DUPOK, LO_NEW, LO_NOPROFILE, LO_QUIET, LO_RECURSABLE, LO_WITNESS};
use super::subr_witness::{self as witness, caller, caller_shim, file_arg, sym};
use crate::ksyms::KsymDef;

/// `MTX_SPIN` (sys/sys/mutex.h).
pub const MTX_SPIN: i32 = 0x1;
/// `MTX_RECURSE`.
pub const MTX_RECURSE: i32 = 0x4;
/// `MTX_NOWITNESS`.
pub const MTX_NOWITNESS: i32 = 0x8;
/// `MTX_NOPROFILE`.
pub const MTX_NOPROFILE: i32 = 0x20;
/// `MTX_NEW`.
pub const MTX_NEW: i32 = 0x40;
/// `MTX_QUIET` (= `LOP_QUIET`, sys/sys/lock.h).
pub const MTX_QUIET: i32 = 0x2;
/// `MTX_DUPOK` (= `LOP_DUPOK`).
pub const MTX_DUPOK: i32 = 0x10;
/// `MTX_UNOWNED`.
pub const MTX_UNOWNED: usize = 0;
/// `MTX_RECURSED`.
pub const MTX_RECURSED: usize = 0x1;
/// `MTX_CONTESTED`.
pub const MTX_CONTESTED: usize = 0x2;
/// `MTX_DESTROYED`.
pub const MTX_DESTROYED: usize = 0x4;
/// `MTX_FLAGMASK`.
pub const MTX_FLAGMASK: usize = MTX_RECURSED | MTX_CONTESTED | MTX_DESTROYED;
/// `MA_OWNED` (= `LA_XLOCKED`).
pub const MA_OWNED: i32 = 0x4;
/// `MA_NOTOWNED` (= `LA_UNLOCKED`).
pub const MA_NOTOWNED: i32 = 0x0;
/// `MA_RECURSED` (= `LA_RECURSED`).
pub const MA_RECURSED: i32 = 0x8;
/// `MA_NOTRECURSED` (= `LA_NOTRECURSED`).
pub const MA_NOTRECURSED: i32 = 0x10;

fn lo_of(c: usize) -> usize {
    c - subr_lock::WORD
}

fn check_class(lo: usize, spin: bool, what: &str, file: &str, line: i32, caller: usize) -> subr_lock::LockRec {
    if subr_lock::word(lo) == MTX_DESTROYED {
        kernel_panic(format!("{what}() of destroyed mutex @ {file}:{line}"), caller);
    }
    let Some(r) = subr_lock::rec(lo) else {
        kernel_panic(format!("{what}() of uninitialized mutex {lo:#x} @ {file}:{line} (mtx_init was not called)"), caller)
    };
    if spin && r.class != Class::SpinMutex {
        kernel_panic(format!("mtx_lock_spin() of sleep mutex {} @ {file}:{line}", r.name), caller);
    }
    if !spin && r.class != Class::SleepMutex {
        kernel_panic(format!("{what}() of spin mutex {} @ {file}:{line}", r.name), caller);
    }
    r
}

/// Acquire mutex `lo` (`struct lock_object *`) for the running thread.
pub fn lock(lo: usize, opts: i32, file: String, line: i32, caller: usize, spin: bool) {
    preempt();
    let r = check_class(lo, spin, if spin { "mtx_lock_spin" } else { "mtx_lock" }, &file, line, caller);
    if spin {
        sched().current_mut().crit += 1;
    }
    witness::checkorder(lo, &file, line, caller);
    loop {
        let td = sched().curthread();
        let v = subr_lock::word(lo);
        if v == MTX_UNOWNED {
            subr_lock::set_word(lo, td);
            break;
        }
        if v & !MTX_FLAGMASK == td {
            // witness_lock reports the recursion of a non-recursive lock first.
            if opts & MTX_RECURSE == 0 && !r.recursable() {
                witness::lock(lo, true, file.clone(), line, caller);
            }
            subr_lock::set_lo_data(lo, subr_lock::lo_data(lo) + 1);
            subr_lock::set_word(lo, v | MTX_RECURSED);
            break;
        }
        block(Wait { chan: lo, wmesg: r.name.clone(), deadline: None, caller, on_lock: true, seq: 0, pri: 0 });
    }
    witness::lock(lo, true, file, line, caller);
}

/// Release mutex `lo`.
pub fn unlock(lo: usize, _opts: i32, file: String, line: i32, caller: usize, spin: bool) {
    preempt();
    check_class(lo, spin, if spin { "mtx_unlock_spin" } else { "mtx_unlock" }, &file, line, caller);
    witness::unlock(lo, &file, line, caller);
    let td = sched().curthread();
    let v = subr_lock::word(lo);
    if v & !MTX_FLAGMASK != td {
        kernel_panic(format!("mutex {} not owned at {file}:{line}", subr_lock::rec(lo).map(|r| r.name).unwrap_or_default()), caller);
    }
    let depth = subr_lock::lo_data(lo);
    if depth > 0 {
        subr_lock::set_lo_data(lo, depth - 1);
        if depth == 1 {
            subr_lock::set_word(lo, v & !MTX_RECURSED);
        }
    } else {
        subr_lock::set_word(lo, MTX_UNOWNED);
        sched().wake_chan(lo, true, false);
    }
    if spin {
        let cur = sched().current_mut();
        cur.crit = cur.crit.saturating_sub(1);
    }
    preempt();
}

extern "C" fn k_mtx_init(c: usize, name: usize, type_: usize, opts: i32) {
    let caller = caller();
    let class = if opts & MTX_SPIN != 0 { Class::SpinMutex } else { Class::SleepMutex };
    let mut flags = 0;
    if opts & MTX_QUIET != 0 {
        flags |= LO_QUIET;
    }
    if opts & MTX_RECURSE != 0 {
        flags |= LO_RECURSABLE;
    }
    if opts & MTX_NOWITNESS == 0 {
        flags |= LO_WITNESS;
    }
    if opts & MTX_DUPOK != 0 {
        flags |= LO_DUPOK;
    }
    if opts & MTX_NOPROFILE != 0 {
        flags |= LO_NOPROFILE;
    }
    if opts & MTX_NEW != 0 {
        flags |= LO_NEW;
    }
    let lo = lo_of(c);
    subr_lock::lock_init(lo, class, name, type_, flags, caller);
    subr_lock::set_word(lo, MTX_UNOWNED);
}

extern "C" fn k_mtx_destroy(c: usize) {
    let caller = caller();
    let lo = lo_of(c);
    let td = sched().curthread();
    let v = subr_lock::word(lo);
    let rec = subr_lock::rec(lo);
    if v & !MTX_FLAGMASK != td || v == MTX_DESTROYED || v == MTX_UNOWNED {
        if v != MTX_UNOWNED && v != MTX_DESTROYED {
            let name = rec.map(|r| r.name).unwrap_or_default();
            kernel_panic(
                format!("Assertion mtx_unowned(m) failed at kern/kern_mutex.c (mtx_destroy of \"{name}\" held by another thread)\n  offending call at {}\n", sym(caller)),
                caller,
            );
        }
    } else {
        let contested = sched().has_waiters(lo, true);
        if v & MTX_RECURSED != 0 || contested {
            let name = rec.as_ref().map(|r| r.name.clone()).unwrap_or_default();
            kernel_panic(
                format!(
                    "Assertion (m->mtx_lock & (MTX_RECURSED|MTX_CONTESTED)) == 0 failed at kern/kern_mutex.c (mtx_destroy of \"{name}\" {})\n  offending call at {}\n",
                    if contested { "with waiters" } else { "recursed" },
                    sym(caller)
                ),
                caller,
            );
        }
        if rec.as_ref().is_some_and(|r| r.class == Class::SpinMutex) {
            let cur = sched().current_mut();
            cur.crit = cur.crit.saturating_sub(1);
        }
        witness::unlock(lo, "kern_mutex.c", 0, caller);
    }
    subr_lock::set_word(lo, MTX_DESTROYED);
    subr_lock::lock_destroy(lo);
}

extern "C" fn k_mtx_lock_flags(c: usize, opts: i32, file: usize, line: i32) {
    let caller = caller();
    lock(lo_of(c), opts, file_arg(file), line, caller, false);
}

extern "C" fn k_mtx_unlock_flags(c: usize, opts: i32, file: usize, line: i32) {
    let caller = caller();
    unlock(lo_of(c), opts, file_arg(file), line, caller, false);
}

extern "C" fn k_mtx_lock_spin_flags(c: usize, opts: i32, file: usize, line: i32) {
    let caller = caller();
    lock(lo_of(c), opts, file_arg(file), line, caller, true);
}

extern "C" fn k_mtx_unlock_spin_flags(c: usize, opts: i32, file: usize, line: i32) {
    let caller = caller();
    unlock(lo_of(c), opts, file_arg(file), line, caller, true);
}

fn trylock(c: usize, opts: i32, file: usize, line: i32, spin: bool) -> i32 {
    let caller = caller();
    preempt();
    let lo = lo_of(c);
    let file = file_arg(file);
    let r = check_class(lo, spin, if spin { "mtx_trylock_spin" } else { "mtx_trylock" }, &file, line, caller);
    let td = sched().curthread();
    let v = subr_lock::word(lo);
    if v & !MTX_FLAGMASK == td && v != MTX_UNOWNED && (r.recursable() || opts & MTX_RECURSE != 0) {
        subr_lock::set_lo_data(lo, subr_lock::lo_data(lo) + 1);
        subr_lock::set_word(lo, v | MTX_RECURSED);
    } else if v == MTX_UNOWNED {
        subr_lock::set_word(lo, td);
    } else {
        return 0;
    }
    if spin {
        sched().current_mut().crit += 1;
    }
    witness::lock(lo, true, file, line, caller);
    1
}

extern "C" fn k_mtx_trylock_flags(c: usize, opts: i32, file: usize, line: i32) -> i32 {
    trylock(c, opts, file, line, false)
}

extern "C" fn k_mtx_trylock_spin_flags(c: usize, opts: i32, file: usize, line: i32) -> i32 {
    trylock(c, opts, file, line, true)
}

extern "C" fn k_mtx_assert(c: usize, what: i32, file: usize, line: i32) {
    let caller = caller();
    let lo = lo_of(c);
    let file = file_arg(file);
    let name = subr_lock::rec(lo).map(|r| r.name).unwrap_or_else(|| "(uninitialized)".into());
    let td = sched().curthread();
    let v = subr_lock::word(lo);
    let owned = v != MTX_DESTROYED && v & !MTX_FLAGMASK == td;
    let recursed = subr_lock::lo_data(lo) != 0;
    let fail = |m: String| -> ! { kernel_panic(format!("{m}\n  offending call at {}\n", sym(caller)), caller) };
    match what {
        MA_OWNED | 0x0c | 0x14 => {
            if !owned {
                fail(format!("mutex {name} not owned at {file}:{line}"));
            }
            if recursed {
                if what & MA_NOTRECURSED != 0 {
                    fail(format!("mutex {name} recursed at {file}:{line}"));
                }
            } else if what & MA_RECURSED != 0 {
                fail(format!("mutex {name} unrecursed at {file}:{line}"));
            }
        }
        MA_NOTOWNED => {
            if owned {
                fail(format!("mutex {name} owned at {file}:{line}"));
            }
        }
        _ => fail(format!("unknown mtx_assert at {file}:{line}")),
    }
}

/// `mtx_sysinit(arg)` (the SYSINIT of `MTX_SYSINIT`): `struct mtx_args { void *ma_mtx;
/// const char *ma_desc; int ma_opts; }` -> `mtx_init(ma_mtx, ma_desc, NULL, ma_opts)`.
extern "C" fn k_mtx_sysinit(args: usize) {
    // SAFETY: args is the module's struct mtx_args (sys/sys/mutex.h).
    let (m, desc, opts) = unsafe { ((args as *const usize).read(), ((args + 8) as *const usize).read(), ((args + 16) as *const i32).read()) };
    k_mtx_init(m + subr_lock::WORD, desc, 0, opts);
}

caller_shim!(sim_mtx_init, k_mtx_init);
caller_shim!(sim_mtx_sysinit, k_mtx_sysinit);
caller_shim!(sim_mtx_destroy, k_mtx_destroy);
caller_shim!(sim_mtx_lock_flags, k_mtx_lock_flags);
caller_shim!(sim_mtx_unlock_flags, k_mtx_unlock_flags);
caller_shim!(sim_mtx_lock_spin_flags, k_mtx_lock_spin_flags);
caller_shim!(sim_mtx_unlock_spin_flags, k_mtx_unlock_spin_flags);
caller_shim!(sim_mtx_trylock_flags, k_mtx_trylock_flags);
caller_shim!(sim_mtx_trylock_spin_flags, k_mtx_trylock_spin_flags);
caller_shim!(sim_mtx_assert, k_mtx_assert);

/// Register the mutex KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("_mtx_init", sim_mtx_init as *const () as usize));
    v.push(KsymDef::function("mtx_sysinit", sim_mtx_sysinit as *const () as usize));
    v.push(KsymDef::function("_mtx_destroy", sim_mtx_destroy as *const () as usize));
    v.push(KsymDef::function("__mtx_lock_flags", sim_mtx_lock_flags as *const () as usize));
    v.push(KsymDef::function("__mtx_unlock_flags", sim_mtx_unlock_flags as *const () as usize));
    v.push(KsymDef::function("__mtx_lock_spin_flags", sim_mtx_lock_spin_flags as *const () as usize));
    v.push(KsymDef::function("__mtx_unlock_spin_flags", sim_mtx_unlock_spin_flags as *const () as usize));
    v.push(KsymDef::function("_mtx_trylock_flags_", sim_mtx_trylock_flags as *const () as usize));
    v.push(KsymDef::function("__mtx_trylock_spin_flags", sim_mtx_trylock_spin_flags as *const () as usize));
    v.push(KsymDef::function("__mtx_assert", sim_mtx_assert as *const () as usize));
}

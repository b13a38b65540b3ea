//! Condition variables (`sys/kern/kern_condvar.c`, `sys/sys/condvar.h`).
//!
//! `struct cv` (16 bytes): `const char *cv_description@0; int cv_waiters@8`. A wait
//! checks `WITNESS_WARN(WARN_GIANTOK | WARN_SLEEPOK, lock, "Waiting on \"%s\"",
//! cv_description)`, increments `cv_waiters`, releases the lock, sleeps on the cv and takes
//! the lock back (not for `cv_wait_unlock`). `cv_signal` wakes one waiter and
//! `cv_broadcastpri` all of them, only when `cv_waiters > 0` (decremented / zeroed as in the
//! kernel). Timed waits return `EWOULDBLOCK`; `*_sig` waits are never interrupted (no
//! signals in the simulator). `cv_destroy` (INVARIANTS) panics with `cv_destroy: associated
//! sleep queue non-empty` when a thread still waits.

use super::kern_switch::{Wait, Wake, commit_block, prepare_block, preempt, sched};
use super::panic::kernel_panic;
use super::subr_lock;
use super::subr_witness::{self as witness, caller, caller_shim, sym};
use super::kern_synch::{EWOULDBLOCK, deadline};
use crate::ksyms::KsymDef;

fn waiters(cv: usize) -> i32 {
    // SAFETY: cv_waiters at offset 8 of the module's struct cv.
    unsafe { ((cv + 8) as *const i32).read_volatile() }
}

fn set_waiters(cv: usize, n: i32) {
    // SAFETY: as above.
    unsafe { ((cv + 8) as *mut i32).write_volatile(n) }
}

fn wait(cv: usize, lock: usize, dl: Option<i64>, relock: bool, caller: usize) -> i32 {
    preempt();
    // SAFETY: cv_description is the module's C string.
    let desc = unsafe { super::cstr((cv as *const usize).read()) };
    witness::warn_sleep(lock, &format!("Waiting on \"{desc}\""), caller);
    set_waiters(cv, waiters(cv) + 1);
    prepare_block(Wait { chan: cv, wmesg: desc, deadline: dl, caller, on_lock: false, seq: 0, pri: 0 });
    let saved = if lock != 0 {
        let h = witness::held(lock);
        Some((subr_lock::class_unlock(lock, caller), h))
    } else {
        None
    };
    let w = commit_block();
    if let Some((excl, h)) = saved
        && relock
    {
        let (file, line, c) = h.as_ref().map(|h| (h.file.clone(), h.line, h.caller)).unwrap_or(("kern_condvar.c".into(), 0, caller));
        subr_lock::class_lock(lock, excl, file, line, c);
    }
    if w == Wake::Timeout { EWOULDBLOCK } else { 0 }
}

extern "C" fn k_cv_init(cv: usize, desc: usize) {
    // SAFETY: the module's struct cv.
    unsafe {
        (cv as *mut usize).write(desc);
    }
    set_waiters(cv, 0);
}

extern "C" fn k_cv_destroy(cv: usize) {
    let caller = caller();
    if sched().has_waiters(cv, false) {
        kernel_panic(format!("cv_destroy: associated sleep queue non-empty\n  offending call at {}\n", sym(caller)), caller);
    }
}

extern "C" fn k_cv_wait(cv: usize, lock: usize) {
    let caller = caller();
    wait(cv, lock, None, true, caller);
}

extern "C" fn k_cv_wait_unlock(cv: usize, lock: usize) {
    let caller = caller();
    wait(cv, lock, None, false, caller);
}

extern "C" fn k_cv_wait_sig(cv: usize, lock: usize) -> i32 {
    let caller = caller();
    wait(cv, lock, None, true, caller)
}

extern "C" fn k_cv_timedwait_sbt(cv: usize, lock: usize, sbt: i64, _pr: i64, flags: i32) -> i32 {
    let caller = caller();
    // Unlike _sleep (where 0 means "no timeout"), _cv_timedwait_sbt always arms the sleep
    // queue timeout: a zero or negative timeout expires at once.
    let dl = deadline(sbt, flags).or(Some(sched().now));
    wait(cv, lock, dl, true, caller)
}

extern "C" fn k_cv_signal(cv: usize) {
    preempt();
    let n = waiters(cv);
    if n > 0 {
        set_waiters(cv, n - 1);
        sched().wake_chan(cv, false, true);
    }
    preempt();
}

extern "C" fn k_cv_broadcastpri(cv: usize, _pri: i32) {
    preempt();
    if waiters(cv) > 0 {
        set_waiters(cv, 0);
        sched().wake_chan(cv, false, false);
    }
    preempt();
}

caller_shim!(sim_cv_destroy, k_cv_destroy);
caller_shim!(sim_cv_wait, k_cv_wait);
caller_shim!(sim_cv_wait_unlock, k_cv_wait_unlock);
caller_shim!(sim_cv_wait_sig, k_cv_wait_sig);
caller_shim!(sim_cv_timedwait_sbt, k_cv_timedwait_sbt);

/// Register the condition-variable KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("cv_init", k_cv_init as *const () as usize));
    v.push(KsymDef::function("cv_destroy", sim_cv_destroy as *const () as usize));
    v.push(KsymDef::function("_cv_wait", sim_cv_wait as *const () as usize));
    v.push(KsymDef::function("_cv_wait_unlock", sim_cv_wait_unlock as *const () as usize));
    v.push(KsymDef::function("_cv_wait_sig", sim_cv_wait_sig as *const () as usize));
    v.push(KsymDef::function("_cv_timedwait_sbt", sim_cv_timedwait_sbt as *const () as usize));
    v.push(KsymDef::function("_cv_timedwait_sig_sbt", sim_cv_timedwait_sbt as *const () as usize));
    v.push(KsymDef::function("cv_signal", k_cv_signal as *const () as usize));
    v.push(KsymDef::function("cv_broadcastpri", k_cv_broadcastpri as *const () as usize));
}

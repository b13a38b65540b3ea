//! Sleep and wakeup (`sys/kern/kern_synch.c`, `sys/sys/systm.h`, `sys/sys/param.h`).
//!
//! * `_sleep(chan, lock, pri, wmesg, sbt, pr, flags)` (behind `msleep`, `tsleep`,
//!   `sx_sleep`, `mtx_sleep`, `*_sbt`): `WITNESS_WARN(WARN_GIANTOK | WARN_SLEEPOK, lock,
//!   "Sleeping on \"%s\"", wmesg)` first; `PDROP` requires a lock (`PDROP requires a
//!   non-Giant lock`); the interlock is released while asleep and taken back unless `PDROP`;
//!   `sbt != 0` is a timeout (relative unless `C_ABSOLUTE`) that returns `EWOULDBLOCK`;
//!   `PCATCH` is accepted (no signals are ever delivered in the simulator, so it never
//!   returns `EINTR`/`ERESTART`). The priority (`pri & PRIMASK`) does not change the
//!   order in which the single simulated CPU runs threads.
//! * `msleep_spin_sbt` is `_sleep` with a spin-mutex interlock.
//! * `wakeup(chan)` wakes every thread asleep on `chan`; `wakeup_one`/`wakeup_any` the one
//!   that slept first.
//! * `pause_sbt(wmesg, sbt, pr, flags)`: a 0 timeout becomes one tick; sleeps on a private
//!   channel nobody wakes; returns `EWOULDBLOCK` (it is `_sleep(&pause_wchan[curcpu], NULL,
//!   ...)`).
//! * `kern_yield(prio)` switches to the other runnable threads (no WITNESS check);
//!   `maybe_yield()` is a preemption point only (the clock does not move while a thread runs).

use super::kern_clock::TICK_SBT;
use super::kern_switch::{Wait, Wake, block, commit_block, prepare_block, preempt, sched};
use super::panic::kernel_panic;
use super::subr_lock;
use super::subr_witness::{self as witness, caller, caller_shim, sym};
use crate::ksyms::KsymDef;

/// `PCATCH`.
pub const PCATCH: i32 = 0x100;
/// `PRIMASK`.
pub const PRIMASK: i32 = 0x0ff;
/// `PDROP`.
pub const PDROP: i32 = 0x200;
/// `EWOULDBLOCK` (= EAGAIN, sys/sys/errno.h).
pub const EWOULDBLOCK: i32 = 35;
/// `C_ABSOLUTE` (sys/sys/callout.h).
pub const C_ABSOLUTE: i32 = 0x0200;

static PAUSE_WCHAN: u8 = 0;

/// Deadline of a timed wait of `sbt` with callout `flags`, if any.
pub fn deadline(sbt: i64, flags: i32) -> Option<i64> {
    if sbt <= 0 {
        return None;
    }
    let now = sched().now;
    Some(if flags & C_ABSOLUTE != 0 { sbt } else { now + sbt })
}

/// Sleep on `chan` releasing interlock `lock` (0: none). Returns 0 or EWOULDBLOCK.
#[allow(clippy::too_many_arguments)]
pub fn sleep(chan: usize, lock: usize, pri: i32, wmesg: String, dl: Option<i64>, caller: usize, warn: &str) -> i32 {
    preempt();
    witness::warn_sleep(lock, warn, caller);
    if pri & PRIMASK != 0 {
        // _sleep(): `if (pri != 0) sched_prio(td, pri & PRIMASK)`.
        sched().current_mut().prio = pri & PRIMASK;
    }
    if pri & PDROP != 0 && lock == 0 {
        kernel_panic(format!("PDROP requires a non-Giant lock\n  offending call at {}\n", sym(caller)), caller);
    }
    prepare_block(Wait { chan, wmesg, deadline: dl, caller, on_lock: false, seq: 0, pri: 0 });
    let saved = if lock != 0 {
        let h = witness::held(lock);
        Some((subr_lock::class_unlock(lock, caller), h))
    } else {
        None
    };
    let w = commit_block();
    if let Some((excl, h)) = saved
        && pri & PDROP == 0
    {
        let (file, line, c) = h.as_ref().map(|h| (h.file.clone(), h.line, h.caller)).unwrap_or(("kern_synch.c".into(), 0, caller));
        subr_lock::class_lock(lock, excl, file, line, c);
    }
    if w == Wake::Timeout { EWOULDBLOCK } else { 0 }
}

extern "C" fn k_sleep(chan: usize, lock: usize, pri: i32, wmesg: usize, sbt: i64, _pr: i64, flags: i32) -> i32 {
    let caller = caller();
    // SAFETY: wmesg is the module's C string.
    let wmesg = unsafe { super::cstr(wmesg) };
    if chan == 0 {
        kernel_panic(format!("_sleep: NULL ident\n  offending call at {}\n", sym(caller)), caller);
    }
    let dl = deadline(sbt, flags);
    sleep(chan, lock, pri, wmesg.clone(), dl, caller, &format!("Sleeping on \"{wmesg}\""))
}

extern "C" fn k_msleep_spin_sbt(chan: usize, mtx: usize, wmesg: usize, sbt: i64, _pr: i64, flags: i32) -> i32 {
    let caller = caller();
    // SAFETY: wmesg is the module's C string.
    let wmesg = unsafe { super::cstr(wmesg) };
    let dl = deadline(sbt, flags);
    sleep(chan, mtx, 0, wmesg.clone(), dl, caller, &format!("Sleeping on \"{wmesg}\""))
}

extern "C" fn k_pause_sbt(wmesg: usize, sbt: i64, _pr: i64, flags: i32) -> i32 {
    let caller = caller();
    // SAFETY: wmesg is the module's C string.
    let wmesg = unsafe { super::cstr(wmesg) };
    let sbt = if sbt == 0 { TICK_SBT } else { sbt };
    let dl = deadline(sbt, flags);
    sleep(&PAUSE_WCHAN as *const u8 as usize, 0, 0, wmesg.clone(), dl, caller, &format!("Sleeping on \"{wmesg}\""))
}

/// `wakeup(chan)` from host code.
pub fn wakeup_chan(chan: usize, one: bool) {
    preempt();
    sched().wake_chan(chan, false, one);
    preempt();
}

extern "C" fn k_wakeup(chan: usize) {
    wakeup_chan(chan, false);
}

extern "C" fn k_wakeup_one(chan: usize) {
    wakeup_chan(chan, true);
}

/// `kern_yield(prio)`: give the CPU to the other runnable threads (`mi_switch(SW_VOL |
/// SWT_RELINQUISH)`); no WITNESS check, locks may be held.
extern "C" fn k_kern_yield(prio: i32) {
    if prio >= 0 {
        sched().current_mut().prio = prio;
    }
    super::kern_switch::yield_now();
}

/// `maybe_yield()`: `kern_yield` when `should_yield()` (the thread ran `hogticks`); the
/// simulated clock does not move while a thread runs, so only a seeded schedule may switch.
extern "C" fn k_maybe_yield() {
    preempt();
}

static KMEM_WCHAN: u8 = 0;

/// malloc(9) `M_WAITOK` that must wait for kmem (called by kern/malloc.rs): the thread
/// sleeps like `vm_wait_domain()` (`"vmwait"`, `sys/vm/vm_page.c`) until a free
/// ([`kmem_freed`]). Returns `false` without sleeping when no other thread could ever run
/// to free memory (malloc.rs then reports the deadlock in its own words).
pub fn sleep_for_kmem() -> bool {
    let Some(s) = super::kern_switch::try_sched() else { return false };
    if !s.could_progress() {
        return false;
    }
    let caller = 0;
    block(Wait { chan: &KMEM_WCHAN as *const u8 as usize, wmesg: "vmwait".into(), deadline: None, caller, on_lock: false, seq: 0, pri: 0 });
    true
}

/// Memory went back to the kmem arena: wake the `M_WAITOK` allocations waiting for it.
pub fn kmem_freed() {
    if let Some(s) = super::kern_switch::try_sched() {
        s.wake_chan(&KMEM_WCHAN as *const u8 as usize, false, false);
    }
}

caller_shim!(sim_sleep, k_sleep);
caller_shim!(sim_msleep_spin_sbt, k_msleep_spin_sbt);
caller_shim!(sim_pause_sbt, k_pause_sbt);

/// Register sleep/wakeup.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("_sleep", sim_sleep as *const () as usize));
    v.push(KsymDef::function("msleep_spin_sbt", sim_msleep_spin_sbt as *const () as usize));
    v.push(KsymDef::function("pause_sbt", sim_pause_sbt as *const () as usize));
    v.push(KsymDef::function("kern_yield", k_kern_yield as *const () as usize));
    v.push(KsymDef::function("maybe_yield", k_maybe_yield as *const () as usize));
    v.push(KsymDef::function("wakeup", k_wakeup as *const () as usize));
    v.push(KsymDef::function("wakeup_one", k_wakeup_one as *const () as usize));
    v.push(KsymDef::function("wakeup_any", k_wakeup_one as *const () as usize));
}

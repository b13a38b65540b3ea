//! Callouts (`sys/kern/kern_timeout.c`, `sys/sys/callout.h`, `sys/sys/_callout.h`).
//!
//! `struct callout` (64 bytes, 13.x/14.x/15.0): `c_links@0` (16), `c_time@16`,
//! `c_precision@24`, `c_arg@32`, `c_func@40`, `c_lock@48`, `short c_flags@56`
//! (`CALLOUT_ACTIVE`), `short c_iflags@58` (`CALLOUT_PENDING`, `CALLOUT_RETURNUNLOCKED`,
//! `CALLOUT_SHAREDLOCK`), `int c_cpu@60`. The simulator keeps the callwheel on the host side
//! (the `c_links` stay zero) and reads/writes the other fields like the kernel does, so the
//! `callout_pending()`/`callout_active()` macros work in C modules.
//!
//! * `callout_reset_sbt_on` (behind `callout_reset` = `callout_reset_sbt_on(c, tick_sbt *
//!   ticks, 0, fn, arg, -1, C_HARDCLOCK)`): a `C_HARDCLOCK` time below one tick becomes one
//!   tick and counts from the last hardclock (`DPCPU hardclocktime`: the last tick boundary);
//!   `C_ABSOLUTE` is absolute; other relative times count from `sbinuptime()`. A pending
//!   callout is taken off the wheel first (return 1, else 0). Re-arming the callout that is
//!   running while someone drains it does not reschedule it (`cc_exec_waiting`, and on 13/14
//!   `cc_exec_drain`), and the running callout with a lock that has not started yet is
//!   cancelled (`cc_exec_cancel`, return 1).
//! * `_callout_stop_safe(c, flags[, drain])`: 3 arguments on 13.x/14.x, 2 on 15.0
//!   (sys/callout.h of each release): on 15 the third register is never read. Returns 1 when
//!   a pending callout was taken off (or a running locked callout waiting for the lock that
//!   the caller holds was cancelled), 0 when the callout is running and could not be stopped,
//!   -1 when it was neither pending nor running. Without `CS_DRAIN` the callout's lock must
//!   be held (`lc_assert(c_lock, LA_XLOCKED)`); with `CS_DRAIN` (`callout_drain`) it
//!   `WITNESS_WARN`s like a sleep and waits (`"codrain"`) for the running callback to finish.
//!   On 13/14 an async-drain function (`callout_async_drain`) of a running callout is called
//!   with `c_arg` when the callback returns.
//! * Callouts run on a softclock thread (`"clock (0)"` of process `"clock"`) in time order as
//!   the simulated clock moves (`softclock_call_cc`): the callout's lock is taken first
//!   (shared with `CALLOUT_SHAREDLOCK`), a callout cancelled meanwhile is skipped, and the
//!   lock is released after the callback unless `CALLOUT_RETURNUNLOCKED`. The callback runs
//!   under `THREAD_NO_SLEEPING()`: a sleep panics like `sleepq_add()`'s KASSERT
//!   (`sleepq_add: td %p to sleep on wchan %p with sleeping prohibited`).
//! * A module unloaded with a callout still pending (or running) in its memory is reported:
//!   the kernel would call freed code.

use super::kern_clock::{TICK_SBT, ticks_at};
use super::kern_switch::{TState, Wait, block, sched, try_sched};
use super::panic::kernel_panic;
use super::subr_lock;
use super::subr_witness::{self as witness, caller, caller_shim, sym};
use crate::ksyms::KsymDef;

/// `CALLOUT_ACTIVE` (c_flags).
pub const CALLOUT_ACTIVE: i16 = 0x0002;
/// `CALLOUT_PENDING` (c_iflags).
pub const CALLOUT_PENDING: i16 = 0x0004;
/// `CALLOUT_RETURNUNLOCKED` (c_iflags).
pub const CALLOUT_RETURNUNLOCKED: i16 = 0x0010;
/// `CALLOUT_SHAREDLOCK` (c_iflags).
pub const CALLOUT_SHAREDLOCK: i16 = 0x0020;
/// `CALLOUT_PROCESSED` (c_iflags).
pub const CALLOUT_PROCESSED: i16 = 0x0080;
/// `CS_DRAIN`.
pub const CS_DRAIN: i32 = 0x0001;
/// `CS_EXECUTING` (13.x sys/callout.h; absent from the 14.2 and 15.0 headers).
pub const CS_EXECUTING: i32 = 0x0002;
/// `C_HARDCLOCK`.
pub const C_HARDCLOCK: i32 = 0x0100;
/// `C_ABSOLUTE`.
pub const C_ABSOLUTE: i32 = 0x0200;

const C_TIME: usize = 16;
const C_PRECISION: usize = 24;
const C_ARG: usize = 32;
const C_FUNC: usize = 40;
const C_LOCK: usize = 48;
const C_FLAGS: usize = 56;
const C_IFLAGS: usize = 58;
const C_CPU: usize = 60;
/// `sizeof(struct callout)`.
pub const SIZEOF_CALLOUT: usize = 64;

/// The callout wheel of the single simulated CPU (`struct callout_cpu`).
#[derive(Debug, Default)]
pub struct State {
    /// Pending callouts: `(c_time, order, struct callout *)`.
    pending: Vec<(i64, u64, usize)>,
    seq: u64,
    /// `cc_exec_curr`: the callout being run.
    curr: usize,
    /// `cc_exec_cancel`.
    cancel: bool,
    /// `cc_exec_waiting`: someone drains `curr`.
    waiting: bool,
    /// `cc_exec_drain` (13/14): async-drain function of `curr`.
    drain_fn: usize,
    /// Thread id of the softclock thread.
    softclock_tid: Option<u32>,
    /// The softclock thread is inside a callback (`THREAD_NO_SLEEPING()`).
    in_callback: bool,
}

static SOFTCLOCK_CHAN: u8 = 0;
static WAITING_CHAN: u8 = 0;

fn softclock_chan() -> usize {
    &SOFTCLOCK_CHAN as *const u8 as usize
}
fn waiting_chan() -> usize {
    &WAITING_CHAN as *const u8 as usize
}

fn st<R>(f: impl FnOnce(&mut State) -> R) -> R {
    super::with(|k| f(&mut k.timeout))
}

fn rd<T: Copy>(c: usize, off: usize) -> T {
    // SAFETY: c is the module's struct callout (64 bytes); fields at the offsets above.
    unsafe { ((c + off) as *const T).read_unaligned() }
}
fn wr<T>(c: usize, off: usize, v: T) {
    // SAFETY: as in rd.
    unsafe { ((c + off) as *mut T).write_unaligned(v) }
}

/// Whether the booted release's `_callout_stop_safe` takes the async-drain argument
/// (13.x and 14.x: `int _callout_stop_safe(struct callout *, int, void (*)(void *))`).
fn stop_has_drain_arg() -> bool {
    super::with(|k| k.release.freebsd_version) < 1_500_000
}

fn softclock_index() -> Option<usize> {
    let tid = st(|s| s.softclock_tid)?;
    let s = sched();
    s.threads.iter().position(|t| t.tid == tid && !matches!(t.state, TState::Exited))
}

/// After a crash the kernel's threads are gone (`end_call` abandons them): forget the
/// callout the softclock thread was running, so that the teardown does not wait for it.
fn reap() {
    if softclock_index().is_none() {
        st(|s| {
            s.curr = 0;
            s.cancel = false;
            s.waiting = false;
            s.drain_fn = 0;
            s.in_callback = false;
        });
    }
}

/// Start the softclock thread if it does not run (first callout, or after a crash).
fn ensure_softclock() {
    if softclock_index().is_some() {
        return;
    }
    let s = sched();
    let (p, pid) = s.new_proc();
    let i = s.create(softclock_main as *const () as usize, 0, "clock (0)".into(), p, "clock".into(), pid, 4);
    let tid = s.threads[i].tid;
    st(|s| {
        s.softclock_tid = Some(tid);
        s.curr = 0;
        s.cancel = false;
        s.waiting = false;
        s.drain_fn = 0;
        s.in_callback = false;
    });
}

/// Tell the sleeping softclock thread about a callout due at `t`.
fn kick(t: i64) {
    ensure_softclock();
    let Some(i) = softclock_index() else { return };
    let s = sched();
    let now = s.now;
    if let TState::Blocked(w) = &mut s.threads[i].state
        && w.chan == softclock_chan()
    {
        w.deadline = Some(w.deadline.map_or(t, |d| d.min(t)));
        if t <= now {
            s.wake_chan(softclock_chan(), false, false);
        }
    }
}

/// `THREAD_NO_SLEEPING()` check of `sleepq_add()` (sys/kern/subr_sleepqueue.c): called by the
/// scheduler before a thread goes to sleep (not when it blocks on a lock).
pub fn check_can_sleep(chan: usize, caller: usize) {
    let Some(s) = try_sched() else { return };
    let cur_tid = s.current().tid;
    let td = s.curthread();
    let (tid, inside) = super::with(|k| (k.timeout.softclock_tid, k.timeout.in_callback));
    if inside && tid == Some(cur_tid) {
        let func = st(|s| if s.curr != 0 { rd::<usize>(s.curr, C_FUNC) } else { 0 });
        st(|s| s.in_callback = false);
        kernel_panic(
            format!(
                "sleepq_add: td {td:#x} to sleep on wchan {chan:#x} with sleeping prohibited\n  a callout handler must not sleep (it runs under THREAD_NO_SLEEPING() on the softclock thread): callout function {}\n  offending call at {}\n",
                sym(func),
                sym(caller)
            ),
            caller,
        );
    }
}

fn remove_pending(s: &mut State, c: usize) -> bool {
    let n = s.pending.len();
    s.pending.retain(|&(_, _, x)| x != c);
    s.pending.len() != n
}

extern "C" fn softclock_main(_arg: usize) {
    loop {
        let now = sched().now;
        let due = st(|s| {
            let i = s.pending.iter().enumerate().filter(|(_, p)| p.0 <= now).min_by_key(|(_, p)| (p.0, p.1)).map(|(i, _)| i)?;
            let (_, _, c) = s.pending.remove(i);
            // callout_process(): the callout leaves the wheel; softclock_call_cc() makes it
            // cc_exec_curr with cc_exec_cancel false.
            wr::<i16>(c, C_IFLAGS, (rd::<i16>(c, C_IFLAGS) & !CALLOUT_PENDING) | CALLOUT_PROCESSED);
            s.curr = c;
            s.cancel = false;
            Some(c)
        });
        match due {
            Some(c) => run_one(c),
            None => {
                let dl = st(|s| s.pending.iter().map(|p| p.0).min());
                block(Wait { chan: softclock_chan(), wmesg: "-".into(), deadline: dl, caller: 0, on_lock: false, seq: 0, pri: 0 });
            }
        }
    }
}

/// `softclock_call_cc()`.
fn run_one(c: usize) {
    let func: usize = rd(c, C_FUNC);
    let arg: usize = rd(c, C_ARG);
    let lock: usize = rd(c, C_LOCK);
    let iflags: i16 = rd(c, C_IFLAGS);
    let mut skip = false;
    if lock != 0 {
        let shared = iflags & CALLOUT_SHAREDLOCK != 0;
        // WITNESS names the acquisition by a return address: one byte into the handler.
        subr_lock::class_lock(lock, !shared, "kern_timeout.c".into(), 0, func + 1);
        // "The callout may have been cancelled while we switched locks."
        if st(|s| s.cancel) {
            subr_lock::class_unlock(lock, func + 1);
            skip = true;
        } else {
            // "The callout cannot be stopped now."
            st(|s| s.cancel = true);
        }
    }
    if !skip {
        st(|s| s.in_callback = true);
        // SAFETY: c_func is the module's `void (*)(void *)` set by callout_reset_sbt_on; it
        // runs on this kernel thread's stack like every simulated kernel call.
        let f: extern "C" fn(usize) = unsafe { std::mem::transmute(func) };
        f(arg);
        st(|s| s.in_callback = false);
        if lock != 0 && iflags & CALLOUT_RETURNUNLOCKED == 0 {
            subr_lock::class_unlock(lock, func + 1);
        }
    }
    let (waiting, drain) = st(|s| {
        s.curr = 0;
        let w = std::mem::replace(&mut s.waiting, false);
        (w, std::mem::replace(&mut s.drain_fn, 0))
    });
    if waiting {
        sched().wake_chan(waiting_chan(), false, false);
    }
    if drain != 0 {
        // SAFETY: the module's async-drain function (13/14 `callout_async_drain`).
        let d: extern "C" fn(usize) = unsafe { std::mem::transmute(drain) };
        d(arg);
    }
}

/// The time a callout armed now with `(sbt, flags)` fires at.
fn fire_time(sbt: i64, flags: i32) -> i64 {
    if flags & C_ABSOLUTE != 0 {
        return sbt;
    }
    let now = sched().now;
    let mut sbt = sbt;
    if flags & C_HARDCLOCK != 0 {
        if sbt < TICK_SBT {
            sbt = TICK_SBT;
        }
        // DPCPU_GET(hardclocktime): the time of the last hardclock() (tick boundary).
        ticks_at(now) * TICK_SBT + sbt
    } else {
        now + sbt.max(0)
    }
}

/// `callout_reset_sbt_on()`.
pub fn reset(c: usize, sbt: i64, precision: i64, func: usize, arg: usize, flags: i32) -> i32 {
    super::kern_switch::preempt();
    reap();
    let to = fire_time(sbt, flags);
    let r = st(|s| {
        let mut cancelled = 0;
        if s.curr == c {
            let lock: usize = rd(c, C_LOCK);
            if lock != 0 && !s.cancel {
                s.cancel = true;
                cancelled = 1;
            }
            if s.waiting || s.drain_fn != 0 {
                // "Someone has called callout_drain to kill this callout. Don't reschedule."
                return Err(cancelled);
            }
        }
        if rd::<i16>(c, C_IFLAGS) & CALLOUT_PENDING != 0 {
            remove_pending(s, c);
            cancelled = 1;
            wr::<i16>(c, C_IFLAGS, rd::<i16>(c, C_IFLAGS) & !CALLOUT_PENDING);
            wr::<i16>(c, C_FLAGS, rd::<i16>(c, C_FLAGS) & !CALLOUT_ACTIVE);
        }
        // callout_cc_add()
        wr::<i64>(c, C_TIME, to);
        wr::<i64>(c, C_PRECISION, precision);
        wr::<usize>(c, C_FUNC, func);
        wr::<usize>(c, C_ARG, arg);
        wr::<i16>(c, C_IFLAGS, (rd::<i16>(c, C_IFLAGS) | CALLOUT_PENDING) & !CALLOUT_PROCESSED);
        wr::<i16>(c, C_FLAGS, rd::<i16>(c, C_FLAGS) | CALLOUT_ACTIVE);
        remove_pending(s, c);
        s.seq += 1;
        let seq = s.seq;
        s.pending.push((to, seq, c));
        Ok(cancelled)
    });
    match r {
        Ok(cancelled) => {
            kick(to);
            cancelled
        }
        Err(cancelled) => cancelled,
    }
}

extern "C" fn k_callout_reset_sbt_on(c: usize, sbt: i64, pr: i64, func: usize, arg: usize, _cpu: i32, flags: i32) -> i32 {
    reset(c, sbt, pr, func, arg, flags)
}

extern "C" fn k_callout_schedule(c: usize, ticks: i32) -> i32 {
    reset(c, TICK_SBT * i64::from(ticks), 0, rd(c, C_FUNC), rd(c, C_ARG), C_HARDCLOCK)
}

extern "C" fn k_callout_schedule_on(c: usize, ticks: i32, _cpu: i32) -> i32 {
    k_callout_schedule(c, ticks)
}

/// `_callout_stop_safe()`; `drain` is the 13/14 async-drain function (0 on 15.0).
pub fn stop(c: usize, flags: i32, drain: usize, caller: usize) -> i32 {
    super::kern_switch::preempt();
    reap();
    let lock: usize = rd(c, C_LOCK);
    if flags & CS_DRAIN != 0 {
        witness::warn_sleep(lock, "calling _callout_stop_safe", caller);
    }
    let use_lock = flags & CS_DRAIN == 0 && lock != 0;
    if use_lock && witness::held(lock).is_none_or(|h| !h.exclusive) {
        let name = subr_lock::rec(lock).map(|r| r.name).unwrap_or_default();
        kernel_panic(
            format!(
                "mutex {name} not owned at kern_timeout.c (callout_stop of a callout initialised with a lock requires holding it: lc_assert(c_lock, LA_XLOCKED))\n  offending call at {}\n",
                sym(caller)
            ),
            caller,
        );
    }
    if drain != 0 && !(crate::arena::ARENA_BASE..crate::arena::ARENA_BASE + crate::arena::ARENA_SIZE).contains(&drain) {
        kernel_panic(
            format!(
                "_callout_stop_safe: async-drain function {drain:#x} is not kernel or module code (a 2-argument call, as on 15.0, to a release whose _callout_stop_safe takes 3 arguments passes garbage in %rdx)\n  offending call at {}\n",
                sym(caller)
            ),
            caller,
        );
    }
    loop {
        let cancelled = if st(|s| s.curr) == c {
            if flags & CS_DRAIN == 0 {
                wr::<i16>(c, C_FLAGS, rd::<i16>(c, C_FLAGS) & !CALLOUT_ACTIVE);
            }
            if flags & CS_DRAIN != 0 {
                // (callout_drain() of the running callout from its own handler sleeps under
                // THREAD_NO_SLEEPING: reported by check_can_sleep.)
                st(|s| s.waiting = true);
                block(Wait { chan: waiting_chan(), wmesg: "codrain".into(), deadline: None, caller, on_lock: false, seq: 0, pri: 0 });
                continue;
            } else if use_lock && !st(|s| s.cancel) && drain == 0 {
                // "The current callout is waiting for its lock which we hold. Cancel the
                // callout and return."
                st(|s| s.cancel = true);
                return 1;
            }
            if drain != 0 {
                st(|s| s.drain_fn = drain);
            }
            // 13.x: "cancelled = ((flags & CS_EXECUTING) != 0)" (CS_EXECUTING = 2, "positive
            // return value indicates that the callout was executing", 13.0 sys/callout.h);
            // the 14.2 and 15.0 headers have no CS_EXECUTING: 0.
            i32::from(super::with(|k| k.release.freebsd_version) < 1_400_000 && flags & CS_EXECUTING != 0)
        } else {
            1
        };
        return st(|s| {
            if rd::<i16>(c, C_IFLAGS) & CALLOUT_PENDING == 0 {
                // "For not scheduled and not executing callout return negative value."
                if s.curr != c {
                    return -1;
                }
                return cancelled;
            }
            wr::<i16>(c, C_IFLAGS, rd::<i16>(c, C_IFLAGS) & !CALLOUT_PENDING);
            wr::<i16>(c, C_FLAGS, rd::<i16>(c, C_FLAGS) & !CALLOUT_ACTIVE);
            remove_pending(s, c);
            cancelled
        });
    }
}

extern "C" fn k_callout_stop_safe(c: usize, flags: i32, drain: usize) -> i32 {
    let caller = caller();
    // 15.0's prototype has two arguments: %rdx is whatever the caller left there.
    let drain = if stop_has_drain_arg() { drain } else { 0 };
    stop(c, flags, drain, caller)
}

fn init(c: usize, lock: usize, iflags: i16) {
    st(|s| {
        remove_pending(s, c);
    });
    // SAFETY: bzero(c, sizeof *c) of the module's struct callout.
    unsafe { std::ptr::write_bytes(c as *mut u8, 0, SIZEOF_CALLOUT) };
    wr::<usize>(c, C_LOCK, lock);
    wr::<i16>(c, C_IFLAGS, iflags);
    wr::<i32>(c, C_CPU, 0);
}

/// `callout_init(c, mpsafe)`: an mpsafe callout has no lock and `CALLOUT_RETURNUNLOCKED`;
/// a Giant-locked one (`mpsafe == 0`) would take Giant, which the simulator does not
/// model: it runs without a lock.
extern "C" fn k_callout_init(c: usize, mpsafe: i32) {
    init(c, 0, if mpsafe != 0 { CALLOUT_RETURNUNLOCKED } else { 0 });
}

/// `_callout_init_lock(c, lock, flags)` (behind `callout_init_mtx`/`_rw`/`_rm`).
extern "C" fn k_callout_init_lock(c: usize, lock: usize, flags: i32) {
    let caller = caller();
    if flags & !(i32::from(CALLOUT_RETURNUNLOCKED) | i32::from(CALLOUT_SHAREDLOCK)) != 0 {
        kernel_panic(format!("callout_init_lock: bad flags {flags}\n  offending call at {}\n", sym(caller)), caller);
    }
    if lock == 0 && flags & i32::from(CALLOUT_RETURNUNLOCKED) != 0 {
        kernel_panic(format!("callout_init_lock: CALLOUT_RETURNUNLOCKED with no lock\n  offending call at {}\n", sym(caller)), caller);
    }
    if lock != 0 && subr_lock::rec(lock).is_some_and(|r| r.sleepable()) {
        kernel_panic(format!("_callout_init_lock: callout {c:#x} has sleepable lock\n  offending call at {}\n", sym(caller)), caller);
    }
    init(c, lock, (flags as i16) & (CALLOUT_RETURNUNLOCKED | CALLOUT_SHAREDLOCK));
}

/// Callouts pending (or running) whose `struct callout` or function lies in `[lo, hi)`:
/// `(struct callout *, c_func)`.
pub fn pending_in(lo: usize, hi: usize) -> Vec<(usize, usize)> {
    let inside = |a: usize| a >= lo && a < hi;
    st(|s| {
        let mut v: Vec<(usize, usize)> =
            s.pending.iter().map(|p| (p.2, rd::<usize>(p.2, C_FUNC))).filter(|&(c, f)| inside(c) || inside(f)).collect();
        if s.curr != 0 && (inside(s.curr) || inside(rd::<usize>(s.curr, C_FUNC))) {
            v.push((s.curr, rd::<usize>(s.curr, C_FUNC)));
        }
        v
    })
}

/// Forget callouts in `[lo, hi)` (after reporting them at unload).
pub fn forget_in(lo: usize, hi: usize) {
    let inside = |a: usize| a >= lo && a < hi;
    st(|s| s.pending.retain(|p| !(inside(p.2) || inside(rd::<usize>(p.2, C_FUNC)))));
}

/// Number of pending callouts.
pub fn pending_count() -> usize {
    st(|s| s.pending.len())
}

caller_shim!(sim_callout_stop_safe, k_callout_stop_safe);
caller_shim!(sim_callout_init_lock, k_callout_init_lock);

/// Register the callout KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("callout_init", k_callout_init as *const () as usize));
    v.push(KsymDef::function("_callout_init_lock", sim_callout_init_lock as *const () as usize));
    v.push(KsymDef::function("callout_reset_sbt_on", k_callout_reset_sbt_on as *const () as usize));
    v.push(KsymDef::function("callout_schedule", k_callout_schedule as *const () as usize));
    v.push(KsymDef::function("callout_schedule_on", k_callout_schedule_on as *const () as usize));
    v.push(KsymDef::function("_callout_stop_safe", sim_callout_stop_safe as *const () as usize));
}

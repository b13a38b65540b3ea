//! Taskqueues (`sys/kern/subr_taskqueue.c`, `sys/sys/taskqueue.h`, `sys/sys/_task.h`).
//!
//! `struct task` (32 bytes): `ta_link@0`, `uint16_t ta_pending@8`, `uint8_t ta_priority@10`,
//! `uint8_t ta_flags@11`, `ta_func@16` (`void (*)(void *, int pending)`), `ta_context@24`;
//! `TASK_INIT` is inline stores. `struct timeout_task` (112 bytes): `q@0`, `t@8`, `c@40`
//! (a `struct callout`), `int f@104`. `struct taskqueue` is opaque: the simulator hands out
//! host addresses and keeps the queue on the host side.
//!
//! * `taskqueue_enqueue` (`taskqueue_enqueue_locked`): a task already pending only gets
//!   `ta_pending++` (capped at `USHRT_MAX`) and runs once; otherwise it is queued behind the
//!   tasks of higher or equal priority, `ta_pending = 1`, and the queue's enqueue function
//!   is called (`taskqueue_thread_enqueue(context)`: `wakeup_one(*context)`).
//!   `taskqueue_enqueue_flags` (14.0+; absent on 13.1) with `TASKQUEUE_FAIL_IF_PENDING`
//!   returns `EEXIST` for a pending task.
//! * Queue threads (`taskqueue_thread_loop`) run the tasks in order
//!   (`taskqueue_run_locked`: `pending = ta_pending; ta_pending = 0; ta_func(ctx,
//!   pending); wakeup(task)`), then sleep on the queue (wmesg `"-"`).
//! * `taskqueue_thread` is the system queue (thread `"thread taskq"`,
//!   `TASKQUEUE_DEFINE_THREAD(thread)`); `taskqueue_create` + `taskqueue_start_threads`
//!   make private queues (one thread is named by the format, several `"%s_%d"`);
//!   `taskqueue_free` stops the threads after they ran what is queued (`taskqueue_terminate`,
//!   `"tq_destroy"`), with `KASSERT`s that no task runs and no timeout task is armed.
//! * `taskqueue_drain` (`WITNESS_WARN` like a sleep) waits (`"tq_drain"`) until the task is
//!   neither pending nor running; `taskqueue_cancel` dequeues a pending task, stores its
//!   pending count and returns `EBUSY` when it is running.
//! * Timeout tasks: `_timeout_task_init`, `taskqueue_enqueue_timeout(_sbt)` (a callout
//!   enqueues the task when it fires; `DT_CALLOUT_ARMED`, `DT_DRAIN_IN_PROGRESS` in `f`),
//!   `taskqueue_cancel_timeout`, `taskqueue_drain_timeout`.
//! * A module unloaded with a task of its own still queued or running is reported.

use std::collections::VecDeque;

use super::kern_clock::TICK_SBT;
use super::kern_switch::{TState, Wait, block, exit_current, sched};
use super::panic::kernel_panic;
use super::printf::format;
use super::subr_witness::{self as witness, caller, caller_shim, sym};
use super::{VaList, va_shim};
use crate::ksyms::KsymDef;

/// `TASKQUEUE_FAIL_IF_PENDING`.
pub const TASKQUEUE_FAIL_IF_PENDING: i32 = 1 << 0;
/// `TASKQUEUE_FAIL_IF_CANCELING`.
pub const TASKQUEUE_FAIL_IF_CANCELING: i32 = 1 << 1;
const EEXIST: i32 = 17;
const EBUSY: i32 = 16;
const ECANCELED: i32 = 85;
const DT_CALLOUT_ARMED: i32 = 1 << 0;
const DT_DRAIN_IN_PROGRESS: i32 = 1 << 1;

const TA_PENDING: usize = 8;
const TA_PRIORITY: usize = 10;
const TA_FUNC: usize = 16;
const TA_CONTEXT: usize = 24;
const TT_Q: usize = 0;
const TT_T: usize = 8;
const TT_C: usize = 40;
const TT_F: usize = 104;

/// One taskqueue.
#[derive(Debug)]
struct Queue {
    /// The `struct taskqueue *` handed out (address of `_id`).
    _id: Box<[u64; 4]>,
    name: String,
    queue: VecDeque<usize>,
    running: Vec<usize>,
    canceling: Vec<usize>,
    enqueue: usize,
    context: usize,
    threads: Vec<u32>,
    active: bool,
    callouts: i32,
    system: bool,
}

/// All taskqueues of the simulated kernel.
#[derive(Debug, Default)]
pub struct State {
    queues: Vec<Queue>,
}

fn addr(q: &Queue) -> usize {
    q._id.as_ptr() as usize
}

fn st<R>(f: impl FnOnce(&mut State) -> R) -> R {
    super::with(|k| f(&mut k.taskq))
}

fn with_q<R>(tq: usize, caller: usize, f: impl FnOnce(&mut Queue) -> R) -> R {
    let r = st(|s| s.queues.iter_mut().find(|q| addr(q) == tq).map(f));
    match r {
        Some(r) => r,
        None => kernel_panic(format!("taskqueue {tq:#x} is not a taskqueue (freed, or never created)\n  offending call at {}\n", sym(caller)), caller),
    }
}

fn pending(task: usize) -> u16 {
    // SAFETY: the module's struct task.
    unsafe { ((task + TA_PENDING) as *const u16).read() }
}
fn set_pending(task: usize, v: u16) {
    // SAFETY: as in pending().
    unsafe { ((task + TA_PENDING) as *mut u16).write(v) }
}
fn rd<T: Copy>(a: usize) -> T {
    // SAFETY: fields of the module's struct task / struct timeout_task.
    unsafe { (a as *const T).read_unaligned() }
}
fn wr<T>(a: usize, v: T) {
    // SAFETY: as in rd.
    unsafe { (a as *mut T).write_unaligned(v) }
}

/// Create the system queue `taskqueue_thread` (at boot); returns its address.
pub fn create_system_queue() -> usize {
    let q = Queue {
        _id: Box::new([0; 4]),
        name: "thread".into(),
        queue: VecDeque::new(),
        running: Vec::new(),
        canceling: Vec::new(),
        enqueue: 0,
        context: 0,
        threads: Vec::new(),
        active: true,
        callouts: 0,
        system: true,
    };
    let a = addr(&q);
    st(|s| s.queues.push(q));
    a
}

fn alive(tid: u32) -> bool {
    sched().threads.iter().any(|t| t.tid == tid && !matches!(t.state, TState::Exited))
}

fn start_thread(tq: usize, name: String) -> u32 {
    let s = sched();
    let p = s.proc0();
    let i = s.create(thread_loop as *const () as usize, tq, name, p, "kernel".into(), 0, 4);
    s.threads[i].tid
}

/// The system queue's thread is created when first needed (and again after a crash).
fn ensure_system_thread(tq: usize) {
    let need = st(|s| s.queues.iter().find(|q| addr(q) == tq).is_some_and(|q| q.system && !q.threads.iter().any(|&t| alive(t))));
    if need {
        let tid = start_thread(tq, "thread taskq".into());
        st(|s| {
            if let Some(q) = s.queues.iter_mut().find(|q| addr(q) == tq) {
                q.threads = vec![tid];
            }
        });
    }
}

/// `taskqueue_enqueue_locked()`.
fn enqueue(tq: usize, task: usize, flags: i32, caller: usize) -> i32 {
    super::kern_switch::preempt();
    ensure_system_thread(tq);
    let r = with_q(tq, caller, |q| {
        if flags & TASKQUEUE_FAIL_IF_CANCELING != 0 && q.canceling.contains(&task) {
            return Err(ECANCELED);
        }
        let p = pending(task);
        if p != 0 {
            if flags & TASKQUEUE_FAIL_IF_PENDING != 0 {
                return Err(EEXIST);
            }
            if p < u16::MAX {
                set_pending(task, p + 1);
            }
            return Err(0);
        }
        // Behind every task of higher or equal priority.
        let prio: u8 = rd(task + TA_PRIORITY);
        let at = q.queue.iter().position(|&t| rd::<u8>(t + TA_PRIORITY) < prio).unwrap_or(q.queue.len());
        q.queue.insert(at, task);
        set_pending(task, 1);
        Ok((q.enqueue, q.context, q.system))
    });
    match r {
        Err(e) => e,
        Ok((f, ctx, system)) => {
            if system || f == 0 {
                sched().wake_chan(tq, false, true);
            } else {
                // SAFETY: the queue's enqueue function given to taskqueue_create (usually the
                // kernel's taskqueue_thread_enqueue).
                let f: extern "C" fn(usize) = unsafe { std::mem::transmute(f) };
                f(ctx);
            }
            0
        }
    }
}

/// `taskqueue_run_locked()`.
fn run_locked(tq: usize) {
    loop {
        let next = st(|s| {
            let q = s.queues.iter_mut().find(|q| addr(q) == tq)?;
            let t = q.queue.pop_front()?;
            let p = pending(t);
            set_pending(t, 0);
            q.running.push(t);
            Some((t, p))
        });
        let Some((t, p)) = next else { return };
        let func: usize = rd(t + TA_FUNC);
        let ctx: usize = rd(t + TA_CONTEXT);
        // SAFETY: the module's task_fn_t `void (*)(void *context, int pending)`.
        let f: extern "C" fn(usize, i32) = unsafe { std::mem::transmute(func) };
        f(ctx, i32::from(p));
        st(|s| {
            if let Some(q) = s.queues.iter_mut().find(|q| addr(q) == tq) {
                if let Some(i) = q.running.iter().position(|&x| x == t) {
                    q.running.remove(i);
                }
                q.canceling.retain(|&x| x != t);
            }
        });
        let s = sched();
        s.wake_chan(t, false, false);
        s.wake_chan(tq + 8, false, false);
    }
}

/// `taskqueue_thread_loop()`.
extern "C" fn thread_loop(tq: usize) {
    loop {
        run_locked(tq);
        let active = st(|s| s.queues.iter().find(|q| addr(q) == tq).is_some_and(|q| q.active));
        if !active {
            break;
        }
        block(Wait { chan: tq, wmesg: "-".into(), deadline: None, caller: 0, on_lock: false, seq: 0, pri: 0 });
    }
    run_locked(tq);
    // "rendezvous with thread that asked us to terminate": tq_tcount--, wakeup_one(tq_threads).
    let tid = sched().current().tid;
    st(|s| {
        if let Some(q) = s.queues.iter_mut().find(|q| addr(q) == tq) {
            q.threads.retain(|&t| t != tid);
        }
    });
    sched().wake_chan(tq + 16, false, false);
    exit_current()
}

extern "C" fn k_taskqueue_enqueue(tq: usize, task: usize) -> i32 {
    let caller = caller();
    enqueue(tq, task, 0, caller)
}

extern "C" fn k_taskqueue_enqueue_flags(tq: usize, task: usize, flags: i32) -> i32 {
    let caller = caller();
    enqueue(tq, task, flags, caller)
}

/// `taskqueue_thread_enqueue(context)`: `tqp = context; wakeup_any(*tqp)`.
extern "C" fn k_taskqueue_thread_enqueue(context: usize) {
    let tq: usize = rd(context);
    sched().wake_chan(tq, false, true);
}

fn task_busy(tq: usize, task: usize, caller: usize) -> bool {
    reap(tq, caller);
    pending(task) != 0 || with_q(tq, caller, |q| q.running.contains(&task))
}

/// After a crash the queue threads are gone (`end_call` abandons them): the task they were
/// running never finishes; forget it so that the teardown does not wait for it, and let
/// the system queue start a new thread for what is queued.
fn reap(tq: usize, caller: usize) {
    let threads = with_q(tq, caller, |q| q.threads.clone());
    if !threads.iter().any(|&t| alive(t)) {
        with_q(tq, caller, |q| q.running.clear());
        ensure_system_thread(tq);
    }
}

fn drain(tq: usize, task: usize, caller: usize) {
    super::kern_switch::preempt();
    witness::warn_sleep(0, "taskqueue_drain", caller);
    while task_busy(tq, task, caller) {
        block(Wait { chan: task, wmesg: "tq_drain".into(), deadline: None, caller, on_lock: false, seq: 0, pri: 0 });
    }
}

extern "C" fn k_taskqueue_drain(tq: usize, task: usize) {
    let caller = caller();
    drain(tq, task, caller)
}

extern "C" fn k_taskqueue_drain_all(tq: usize) {
    let caller = caller();
    super::kern_switch::preempt();
    witness::warn_sleep(0, "taskqueue_drain_all", caller);
    while with_q(tq, caller, |q| !q.queue.is_empty() || !q.running.is_empty()) {
        block(Wait { chan: tq + 8, wmesg: "tq_adrain".into(), deadline: None, caller, on_lock: false, seq: 0, pri: 0 });
    }
}

/// `taskqueue_cancel_locked()`: returns (error, pending).
fn cancel(tq: usize, task: usize, caller: usize) -> (i32, u32) {
    super::kern_switch::preempt();
    with_q(tq, caller, |q| {
        let p = pending(task);
        if p > 0 {
            q.queue.retain(|&t| t != task);
        }
        set_pending(task, 0);
        let running = q.running.contains(&task);
        if running && !q.canceling.contains(&task) {
            q.canceling.push(task);
        }
        (if running { EBUSY } else { 0 }, u32::from(p))
    })
}

extern "C" fn k_taskqueue_cancel(tq: usize, task: usize, pendp: usize) -> i32 {
    let caller = caller();
    let (e, p) = cancel(tq, task, caller);
    if pendp != 0 {
        wr::<u32>(pendp, p);
    }
    e
}

extern "C" fn k_taskqueue_poll_is_busy(tq: usize, task: usize) -> i32 {
    let caller = caller();
    i32::from(task_busy(tq, task, caller))
}

/// `taskqueue_create(name, mflags, enqueue, context)`.
extern "C" fn k_taskqueue_create(name: usize, mflags: i32, enqueue: usize, context: usize) -> usize {
    let caller = caller();
    super::kern_switch::preempt();
    if mflags & super::malloc::M_WAITOK != 0 {
        witness::warn_sleep_malloc(256, caller);
    }
    // SAFETY: the module's C string.
    let mut name = unsafe { super::cstr(name) };
    name.truncate(31); // TASKQUEUE_NAMELEN
    let q = Queue {
        _id: Box::new([0; 4]),
        name,
        queue: VecDeque::new(),
        running: Vec::new(),
        canceling: Vec::new(),
        enqueue,
        context,
        threads: Vec::new(),
        active: true,
        callouts: 0,
        system: false,
    };
    let a = addr(&q);
    st(|s| s.queues.push(q));
    a
}

/// `taskqueue_start_threads(tqp, count, pri, name, ...)`.
extern "C" fn taskqueue_start_threads_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: gp holds the six argument registers (tqp, count, pri, fmt, ...), stack the rest.
    let (tqp, count, fmt, mut ap, caller) = unsafe {
        let ap = VaList::new(gp, 4, stack);
        (*gp as usize, *gp.add(1) as i32, *gp.add(3) as usize, ap, *stack.sub(1) as usize)
    };
    super::kern_switch::preempt();
    if count <= 0 {
        return 22; // EINVAL
    }
    // SAFETY: the module's format and its arguments.
    let name = String::from_utf8_lossy(&unsafe { format(fmt as *const u8, &mut ap) }).into_owned();
    let tq: usize = rd(tqp);
    with_q(tq, caller, |_| ());
    for i in 0..count {
        let mut n = if count == 1 { name.clone() } else { format!("{name}_{i}") };
        n.truncate(19);
        let tid = start_thread(tq, n);
        with_q(tq, caller, |q| q.threads.push(tid));
    }
    0
}

/// `taskqueue_free(queue)`.
extern "C" fn k_taskqueue_free(tq: usize) {
    let caller = caller();
    super::kern_switch::preempt();
    witness::warn_sleep(0, "taskqueue_free", caller);
    if with_q(tq, caller, |q| q.system) {
        kernel_panic(format!("taskqueue_free of the system taskqueue_thread\n  offending call at {}\n", sym(caller)), caller);
    }
    with_q(tq, caller, |q| q.active = false);
    // taskqueue_terminate(): wake the threads until they are gone.
    loop {
        let live: Vec<u32> = with_q(tq, caller, |q| q.threads.clone()).into_iter().filter(|&t| alive(t)).collect();
        if live.is_empty() {
            break;
        }
        sched().wake_chan(tq, false, false);
        block(Wait { chan: tq + 16, wmesg: "tq_destroy".into(), deadline: None, caller, on_lock: false, seq: 0, pri: 0 });
    }
    let (running, callouts, name) = with_q(tq, caller, |q| (q.running.len(), q.callouts, q.name.clone()));
    if running != 0 {
        kernel_panic(format!("Tasks still running? (taskqueue_free of \"{name}\")\n  offending call at {}\n", sym(caller)), caller);
    }
    if callouts != 0 {
        kernel_panic(format!("Armed timeout tasks (taskqueue_free of \"{name}\": drain or cancel them first)\n  offending call at {}\n", sym(caller)), caller);
    }
    st(|s| s.queues.retain(|q| addr(q) != tq));
}

/// `_timeout_task_init(queue, timeout_task, priority, func, context)`.
extern "C" fn k_timeout_task_init(tq: usize, tt: usize, priority: i32, func: usize, context: usize) {
    // TASK_INIT(&timeout_task->t, priority, func, context)
    set_pending(tt + TT_T, 0);
    wr::<u8>(tt + TT_T + TA_PRIORITY, priority as u8);
    wr::<u8>(tt + TT_T + TA_PRIORITY + 1, 0);
    wr::<usize>(tt + TT_T + TA_FUNC, func);
    wr::<usize>(tt + TT_T + TA_CONTEXT, context);
    // callout_init_mtx(&timeout_task->c, &queue->tq_mutex, CALLOUT_RETURNUNLOCKED): the
    // queue mutex is internal to the simulator, the callout runs without a lock.
    // SAFETY: the module's struct callout inside the timeout task.
    unsafe { std::ptr::write_bytes((tt + TT_C) as *mut u8, 0, super::kern_timeout::SIZEOF_CALLOUT) };
    wr::<usize>(tt + TT_Q, tq);
    wr::<i32>(tt + TT_F, 0);
}

/// `taskqueue_timeout_func(arg)`: the callout of a timeout task fired.
extern "C" fn timeout_func(tt: usize) {
    let tq: usize = rd(tt + TT_Q);
    let f: i32 = rd(tt + TT_F);
    wr::<i32>(tt + TT_F, f & !DT_CALLOUT_ARMED);
    let _ = st(|s| s.queues.iter_mut().find(|q| addr(q) == tq).map(|q| q.callouts -= 1));
    enqueue(tq, tt + TT_T, 0, 0);
}

fn enqueue_timeout(tq: usize, tt: usize, sbt: i64, pr: i64, flags: i32, caller: usize) -> i32 {
    let q: usize = rd(tt + TT_Q);
    if q != 0 && q != tq {
        kernel_panic(format!("Migrated queue (timeout task {tt:#x})\n  offending call at {}\n", sym(caller)), caller);
    }
    wr::<usize>(tt + TT_Q, tq);
    let mut res = i32::from(pending(tt + TT_T));
    let f: i32 = rd(tt + TT_F);
    if f & DT_DRAIN_IN_PROGRESS != 0 {
        return -1;
    }
    if sbt == 0 {
        enqueue(tq, tt + TT_T, 0, caller);
        return res;
    }
    let mut sbt = sbt;
    if f & DT_CALLOUT_ARMED != 0 {
        res += 1;
    } else {
        with_q(tq, caller, |q| q.callouts += 1);
        wr::<i32>(tt + TT_F, f | DT_CALLOUT_ARMED);
        if sbt < 0 {
            sbt = -sbt;
        }
    }
    if sbt > 0 {
        super::kern_timeout::reset(tt + TT_C, sbt, pr, timeout_func as *const () as usize, tt, flags);
    }
    res
}

extern "C" fn k_taskqueue_enqueue_timeout(tq: usize, tt: usize, ticks: i32) -> i32 {
    let caller = caller();
    enqueue_timeout(tq, tt, i64::from(ticks) * TICK_SBT, 0, super::kern_timeout::C_HARDCLOCK, caller)
}

extern "C" fn k_taskqueue_enqueue_timeout_sbt(tq: usize, tt: usize, sbt: i64, pr: i64, flags: i32) -> i32 {
    let caller = caller();
    enqueue_timeout(tq, tt, sbt, pr, flags, caller)
}

extern "C" fn k_taskqueue_cancel_timeout(tq: usize, tt: usize, pendp: usize) -> i32 {
    let caller = caller();
    let i = super::kern_timeout::stop(tt + TT_C, 0, 0, caller);
    let (error, p) = cancel(tq, tt + TT_T, caller);
    let f: i32 = rd(tt + TT_F);
    if f & DT_CALLOUT_ARMED != 0 {
        wr::<i32>(tt + TT_F, f & !DT_CALLOUT_ARMED);
        with_q(tq, caller, |q| q.callouts -= 1);
    }
    if pendp != 0 {
        // "pending = !!(callout_stop(&timeout_task->c) > 0); ... *pendp = pending + pending1".
        wr::<u32>(pendp, p + u32::from(i > 0));
    }
    error
}

extern "C" fn k_taskqueue_drain_timeout(tq: usize, tt: usize) {
    let caller = caller();
    let f: i32 = rd(tt + TT_F);
    wr::<i32>(tt + TT_F, f | DT_DRAIN_IN_PROGRESS);
    super::kern_timeout::stop(tt + TT_C, super::kern_timeout::CS_DRAIN, 0, caller);
    drain(tq, tt + TT_T, caller);
    let f: i32 = rd(tt + TT_F);
    wr::<i32>(tt + TT_F, f & !DT_DRAIN_IN_PROGRESS);
}

/// Tasks queued or running whose `struct task` or function lies in `[lo, hi)`
/// (`(task, function, queue name)`, function 0 for a private queue created with a context in
/// the range and never freed).
pub fn pending_in(lo: usize, hi: usize) -> Vec<(usize, usize, String)> {
    let inside = |a: usize| a >= lo && a < hi;
    st(|s| {
        let mut v = Vec::new();
        for q in &s.queues {
            for &t in q.queue.iter().chain(q.running.iter()) {
                let f: usize = rd(t + TA_FUNC);
                if inside(t) || inside(f) {
                    v.push((t, f, q.name.clone()));
                }
            }
            if !q.system && q.active && inside(q.context) {
                v.push((addr(q), 0, q.name.clone()));
            }
        }
        v
    })
}

/// Forget what [`pending_in`] reported.
pub fn forget_in(lo: usize, hi: usize) {
    let inside = |a: usize| a >= lo && a < hi;
    st(|s| {
        for q in s.queues.iter_mut() {
            q.queue.retain(|&t| !(inside(t) || inside(rd::<usize>(t + TA_FUNC))));
        }
        s.queues.retain(|q| q.system || !q.active || !inside(q.context));
    });
}

/// Whether `name` is exported by the kernel of `__FreeBSD_version` `v`:
/// `taskqueue_enqueue_flags` appeared in 14.0 (commit b6f87b78b5bb, D35051, May 2022,
/// after releng/13.1 branched).
pub fn exported_on(name: &str, v: u32) -> bool {
    !(name == "taskqueue_enqueue_flags" && v < 1_400_000)
}

caller_shim!(sim_taskqueue_enqueue, k_taskqueue_enqueue);
caller_shim!(sim_taskqueue_enqueue_flags, k_taskqueue_enqueue_flags);
caller_shim!(sim_taskqueue_drain, k_taskqueue_drain);
caller_shim!(sim_taskqueue_drain_all, k_taskqueue_drain_all);
caller_shim!(sim_taskqueue_cancel, k_taskqueue_cancel);
caller_shim!(sim_taskqueue_poll_is_busy, k_taskqueue_poll_is_busy);
caller_shim!(sim_taskqueue_create, k_taskqueue_create);
caller_shim!(sim_taskqueue_free, k_taskqueue_free);
caller_shim!(sim_taskqueue_enqueue_timeout, k_taskqueue_enqueue_timeout);
caller_shim!(sim_taskqueue_enqueue_timeout_sbt, k_taskqueue_enqueue_timeout_sbt);
caller_shim!(sim_taskqueue_cancel_timeout, k_taskqueue_cancel_timeout);
caller_shim!(sim_taskqueue_drain_timeout, k_taskqueue_drain_timeout);
va_shim!(sim_va_taskqueue_start_threads, taskqueue_start_threads_impl);

/// Register the taskqueue KPI (`taskqueue_thread` is filled in at boot).
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::data("taskqueue_thread", vec![0; 8], 8));
    v.push(KsymDef::function("taskqueue_enqueue", sim_taskqueue_enqueue as *const () as usize));
    v.push(KsymDef::function("taskqueue_enqueue_flags", sim_taskqueue_enqueue_flags as *const () as usize));
    v.push(KsymDef::function("taskqueue_drain", sim_taskqueue_drain as *const () as usize));
    v.push(KsymDef::function("taskqueue_drain_all", sim_taskqueue_drain_all as *const () as usize));
    v.push(KsymDef::function("taskqueue_cancel", sim_taskqueue_cancel as *const () as usize));
    v.push(KsymDef::function("taskqueue_poll_is_busy", sim_taskqueue_poll_is_busy as *const () as usize));
    v.push(KsymDef::function("taskqueue_create", sim_taskqueue_create as *const () as usize));
    v.push(KsymDef::variadic("taskqueue_start_threads", sim_va_taskqueue_start_threads as *const () as usize));
    v.push(KsymDef::function("taskqueue_free", sim_taskqueue_free as *const () as usize));
    v.push(KsymDef::function("taskqueue_thread_enqueue", k_taskqueue_thread_enqueue as *const () as usize));
    v.push(KsymDef::function("_timeout_task_init", k_timeout_task_init as *const () as usize));
    v.push(KsymDef::function("taskqueue_enqueue_timeout", sim_taskqueue_enqueue_timeout as *const () as usize));
    v.push(KsymDef::function("taskqueue_enqueue_timeout_sbt", sim_taskqueue_enqueue_timeout_sbt as *const () as usize));
    v.push(KsymDef::function("taskqueue_cancel_timeout", sim_taskqueue_cancel_timeout as *const () as usize));
    v.push(KsymDef::function("taskqueue_drain_timeout", sim_taskqueue_drain_timeout as *const () as usize));
}

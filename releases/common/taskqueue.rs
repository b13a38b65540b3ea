//! taskqueue(9): `struct task` (`sys/sys/_task.h`), `struct timeout_task` and the functions
//! of `sys/sys/taskqueue.h`. `TASK_INIT(t, pri, fn, ctx)` is inline stores (`ta_pending = 0,
//! ta_priority, ta_flags = 0, ta_func, ta_context`); `TIMEOUT_TASK_INIT` calls
//! `_timeout_task_init`; `taskqueue_thread` is the system queue
//! (`TASKQUEUE_DECLARE(thread)`).
//!
//! Identical on 13.x (sobomax/freebsd14_vendor `_task.h`, `taskqueue.h`), 14.2 and 15.0
//! (probed), except `taskqueue_enqueue_flags` (14.0+: `v14_0/taskqueue14.rs`).

use super::callout::callout;
use super::time::sbintime_t;
use core::ffi::{c_char, c_int, c_uint, c_void};

/// `task_fn_t`: `void (*)(void *context, int pending)`.
pub type task_fn_t = unsafe extern "C" fn(context: *mut c_void, pending: c_int);
/// `taskqueue_enqueue_fn`: `void (*)(void *context)`.
pub type taskqueue_enqueue_fn = unsafe extern "C" fn(context: *mut c_void);

/// `struct taskqueue` (opaque).
#[repr(C)]
pub struct taskqueue {
    _opaque: [u8; 0],
}

/// `struct task` (32 bytes).
#[repr(C)]
pub struct task {
    /// `ta_link` (STAILQ_ENTRY).
    pub ta_link: *mut task,
    /// `ta_pending`: times queued since it last ran (0: not queued).
    pub ta_pending: u16,
    /// `ta_priority`.
    pub ta_priority: u8,
    /// `ta_flags`.
    pub ta_flags: u8,
    /// `ta_func`.
    pub ta_func: Option<task_fn_t>,
    /// `ta_context`.
    pub ta_context: *mut c_void,
}

/// `struct timeout_task` (112 bytes).
#[repr(C)]
pub struct timeout_task {
    /// `q`.
    pub q: *mut taskqueue,
    /// `t`.
    pub t: task,
    /// `c`.
    pub c: callout,
    /// `f` (`DT_CALLOUT_ARMED`, `DT_DRAIN_IN_PROGRESS`).
    pub f: c_int,
}

abi_structs! {
    table TASKQUEUE_STRUCTS, header "sys/sys/_task.h";
    task = "struct task", size 32, align 8, { ta_link: 0, ta_pending: 8, ta_priority: 10, ta_flags: 11, ta_func: 16, ta_context: 24 };
    timeout_task = "struct timeout_task", size 112, align 8, { q: 0, t: 8, c: 40, f: 104 };
}

kpi_statics! {
    table TASKQUEUE_DATA, header "sys/sys/taskqueue.h";
    /// `taskqueue_thread`: the system queue (one thread, `"thread taskq"`).
    pub static taskqueue_thread: *mut taskqueue;
}

kpi_functions! {
    table TASKQUEUE_FUNCTIONS, header "sys/sys/taskqueue.h";
    /// `taskqueue_create(name, mflags, enqueue, context)`: NULL when an `M_NOWAIT`
    /// allocation fails.
    pub fn taskqueue_create(name: *const c_char, mflags: c_int, enqueue: Option<unsafe extern "C" fn(*mut c_void)>, context: *mut c_void) -> *mut taskqueue;
    /// `taskqueue_start_threads(tqp, count, pri, fmt, ...)`.
    pub fn taskqueue_start_threads(tqp: *mut *mut taskqueue, count: c_int, pri: c_int, name: *const c_char, ...) -> c_int;
    /// `taskqueue_thread_enqueue(context)`: the enqueue function of thread queues.
    pub fn taskqueue_thread_enqueue(context: *mut c_void);
    /// `taskqueue_enqueue(queue, task)`: a pending task only gets `ta_pending++`.
    pub fn taskqueue_enqueue(queue: *mut taskqueue, task: *mut task) -> c_int;
    /// `taskqueue_drain(queue, task)`: sleeps until the task is neither pending nor running.
    pub fn taskqueue_drain(queue: *mut taskqueue, task: *mut task);
    /// `taskqueue_cancel(queue, task, pendp)`: EBUSY when running.
    pub fn taskqueue_cancel(queue: *mut taskqueue, task: *mut task, pendp: *mut c_uint) -> c_int;
    /// `taskqueue_free(queue)`: runs what is queued, stops the threads, frees the queue.
    pub fn taskqueue_free(queue: *mut taskqueue);
    /// `_timeout_task_init(queue, timeout_task, priority, func, context)`.
    pub fn _timeout_task_init(queue: *mut taskqueue, timeout_task: *mut timeout_task, priority: c_int, func: Option<unsafe extern "C" fn(*mut c_void, c_int)>, context: *mut c_void);
    /// `taskqueue_enqueue_timeout_sbt(queue, timeout_task, sbt, pr, flags)`.
    pub fn taskqueue_enqueue_timeout_sbt(queue: *mut taskqueue, timeout_task: *mut timeout_task, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int;
    /// `taskqueue_cancel_timeout(queue, timeout_task, pendp)`.
    pub fn taskqueue_cancel_timeout(queue: *mut taskqueue, timeout_task: *mut timeout_task, pendp: *mut c_uint) -> c_int;
    /// `taskqueue_drain_timeout(queue, timeout_task)`: leaves an armed timeout task armed;
    /// cancel it first.
    pub fn taskqueue_drain_timeout(queue: *mut taskqueue, timeout_task: *mut timeout_task);
}

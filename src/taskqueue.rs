//! Deferred work on a kernel thread (taskqueue(9)): [`TaskQueue`] and [`Task`].
//!
//! - [`TaskQueue::system`] is the kernel's `taskqueue_thread` (one thread, `"thread
//!   taskq"`); [`TaskQueue::new`] creates a private queue with its own threads
//!   (`taskqueue_create` + `taskqueue_start_threads`), freed (`taskqueue_free`: what is
//!   queued runs first, then the threads exit) when its last handle is dropped. Every
//!   [`Task`] holds a handle of its queue, so a queue outlives its tasks.
//! - A [`Task<T>`] owns a value `T` its handler gets as `&T` with the *pending count*: the
//!   coalescing is FreeBSD's — enqueueing a task that is already pending only increments
//!   that count and the handler runs once. Handlers run in thread context and **may
//!   sleep** (`M_WAITOK` allocations, sleeping locks), without any lock of the caller held.
//! - [`Task::enqueue`] never sleeps (callable from a [`Callout`](crate::callout::Callout)
//!   handler or with a [`Mutex`](crate::sync::Mutex) held); [`Task::enqueue_if_idle`]
//!   (`TASKQUEUE_FAIL_IF_PENDING`, FreeBSD 14.0 and later) refuses a pending task with
//!   `EEXIST`. [`Task::cancel`] dequeues a pending run; [`Task::drain`] waits until the task
//!   is neither pending nor running (may sleep).
//! - Dropping a `Task` **drains** it (a pending run still happens, then the value is freed):
//!   no handler runs after its data is gone. It may sleep: not with a lock held, not from
//!   the task's own handler, nor from another task's handler on the same single-threaded
//!   queue (the drain would wait for a run queued behind the running one).
//! - [`TimeoutTask<T>`] is a task enqueued after a delay (`taskqueue_enqueue_timeout_sbt`);
//!   dropping it cancels the timer, then drains.
//!
//! ```no_run
//! # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
//! use core::sync::atomic::{AtomicU32, Ordering};
//! use freebsd_kmi::taskqueue::{Task, TaskQueue};
//!
//! fn work(runs: &AtomicU32, pending: u32) {
//!     // thread context: may sleep (M_WAITOK allocations, sleeping locks)
//!     runs.fetch_add(1, Ordering::Relaxed);
//!     let _ = pending; // how many enqueues this run covers
//! }
//!
//! let task = Task::new(&TaskQueue::system()?, AtomicU32::new(0), work)?;
//! task.enqueue();
//! task.enqueue(); // still pending: coalesced, the handler runs once with pending 2
//! drop(task);     // drains: the run happens, then the value is freed
//! # Ok(()) }
//! ```
//!
//! A leaked `Task` (`mem::forget`) keeps its value and queue alive forever; [`live_tasks`]
//! stays non-zero so `MOD_UNLOAD` answers `EBUSY` and the module's code stays loaded.

use crate::errno::{ENOMEM, Errno};
use crate::heap::{KBox, M_RUST};
use crate::malloc::Flags;
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_int, c_uint, c_void};
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use freebsd_kpi::common::callout::C_HARDCLOCK;
use freebsd_kpi::common::malloc::M_WAITOK;
use freebsd_kpi::common::taskqueue::{
    _timeout_task_init, task, taskqueue, taskqueue_cancel, taskqueue_cancel_timeout, taskqueue_create, taskqueue_drain,
    taskqueue_drain_timeout, taskqueue_enqueue, taskqueue_enqueue_timeout_sbt, taskqueue_free, taskqueue_start_threads,
    taskqueue_thread, taskqueue_thread_enqueue, timeout_task,
};

/// Tasks (and timeout tasks) of this module created and not yet dropped (drained).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many [`Task`]s and [`TimeoutTask`]s of this module exist. Non-zero after the
/// module's state is dropped only if one was leaked: its handler may still run module code.
pub fn live_tasks() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// The priority of private queue threads: `PWAIT`, as `TASKQUEUE_DEFINE_THREAD` passes
/// (its value differs per release: the release folder's `priority.rs`).
fn pwait() -> c_int {
    freebsd_kpi::selected::PWAIT
}

struct QueueShared {
    /// The queue variable: `taskqueue_thread_enqueue` reads the queue through it
    /// (`context = &tq`), so it lives at a fixed heap address.
    tq: UnsafeCell<*mut taskqueue>,
    refs: AtomicUsize,
    system: bool,
}

/// A taskqueue handle: the system queue or a private one (freed with its last handle).
///
/// # Invariants
///
/// `shared` points to a live `QueueShared` (allocated from `M_RUST`) whose `refs` counts
/// the handles; `*tq` is a live taskqueue (the kernel's `taskqueue_thread` when `system`,
/// else one created by `taskqueue_create` and freed only when `refs` drops to zero).
pub struct TaskQueue {
    shared: NonNull<QueueShared>,
}

// SAFETY: taskqueues are used from any thread; the reference count is atomic.
unsafe impl Send for TaskQueue {}
// SAFETY: as above.
unsafe impl Sync for TaskQueue {}

impl TaskQueue {
    fn from_tq(tq: *mut taskqueue, system: bool) -> Result<TaskQueue, Errno> {
        let b = KBox::<QueueShared>::try_new_in(QueueShared { tq: UnsafeCell::new(tq), refs: AtomicUsize::new(1), system }, Flags::WAITOK, &M_RUST)?;
        let (p, _) = KBox::into_raw(b);
        // INVARIANT: a fresh count of one for this handle.
        Ok(TaskQueue { shared: NonNull::new(p).ok_or(ENOMEM)? })
    }

    /// A handle of the system queue `taskqueue_thread`. **May sleep** (a small allocation).
    pub fn system() -> Result<TaskQueue, Errno> {
        // SAFETY: `taskqueue_thread` is set at boot (SI_SUB_TASKQ), long before modules load.
        let tq = unsafe { core::ptr::addr_of!(taskqueue_thread).read() };
        Self::from_tq(tq, true)
    }

    /// A private queue named `name` served by `threads` kernel threads named `name` (or
    /// `name_N`). **May sleep**.
    pub fn new(name: &'static CStr, threads: u8) -> Result<TaskQueue, Errno> {
        let q = Self::from_tq(core::ptr::null_mut(), false)?;
        let var = q.shared().tq.get();
        // SAFETY: `name` is a C string (copied); `taskqueue_thread_enqueue` wakes the queue
        // read through `var`, a heap slot that lives as long as the queue (freed with the
        // last handle, after taskqueue_free).
        let tq = unsafe { taskqueue_create(name.as_ptr(), M_WAITOK, Some(taskqueue_thread_enqueue), var.cast()) };
        if tq.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: the slot is ours; the queue has no threads yet, nothing reads it.
        unsafe { *var = tq };
        // SAFETY: `var` holds the new queue; the format is "%s" with `name`.
        let e = unsafe { taskqueue_start_threads(var, c_int::from(threads.max(1)), pwait(), c"%s".as_ptr(), name.as_ptr()) };
        if e != 0 {
            // Dropping `q` frees the queue.
            return Err(Errno::from_raw(e).unwrap_or(ENOMEM));
        }
        Ok(q)
    }

    fn shared(&self) -> &QueueShared {
        // SAFETY: live while a handle exists (invariant).
        unsafe { self.shared.as_ref() }
    }

    fn raw(&self) -> *mut taskqueue {
        // SAFETY: written once before the handle is shared.
        unsafe { *self.shared().tq.get() }
    }
}

impl Clone for TaskQueue {
    fn clone(&self) -> TaskQueue {
        self.shared().refs.fetch_add(1, Ordering::Relaxed);
        TaskQueue { shared: self.shared }
    }
}

impl Drop for TaskQueue {
    fn drop(&mut self) {
        if self.shared().refs.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let (system, tq) = (self.shared().system, self.raw());
        if !system && !tq.is_null() {
            // SAFETY: the last handle: no task of ours is left (each holds a handle), so
            // taskqueue_free only waits for its threads. May sleep, like every drop here.
            unsafe { taskqueue_free(tq) };
        }
        // SAFETY: allocated by from_tq from M_RUST; no handle is left.
        drop(unsafe { KBox::<QueueShared>::from_raw(self.shared.as_ptr(), &M_RUST) });
    }
}

/// A task handler: runs on a queue thread with the task's value and the pending count
/// (how many enqueues this run covers). May sleep.
pub type TaskFn<T> = fn(&T, u32);

struct TaskInner<T: Send + Sync + 'static> {
    task: UnsafeCell<task>,
    data: T,
    handler: TaskFn<T>,
    _pin: PhantomPinned,
}

unsafe extern "C" fn task_trampoline<T: Send + Sync + 'static>(ctx: *mut c_void, pending: c_int) {
    // SAFETY: `ctx` is the task's pinned `TaskInner<T>`, alive until its drain in Drop.
    let inner = unsafe { &*(ctx as *const TaskInner<T>) };
    (inner.handler)(&inner.data, pending as u32);
}

/// Work run on a [`TaskQueue`]; see the [module docs](self).
///
/// # Invariants
///
/// `inner.task` was set up by `TASK_INIT(&task, 0, task_trampoline::<T>, inner)` and is
/// only enqueued on `queue`; `inner` is freed only after `taskqueue_drain` in `Drop`.
pub struct Task<T: Send + Sync + 'static> {
    inner: Pin<KBox<TaskInner<T>>>,
    queue: TaskQueue,
}

impl<T: Send + Sync + 'static> Task<T> {
    /// A task on `queue` owning `data`. **May sleep** (allocation).
    pub fn new(queue: &TaskQueue, data: T, handler: TaskFn<T>) -> Result<Task<T>, Errno> {
        let inner = KBox::try_new_in(
            // SAFETY: an all-zero struct task is TASK_INIT's starting point.
            TaskInner { task: UnsafeCell::new(unsafe { core::mem::zeroed() }), data, handler, _pin: PhantomPinned },
            Flags::WAITOK,
            &M_RUST,
        )?;
        // SAFETY: the value stays in its heap allocation, reachable only through `Pin`.
        let inner = unsafe { Pin::new_unchecked(inner) };
        let ctx = (&*inner as *const TaskInner<T>).cast_mut().cast::<c_void>();
        // SAFETY: TASK_INIT(t, 0, fn, ctx): inline stores, the task is not queued yet.
        unsafe {
            let t = inner.task.get();
            (*t).ta_pending = 0;
            (*t).ta_priority = 0;
            (*t).ta_flags = 0;
            (*t).ta_func = Some(task_trampoline::<T>);
            (*t).ta_context = ctx;
        }
        LIVE.fetch_add(1, Ordering::AcqRel);
        // INVARIANT: initialised for `queue`, pinned.
        Ok(Task { inner, queue: queue.clone() })
    }

    /// The task's value.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// Queue the task (a pending task only gets its pending count incremented). Never
    /// sleeps.
    pub fn enqueue(&self) {
        // SAFETY: an initialised task on its own queue (invariant).
        unsafe { taskqueue_enqueue(self.queue.raw(), self.inner.task.get()) };
    }

    /// Queue the task unless it is pending: `Err(EEXIST)` then (`taskqueue_enqueue_flags(...,
    /// TASKQUEUE_FAIL_IF_PENDING)`, FreeBSD 14.0 and later). Never sleeps.
    #[cfg(not(feature = "freebsd-13"))]
    pub fn enqueue_if_idle(&self) -> Result<(), Errno> {
        use freebsd_kpi::selected::{TASKQUEUE_FAIL_IF_PENDING, taskqueue_enqueue_flags};
        // SAFETY: as in enqueue.
        match unsafe { taskqueue_enqueue_flags(self.queue.raw(), self.inner.task.get(), TASKQUEUE_FAIL_IF_PENDING) } {
            0 => Ok(()),
            e => Err(Errno::from_raw(e).unwrap_or(crate::errno::EEXIST)),
        }
    }

    /// Dequeue a pending run: `Ok(pending count)` it covered (0: nothing was pending), or
    /// `Err(EBUSY)` when the handler is running (it finishes). Never sleeps.
    pub fn cancel(&self) -> Result<u32, Errno> {
        let mut pend: c_uint = 0;
        // SAFETY: as in enqueue; `pend` is a valid out-parameter.
        let e = unsafe { taskqueue_cancel(self.queue.raw(), self.inner.task.get(), &mut pend) };
        match Errno::from_raw(e) {
            None => Ok(pend),
            Some(e) => Err(e),
        }
    }

    /// Wait until the task is neither pending nor running. **Sleeps**: not with a lock held,
    /// not from this task's handler.
    pub fn drain(&self) {
        // SAFETY: as in enqueue.
        unsafe { taskqueue_drain(self.queue.raw(), self.inner.task.get()) };
    }
}

impl<T: Send + Sync + 'static> Drop for Task<T> {
    fn drop(&mut self) {
        self.drain();
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

struct TimeoutInner<T: Send + Sync + 'static> {
    tt: UnsafeCell<timeout_task>,
    data: T,
    handler: TaskFn<T>,
    _pin: PhantomPinned,
}

unsafe extern "C" fn timeout_trampoline<T: Send + Sync + 'static>(ctx: *mut c_void, pending: c_int) {
    // SAFETY: `ctx` is the pinned `TimeoutInner<T>`, alive until its drain in Drop.
    let inner = unsafe { &*(ctx as *const TimeoutInner<T>) };
    (inner.handler)(&inner.data, pending as u32);
}

/// A task enqueued after a delay (`struct timeout_task`); see the [module docs](self).
///
/// # Invariants
///
/// `inner.tt` was set up by `_timeout_task_init(queue, ...)` with `timeout_trampoline::<T>`
/// and `inner`; `inner` is freed only after cancel + `taskqueue_drain_timeout` in `Drop`.
pub struct TimeoutTask<T: Send + Sync + 'static> {
    inner: Pin<KBox<TimeoutInner<T>>>,
    queue: TaskQueue,
}

// SAFETY: the kernel serialises the timeout task; `T: Sync` is shared with the handler.
unsafe impl<T: Send + Sync + 'static> Send for TimeoutTask<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync + 'static> Sync for TimeoutTask<T> {}
// SAFETY: as for TimeoutTask.
unsafe impl<T: Send + Sync + 'static> Send for Task<T> {}
// SAFETY: `&Task` only enqueues/cancels (kernel-serialised) and gives `&T` (`T: Sync`).
unsafe impl<T: Send + Sync + 'static> Sync for Task<T> {}

impl<T: Send + Sync + 'static> TimeoutTask<T> {
    /// A timeout task on `queue` owning `data`. **May sleep**.
    pub fn new(queue: &TaskQueue, data: T, handler: TaskFn<T>) -> Result<TimeoutTask<T>, Errno> {
        let inner = KBox::try_new_in(
            // SAFETY: _timeout_task_init initialises every field it uses.
            TimeoutInner { tt: UnsafeCell::new(unsafe { core::mem::zeroed() }), data, handler, _pin: PhantomPinned },
            Flags::WAITOK,
            &M_RUST,
        )?;
        // SAFETY: the value stays in its heap allocation, reachable only through `Pin`.
        let inner = unsafe { Pin::new_unchecked(inner) };
        let ctx = (&*inner as *const TimeoutInner<T>).cast_mut().cast::<c_void>();
        // SAFETY: a pinned timeout_task, the queue is live (we keep a handle).
        unsafe { _timeout_task_init(queue.raw(), inner.tt.get(), 0, Some(timeout_trampoline::<T>), ctx) };
        LIVE.fetch_add(1, Ordering::AcqRel);
        // INVARIANT: initialised for `queue`, pinned.
        Ok(TimeoutTask { inner, queue: queue.clone() })
    }

    /// The task's value.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// Enqueue the task `after` from now (re-arming moves the deadline); returns the
    /// kernel's count of runs already pending (`taskqueue_enqueue_timeout_sbt`). Never sleeps.
    pub fn enqueue_after(&self, after: Duration) -> c_int {
        let sbt = crate::sync::duration_to_sbt(after);
        // SAFETY: initialised timeout task on its queue (invariant).
        unsafe { taskqueue_enqueue_timeout_sbt(self.queue.raw(), self.inner.tt.get(), sbt, 0, C_HARDCLOCK as c_int) }
    }

    /// Cancel the timer and any pending run: `Ok(pending runs cancelled)` or `Err(EBUSY)`
    /// when the handler is running. Never sleeps.
    pub fn cancel(&self) -> Result<u32, Errno> {
        let mut pend: c_uint = 0;
        // SAFETY: as in enqueue_after; `pend` is a valid out-parameter.
        let e = unsafe { taskqueue_cancel_timeout(self.queue.raw(), self.inner.tt.get(), &mut pend) };
        match Errno::from_raw(e) {
            None => Ok(pend),
            Some(e) => Err(e),
        }
    }
}

impl<T: Send + Sync + 'static> Drop for TimeoutTask<T> {
    fn drop(&mut self) {
        // taskqueue_drain_timeout alone leaves an armed timer armed (subr_taskqueue.c): cancel
        // first, then wait for a running handler and the callout.
        let _ = self.cancel();
        // SAFETY: as in enqueue_after. Sleeps.
        unsafe { taskqueue_drain_timeout(self.queue.raw(), self.inner.tt.get()) };
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

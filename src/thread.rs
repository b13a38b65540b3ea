//! Kernel threads: run module code on its own thread (`kthread_add`), and join it before
//! the module's code goes away.
//!
//! [`KThread::spawn`] starts a thread in `proc0` running a closure. Dropping the
//! [`KThread`] handle **waits until the closure has returned and the thread has left the
//! module's code** (it is inside `kthread_exit`, kernel code). Keep the handle in the
//! module's state: unloading drops the state, so the unload waits for the thread.
//! Dropping the handle does not *ask* the thread to stop: tell it first (a flag under a
//! [`Mutex`] and a [`CondVar`] notification, as `examples/workers` does).
//!
//! ```no_run
//! # extern crate alloc;
//! # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
//! use alloc::sync::Arc;
//! use core::pin::Pin;
//! use freebsd_kmi::heap::KBox;
//! use freebsd_kmi::sync::{CondVar, Mutex};
//! use freebsd_kmi::thread::KThread;
//!
//! struct Shared { stop: Pin<KBox<Mutex<bool>>>, changed: Pin<KBox<CondVar>> }
//!
//! let shared = Arc::new(Shared { stop: Mutex::new(false)?, changed: CondVar::new()? });
//! let s = shared.clone();
//! let worker = KThread::spawn(c"worker", move || {
//!     let mut stop = s.stop.lock();
//!     while !*stop {
//!         stop = s.changed.wait(stop);        // sleeps with the mutex released
//!     }
//! })?;
//! // ... at unload:
//! *shared.stop.lock() = true;
//! shared.changed.notify_all();
//! drop(worker);                               // joins: the thread has left the module's code
//! # Ok(()) }
//! ```
//!
//! How the join works: the thread, after the closure, takes the handle's mutex, marks
//! itself finished and waits (on the mutex) until the joiner has asked for the join; it
//! then unlocks and calls `kthread_exit`, whose first act is `wakeup(curthread)` ("A
//! module may be waiting for us to exit", sys/kern/kern_kthread.c). The joiner sets the
//! join request under the mutex and sleeps on the thread's `struct thread *` with the
//! mutex as interlock, atomically: the thread cannot reach `kthread_exit` before the joiner
//! sleeps, and the joiner wakes only from `kthread_exit`'s wakeup, after the thread's last
//! instruction in module code.
//!
//! Leaking a handle (`core::mem::forget`) leaves its thread running module code that
//! nothing joins. [`live_threads`] counts the threads of this module that were spawned and
//! not joined; while it is non-zero, `MOD_UNLOAD` ([`module!`](crate::module!)) drops the
//! state but answers `EBUSY`, so the module stays loaded and its code stays valid. (After a
//! *failed* `MOD_LOAD` the kernel unloads the file whatever `MOD_UNLOAD` answers: do not
//! leak a handle in `load`.)
//!
//! Never drop a handle on the thread it designates (sent to it through shared state): the
//! join would wait for the thread's own exit forever (the simulator reports the deadlock).
//!
//! Spawning and joining **may sleep**: call them from thread context with no lock held
//! (module load and unload qualify).
//!
//! [`Mutex`]: crate::sync::Mutex
//! [`CondVar`]: crate::sync::CondVar

use crate::errno::{ENOMEM, Errno};
use crate::heap::{KBox, M_RUST};
use crate::kernel::Kernel;
use crate::malloc::Flags;
use crate::sync::sleep::sleep_on_address;
use crate::sync::{Mutex, Priority};
use core::ffi::{CStr, c_void};
use core::marker::PhantomData;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use freebsd_kpi::common::kthread::thread;
use freebsd_kpi::kpi_sync::KpiSync;

/// Threads spawned by this module (this copy of the crate) and not joined yet.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many [`KThread`]s of this module were spawned and not yet joined (dropped). Zero
/// after the module's state is dropped unless a handle was leaked; a non-zero count means
/// a thread may still run module code, so the module must stay loaded.
pub fn live_threads() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// Where a thread is in its life, under the join mutex.
struct JoinState {
    /// The closure returned.
    finished: bool,
    /// The joiner asked for the join and sleeps (or is about to sleep) on the thread.
    join_requested: bool,
}

/// What the thread takes: its closure and the join mutex it reports to.
struct Start<F, K: KpiSync> {
    f: F,
    join: *const Mutex<JoinState, K>,
}

/// A kernel thread running module code; dropping it joins the thread.
///
/// # Invariants
///
/// `td` is the thread `kthread_add` created to run `trampoline` with a `Start` whose
/// `join` points into `join`; that thread uses `join` until it calls `kthread_exit`, and
/// `join` is freed only after the join in `Drop` returned.
pub struct KThread<K: KpiSync = Kernel> {
    join: Pin<KBox<Mutex<JoinState, K>, K>>,
    td: *mut thread,
    kernel: PhantomData<fn() -> K>,
}

// SAFETY: the handle can be dropped (joined) from any thread; `td` is only used as a wait
// channel.
unsafe impl<K: KpiSync> Send for KThread<K> {}
// SAFETY: `&KThread` gives no access to anything.
unsafe impl<K: KpiSync> Sync for KThread<K> {}

impl KThread {
    /// Starts a kernel thread named `name` (copied; shown by `procstat -t`) running `f`.
    /// **May sleep** (allocation and thread creation). Fails with the errno of
    /// `kthread_add`, or `ENOMEM`; `f` is dropped then.
    pub fn spawn<F: FnOnce() + Send + 'static>(name: &CStr, f: F) -> Result<KThread, Errno> {
        Self::spawn_in(name, f)
    }
}

impl<K: KpiSync> KThread<K> {
    /// [`KThread::spawn`] on kernel `K`.
    pub fn spawn_in<F: FnOnce() + Send + 'static>(name: &CStr, f: F) -> Result<KThread<K>, Errno> {
        let join = Mutex::<JoinState, K>::try_new_in(
            JoinState { finished: false, join_requested: false },
            c"kthread join",
            Flags::WAITOK,
            &M_RUST,
        )?;
        let start = KBox::<Start<F, K>, K>::try_new_in(Start { f, join: &*join }, Flags::WAITOK, &M_RUST)?;
        let (arg, _) = KBox::into_raw(start);
        // SAFETY: `trampoline::<F, K>` takes ownership of `arg` (a `KBox<Start<F, K>>` from
        // M_RUST) and ends with kthread_exit; `F: Send + 'static` may run on another thread;
        // `name` is a C string kthread_add copies.
        match unsafe { K::kthread_add(trampoline::<F, K>, arg.cast::<c_void>(), name.as_ptr()) } {
            Ok(td) => {
                LIVE.fetch_add(1, Ordering::AcqRel);
                // INVARIANT: the new thread runs `trampoline` with `join`, which the handle owns.
                Ok(KThread { join, td, kernel: PhantomData })
            }
            Err(error) => {
                // SAFETY: no thread was created: `arg` is still ours, from into_raw.
                drop(unsafe { KBox::<Start<F, K>, K>::from_raw(arg, &M_RUST) });
                Err(Errno::from_raw(error).unwrap_or(ENOMEM))
            }
        }
    }
}

impl<K: KpiSync> Drop for KThread<K> {
    fn drop(&mut self) {
        let mut state = self.join.lock();
        state.join_requested = true;
        // The thread may be waiting for the request (it finished first).
        K::wakeup(request_channel(&*self.join));
        // Sleep on the thread itself until kthread_exit's wakeup(td). The mutex is released
        // only once this thread is on the sleep queue, and the exiting thread needs it to see
        // the request: its wakeup cannot come before this sleep. `td` is only an address here.
        let (state, _) = sleep_on_address(state, self.td.cast_const().cast(), c"kthjoin", Priority::UNCHANGED, None);
        debug_assert!(state.finished);
        drop(state);
        // The thread is in kthread_exit and no longer touches `join`; it is freed with self.
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The wait channel of the join request: the join mutex's address.
fn request_channel<K: KpiSync>(join: &Mutex<JoinState, K>) -> *const c_void {
    (join as *const Mutex<JoinState, K>).cast()
}

/// The thread's entry point: runs the closure, reports, waits for the join request, exits.
///
/// # Safety
/// `arg` is a `KBox<Start<F, K>>` from `M_RUST` given up with `into_raw`, whose `join`
/// outlives this thread's use of it (the handle's `Drop` waits for `kthread_exit`).
unsafe extern "C" fn trampoline<F: FnOnce() + Send + 'static, K: KpiSync>(arg: *mut c_void) {
    // SAFETY: per the contract, `arg` is ours.
    let start = unsafe { KBox::<Start<F, K>, K>::from_raw(arg.cast(), &M_RUST) };
    let Start { f, join } = KBox::into_inner(start);
    f();
    // SAFETY: the handle keeps the join mutex alive until this thread is in kthread_exit.
    let join = unsafe { &*join };
    let mut state = join.lock();
    state.finished = true;
    while !state.join_requested {
        (state, _) = sleep_on_address(state, request_channel(join), c"kthwait", Priority::UNCHANGED, None);
    }
    drop(state);
    // SAFETY: a kernel thread from kthread_add, holding no lock. kthread_exit calls
    // wakeup(curthread), which releases the joiner.
    unsafe { K::kthread_exit() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{self, MockKernel};
    use crate::mock_sync;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_failed_spawn_drops_the_closure_and_frees_everything() {
        mock::reset();
        mock_sync::reset();
        mock_sync::with(|s| s.kthread_add_error = 35);
        let drops = Arc::new(AtomicUsize::new(0));
        struct D(Arc<AtomicUsize>);
        impl Drop for D {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let d = D(drops.clone());
        let r = KThread::<MockKernel>::spawn_in(c"t", move || drop(d));
        assert_eq!(r.err().map(Errno::get), Some(35));
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the closure is dropped, not run");
        assert!(mock::with(|s| s.live.is_empty()), "no allocation leaks");
        assert!(mock_sync::with(|s| s.locks.is_empty()), "the join mutex is destroyed");
        assert_eq!(live_threads(), 0);
    }
}

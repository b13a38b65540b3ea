//! Callouts (callout(9)): run a handler later, on the softclock thread, with a mutex held.
//!
//! A [`Callout<T>`] owns a value `T` protected by its own [`Mutex`] and a `struct callout`
//! initialised with `callout_init_mtx(c, &mtx, 0)` semantics: the kernel takes the mutex
//! before it calls the handler, which gets `&mut T`, and releases it afterwards. Stopping
//! with the mutex held is race-free: a handler waiting for the mutex is cancelled.
//!
//! - [`Callout::reset`] arms (or re-arms) it [`After::ticks`] or [`After::duration`] ahead
//!   (`callout_reset_sbt_on`); it returns whether a pending run was replaced.
//! - [`Callout::stop`] returns whether it was pending (a run is cancelled); a handler may
//!   still be running on another CPU.
//! - Dropping the `Callout` **drains** it (`callout_drain`: waits for a running handler and
//!   stops it from re-arming), then frees the value: no handler can run after its data is
//!   gone. Drop may sleep: not with a lock held, not from the handler.
//! - The handler **must not sleep**: no `M_WAITOK` allocation (the global allocator
//!   sleeps), no [`pause`](crate::sync::pause), no [`CondVar`](crate::sync::CondVar) wait.
//!   It runs under `THREAD_NO_SLEEPING()` with a mutex held: WITNESS reports a sleep.
//!   Defer sleepable work to a [`Task`](crate::taskqueue) queued from the handler.
//! - It can re-arm itself through the [`Rearm`] it receives.
//!
//! Leaking a `Callout` (`mem::forget`) leaks its value and its armed callout: the memory
//! stays valid, and [`live_callouts`] stays non-zero so that `MOD_UNLOAD` answers `EBUSY`
//! and the module's code stays loaded (like a leaked [`KThread`](crate::thread::KThread)).
//!
//! ```no_run
//! # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
//! use core::time::Duration;
//! use freebsd_kmi::callout::{After, Callout, Rearm};
//!
//! fn tick(count: &mut u64, rearm: &mut Rearm) {
//!     *count += 1; // the callout's mutex is held: no sleeping here
//!     rearm.reset(After::duration(Duration::from_millis(100)));
//! }
//!
//! let c = Callout::new(0u64, tick)?; // may sleep
//! c.reset(After::duration(Duration::from_millis(100)));
//! // ... at unload:
//! let ticks = *c.lock();
//! drop(c); // drains: the handler has returned and will not run again
//! # let _ = ticks;
//! # Ok(()) }
//! ```
//!
//! The `_callout_stop_safe` arity differs per release (3 arguments on 13.x/14.x, 2 on
//! 15.0): the release folder's `callout_stop_safe` passes the right ones.

use crate::errno::Errno;
use crate::heap::{KBox, M_RUST};
use crate::malloc::Flags;
use crate::sync::Mutex;
use crate::sync::MutexGuard;
use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use freebsd_kpi::common::callout::{C_HARDCLOCK, CS_DRAIN, _callout_init_lock, callout, callout_reset_sbt_on};
use freebsd_kpi::selected::callout_stop_safe;

/// Callouts of this module created and not yet dropped (drained).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many [`Callout`]s of this module exist (not drained). Non-zero after the module's
/// state is dropped only if one was leaked: its handler may still run module code.
pub fn live_callouts() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// When a callout fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct After(i64);

impl After {
    /// `ticks` clock ticks from the last tick (`callout_reset(c, ticks, ...)`; at least 1).
    pub fn ticks(ticks: u32) -> After {
        After(i64::from(ticks) * (SBT_1S / i64::from(crate::sync::sleep::hz().max(1))))
    }
    /// `d` from the last tick (`callout_reset_sbt(c, sbt, 0, ..., C_HARDCLOCK)`; at least
    /// one tick).
    pub fn duration(d: Duration) -> After {
        After(crate::sync::duration_to_sbt(d))
    }
}

const SBT_1S: i64 = 1 << 32;

/// What a handler gets besides `&mut T`: re-arm the callout.
pub struct Rearm {
    c: *mut callout,
    arg: *mut c_void,
    func: unsafe extern "C" fn(*mut c_void),
}

impl Rearm {
    /// Arm the callout again, `after` from now (the mutex is held: this is `reset`).
    pub fn reset(&mut self, after: After) {
        // SAFETY: `c` is the running callout, initialised; the handler holds its mutex.
        unsafe { callout_reset_sbt_on(self.c, after.0, 0, Some(self.func), self.arg, -1, C_HARDCLOCK as c_int) };
    }
}

/// The handler type: runs with the callout's mutex held; must not sleep.
pub type Handler<T> = fn(&mut T, &mut Rearm);

struct Shared<T: Send + 'static> {
    data: Pin<KBox<Mutex<T>>>,
    co: UnsafeCell<callout>,
    handler: Handler<T>,
    _pin: PhantomPinned,
}

/// A callout bound to a mutex-protected `T`; see the [module docs](self).
///
/// # Invariants
///
/// `shared.co` was initialised by `_callout_init_lock` with `shared.data`'s mutex at its
/// current (pinned, heap) address; every arming passes `trampoline::<T>` and `shared` as
/// argument; `shared` is freed only after `callout_drain` returned in `Drop`.
pub struct Callout<T: Send + 'static> {
    shared: Pin<KBox<Shared<T>>>,
}

// SAFETY: the callout may be armed, stopped and drained from any thread; `T` is only
// reached under its mutex.
unsafe impl<T: Send + 'static> Send for Callout<T> {}
// SAFETY: as above: `&Callout` gives `T` only under the mutex.
unsafe impl<T: Send + 'static> Sync for Callout<T> {}

unsafe extern "C" fn trampoline<T: Send + 'static>(arg: *mut c_void) {
    // SAFETY: `arg` is the `Shared<T>` the callout was armed with; it outlives every run
    // (drained before it is freed, invariant). The kernel holds the mutex (callout_init_mtx).
    let shared = unsafe { &*(arg as *const Shared<T>) };
    // SAFETY: the mutex is held by this thread for the handler's duration.
    let data = unsafe { &mut *shared.data.data_locked() };
    let mut rearm = Rearm { c: shared.co.get(), arg, func: trampoline::<T> };
    (shared.handler)(data, &mut rearm);
}

impl<T: Send + 'static> Callout<T> {
    /// A stopped callout holding `value`, running `handler` when it fires. **May sleep**
    /// (`M_WAITOK` allocations).
    #[track_caller]
    pub fn new(value: T, handler: Handler<T>) -> Result<Callout<T>, Errno> {
        let data = Mutex::new(value)?;
        let shared = KBox::try_new_in(
            Shared {
                data,
                // SAFETY: an all-zero struct callout is what _callout_init_lock bzeroes anyway.
                co: UnsafeCell::new(unsafe { core::mem::zeroed() }),
                handler,
                _pin: PhantomPinned,
            },
            Flags::WAITOK,
            &M_RUST,
        )?;
        // SAFETY: the value lives in its own heap allocation and is only reachable through
        // `Pin` from here on (`Shared` is `!Unpin`).
        let shared = unsafe { Pin::new_unchecked(shared) };
        // SAFETY: `co` is pinned on the heap with `data`; the mutex is a non-sleepable MTX_DEF.
        unsafe { _callout_init_lock(shared.co.get(), shared.data.raw_lock_object(), 0) };
        LIVE.fetch_add(1, Ordering::AcqRel);
        // INVARIANT: initialised with its own mutex, pinned.
        Ok(Callout { shared })
    }

    fn arg(&self) -> *mut c_void {
        (&*self.shared as *const Shared<T>).cast_mut().cast()
    }

    /// Lock the value (the handler cannot run meanwhile).
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.shared.data.lock()
    }

    /// Arm the callout `after` from now; `true` when a pending run was replaced. Takes the
    /// mutex (do not call it holding [`Callout::lock`]'s guard; use [`Callout::reset_locked`]).
    pub fn reset(&self, after: After) -> bool {
        let g = self.lock();
        self.reset_locked(&g, after)
    }

    /// [`Callout::reset`] with the guard of [`Callout::lock`] held. A guard of another
    /// callout's mutex is not this callout's lock: this one is then taken for the call.
    pub fn reset_locked(&self, guard: &MutexGuard<'_, T>, after: After) -> bool {
        if !self.is_my_guard(guard) {
            return self.reset(after);
        }
        // SAFETY: `co` is initialised (invariant); the argument is `shared`, which outlives
        // the callout (drained in Drop).
        unsafe { callout_reset_sbt_on(self.shared.co.get(), after.0, 0, Some(trampoline::<T>), self.arg(), -1, C_HARDCLOCK as c_int) != 0 }
    }

    fn is_my_guard(&self, guard: &MutexGuard<'_, T>) -> bool {
        use crate::sync::Interlock;
        guard.lock_object() == self.shared.data.raw_lock_object()
    }

    /// Stop the callout; `true` when it was pending (that run will not happen). A handler
    /// already running finishes. Takes the mutex.
    pub fn stop(&self) -> bool {
        let g = self.lock();
        self.stop_locked(&g)
    }

    /// [`Callout::stop`] with the guard of [`Callout::lock`] held (`callout_stop` of a
    /// callout with a lock requires it). A guard of another callout's mutex is not this
    /// callout's lock: this one is then taken for the call.
    pub fn stop_locked(&self, guard: &MutexGuard<'_, T>) -> bool {
        if !self.is_my_guard(guard) {
            return self.stop();
        }
        // SAFETY: initialised callout; its mutex is held by this thread (the guard).
        unsafe { callout_stop_safe(self.shared.co.get(), 0) > 0 }
    }
}

impl<T: Send + 'static> Drop for Callout<T> {
    fn drop(&mut self) {
        // SAFETY: initialised callout; `callout_drain` waits for a running handler and
        // prevents it from re-arming. Afterwards nothing references `shared`.
        unsafe { callout_stop_safe(self.shared.co.get(), CS_DRAIN as c_int) };
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

//! [`Mutex<T>`]: data protected by a FreeBSD sleep mutex (mtx(9), `MTX_DEF`).

use super::{Interlock, file_line, name, new_pinned, sealed};
use crate::errno::Errno;
use crate::heap::{KBox, M_RUST};
use crate::kernel::Kernel;
use crate::malloc::{Flags, MallocType};
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_int};
use core::fmt;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::pin::Pin;
use freebsd_kpi::common::lock::lock_object;
use freebsd_kpi::common::mutex::{MTX_DEF, mtx};
use freebsd_kpi::kpi_sync::KpiSync;

/// A value protected by an `MTX_DEF` mutex (mtx(9)).
///
/// - Locking may block (the thread spins, then waits on a turnstile) but never *sleeps*;
///   it may be called from any thread context, not while holding a [`SpinMutex`] and not
///   from an interrupt filter.
/// - While the guard lives the thread must not sleep: no [`pause`], no sleep or
///   [`CondVar`] wait on another lock, no [`SxLock`] locking, no `M_WAITOK` allocation
///   (the global allocator with `GLOBAL_ALLOC_FLAG_WAITOK` is `M_WAITOK`: use
///   [`KBox::try_new`] with [`Flags::NOWAIT`] under a guard). WITNESS reports each of these.
/// - The mutex does not recurse: locking it twice on one thread panics the kernel.
///
/// # Invariants
///
/// `raw` was initialised by `mtx_init(MTX_DEF)` at its current address, which never
/// changes (the mutex is only handed out pinned), and is destroyed only by `Drop`. `data`
/// is accessed only by the thread that holds `raw`.
///
/// [`SpinMutex`]: super::SpinMutex
/// [`SxLock`]: super::SxLock
/// [`CondVar`]: super::CondVar
/// [`pause`]: super::pause
pub struct Mutex<T, K: KpiSync = Kernel> {
    raw: UnsafeCell<mtx>,
    data: UnsafeCell<T>,
    _pin: PhantomPinned,
    kernel: PhantomData<fn() -> K>,
}

// SAFETY: the mutex hands `T` from thread to thread (`T: Send`); `mtx` is a kernel object
// usable from any thread.
unsafe impl<T: Send, K: KpiSync> Send for Mutex<T, K> {}
// SAFETY: `&Mutex` only gives access to `T` under the lock, one thread at a time.
unsafe impl<T: Send, K: KpiSync> Sync for Mutex<T, K> {}

impl<T> Mutex<T> {
    /// A new mutex holding `value`, named after the caller's `file:line`, on the kernel
    /// heap (`M_WAITOK`, charged to [`M_RUST`]): **may sleep**.
    #[track_caller]
    pub fn new(value: T) -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(value, name::for_location(Location::caller()), Flags::WAITOK, &M_RUST)
    }

    /// A new mutex named `name` (its WITNESS type); may sleep, as [`Mutex::new`].
    pub fn new_named(value: T, name: &'static CStr) -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(value, name, Flags::WAITOK, &M_RUST)
    }
}

impl<T, K: KpiSync> Mutex<T, K> {
    /// A new mutex allocated with `flags` (`Flags::NOWAIT` where sleeping is forbidden:
    /// `Err(ENOMEM)` instead) from malloc type `ty`. `value` is dropped on failure.
    pub fn try_new_in(value: T, name: &'static CStr, flags: Flags, ty: &'static MallocType) -> Result<Pin<KBox<Self, K>>, Errno> {
        let make = || Mutex {
            // SAFETY: an all-zero `struct mtx` is valid (null pointers, zero words) and is
            // what `mtx_init` expects of a lock that was never initialised.
            raw: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            data: UnsafeCell::new(value),
            _pin: PhantomPinned,
            kernel: PhantomData,
        };
        let init = |m: *mut Self| {
            // SAFETY: `m` points to the new, zeroed mutex; `name` is 'static.
            // INVARIANT: initialised once, at the address it keeps.
            unsafe { K::mtx_init((*m).raw.get(), name.as_ptr(), core::ptr::null(), MTX_DEF) }
        };
        // SAFETY: `init` initialises the mutex at its final heap address; it is pinned
        // from then on.
        unsafe { new_pinned::<Self, K>(flags, ty, make, init) }
    }

    /// The mutex's `struct lock_object` (for `callout_init_mtx`).
    pub(crate) fn raw_lock_object(&self) -> *mut lock_object {
        // SAFETY: `raw` is a live mtx; `lock_object` is its first field.
        unsafe { &raw mut (*self.raw.get()).lock_object }
    }

    /// The protected value, for code the kernel runs with the mutex held (a callout
    /// handler).
    ///
    /// # Safety
    /// The calling thread must hold the mutex for as long as it uses the pointer.
    pub(crate) unsafe fn data_locked(&self) -> *mut T {
        self.data.get()
    }

    /// Locks the mutex, blocking until it is free (never sleeps, see the type's docs).
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T, K> {
        let at = Location::caller();
        let (file, line) = file_line(at);
        // SAFETY: `raw` is an initialised MTX_DEF mutex (invariant).
        unsafe { K::mtx_lock(self.raw.get(), file, line) };
        // INVARIANT: the calling thread now holds `raw`.
        MutexGuard { mutex: self, at, not_send: PhantomData }
    }

    /// Locks the mutex if it is free (`mtx_trylock`); never blocks.
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T, K>> {
        let at = Location::caller();
        let (file, line) = file_line(at);
        // SAFETY: `raw` is an initialised MTX_DEF mutex (invariant).
        let got: c_int = unsafe { K::mtx_trylock(self.raw.get(), file, line) };
        // INVARIANT: a non-zero return means the calling thread holds `raw`.
        (got != 0).then(|| MutexGuard { mutex: self, at, not_send: PhantomData })
    }

    /// The value, through exclusive access to the mutex (no locking needed).
    pub fn get_mut(self: Pin<&mut Self>) -> &mut T {
        // SAFETY: `data` is not structurally pinned (nothing relies on its address), and
        // `&mut Self` excludes every other access.
        unsafe { self.get_unchecked_mut().data.get_mut() }
    }

    /// The mutex's name (its WITNESS type).
    pub fn name(&self) -> &CStr {
        // SAFETY: `lo_name` was set by mtx_init to the 'static name; read-only afterwards.
        let p = unsafe { (*self.raw.get()).lock_object.lo_name };
        // SAFETY: a NUL-terminated name that outlives the mutex.
        if p.is_null() { c"" } else { unsafe { CStr::from_ptr(p) } }
    }
}

impl<T, K: KpiSync> Drop for Mutex<T, K> {
    fn drop(&mut self) {
        // SAFETY: initialised (invariant) and not held: every guard borrows the mutex, so
        // none is alive (a leaked guard makes mtx_destroy panic the kernel, which is not UB).
        unsafe { K::mtx_destroy(self.raw.get()) };
    }
}

impl<T: fmt::Debug, K: KpiSync> fmt::Debug for Mutex<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").field("name", &self.name()).finish_non_exhaustive()
    }
}

/// Proof that the current thread holds a [`Mutex`]: access to its value; unlocks on drop.
///
/// # Invariants
///
/// The thread that created the guard holds `mutex.raw`; the guard is not `Send`, so that
/// thread also drops it.
#[must_use = "the mutex is unlocked as soon as the guard is dropped"]
pub struct MutexGuard<'a, T, K: KpiSync = Kernel> {
    mutex: &'a Mutex<T, K>,
    at: &'static Location<'static>,
    not_send: PhantomData<*mut ()>,
}

// SAFETY: sharing the guard only shares `&T`.
unsafe impl<T: Sync, K: KpiSync> Sync for MutexGuard<'_, T, K> {}

impl<T, K: KpiSync> MutexGuard<'_, T, K> {
    /// Where this guard's lock was taken (passed to `mtx_unlock` as well).
    pub fn locked_at(&self) -> &'static Location<'static> {
        self.at
    }
}

impl<T, K: KpiSync> Deref for MutexGuard<'_, T, K> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held (invariant): no other thread accesses `data`.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T, K: KpiSync> DerefMut for MutexGuard<'_, T, K> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; `&mut self` makes this the only access on this thread.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T, K: KpiSync> Drop for MutexGuard<'_, T, K> {
    fn drop(&mut self) {
        let (file, line) = file_line(self.at);
        // SAFETY: this thread holds the mutex (invariant).
        unsafe { K::mtx_unlock(self.mutex.raw.get(), file, line) };
    }
}

impl<T: fmt::Debug, K: KpiSync> fmt::Debug for MutexGuard<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T, K: KpiSync> sealed::Sealed for MutexGuard<'_, T, K> {}

impl<T, K: KpiSync> Interlock for MutexGuard<'_, T, K> {
    type Kernel = K;
    fn lock_object(&self) -> *mut lock_object {
        // SAFETY: `raw` is a live mtx; `lock_object` is its first field.
        unsafe { &raw mut (*self.mutex.raw.get()).lock_object }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::ENOMEM;
    use crate::mock::{self, MockKernel};
    use crate::mock_sync::{self, Event};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type M<T> = Mutex<T, MockKernel>;

    #[track_caller]
    fn new<T>(v: T) -> Pin<KBox<M<T>, MockKernel>> {
        M::try_new_in(v, name::for_location(Location::caller()), Flags::WAITOK, &M_RUST).unwrap()
    }

    #[test]
    fn a_mutex_is_initialised_at_construction_and_destroyed_on_drop() {
        mock::reset();
        mock_sync::reset();
        let m = new(5u32);
        let line = line!() - 1;
        assert_eq!(m.name().to_str().unwrap(), format!("src/sync/mutex.rs:{line}"));
        let addr = mock_sync::with(|s| s.locks.keys().copied().collect::<Vec<_>>());
        assert_eq!(addr.len(), 1);
        {
            let mut g = m.lock();
            *g += 1;
            assert!(m.try_lock().is_none(), "a held mutex cannot be taken again");
            assert_eq!(g.locked_at().file(), file!());
        }
        assert_eq!(*m.lock(), 6);
        drop(m);
        let events = mock_sync::with(|s| s.events.clone());
        assert!(matches!(events[0], Event::MtxInit { def: true, .. }), "{events:?}");
        assert!(matches!(events.last(), Some(Event::MtxDestroy)), "{events:?}");
        assert!(mock_sync::with(|s| s.locks.is_empty()));
        assert!(mock::with(|s| s.live.is_empty()), "the mutex's memory is freed");
    }

    #[test]
    fn lock_calls_pass_the_callers_file_and_line() {
        mock_sync::reset();
        let m = new(());
        let g = m.lock();
        let line = line!() - 1;
        drop(g);
        let (file, l) = mock_sync::with(|s| s.last_lock_site.clone()).unwrap();
        assert_eq!((file.as_str(), l), (file!(), line as i32));
    }

    #[test]
    fn a_failed_allocation_drops_the_value_and_initialises_nothing() {
        mock::reset();
        mock_sync::reset();
        mock::with(|s| s.fail_nowait = 1);
        let drops = Arc::new(AtomicUsize::new(0));
        struct D(Arc<AtomicUsize>);
        impl Drop for D {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let r = M::try_new_in(D(drops.clone()), c"x", Flags::NOWAIT, &M_RUST);
        assert_eq!(r.err(), Some(ENOMEM));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(mock_sync::with(|s| s.events.is_empty()), "no mtx_init/mtx_destroy");
    }

    #[test]
    fn get_mut_needs_no_lock() {
        mock_sync::reset();
        let mut m = new(1);
        *Mutex::get_mut(m.as_mut()) = 7;
        assert_eq!(*m.lock(), 7);
        assert_eq!(mock_sync::with(|s| s.lock_count), 1);
    }
}

//! [`SpinMutex<T>`]: data protected by a FreeBSD spin mutex (mtx(9), `MTX_SPIN`).

use super::{file_line, name, new_pinned};
use crate::errno::Errno;
use crate::heap::{KBox, M_RUST};
use crate::kernel::Kernel;
use crate::malloc::{Flags, MallocType};
use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::pin::Pin;
use freebsd_kpi::common::mutex::{MTX_SPIN, mtx};
use freebsd_kpi::kpi_sync::KpiSync;

/// A value protected by an `MTX_SPIN` mutex: locking enters a critical section with
/// interrupts disabled and spins until the lock is free.
///
/// - May be locked anywhere, interrupt filters included.
/// - While the guard lives: no sleeping of any kind, no [`Mutex`](super::Mutex) or
///   [`SxLock`](super::SxLock), no allocation that may sleep; keep the section short. A
///   spin guard is not an [`Interlock`](super::Interlock): sleeping on it does not compile.
/// - Does not recurse.
///
/// # Invariants
///
/// `raw` was initialised by `mtx_init(MTX_SPIN)` at its current, never-changing address
/// and is destroyed only by `Drop`; `data` is accessed only by the holder of `raw`.
pub struct SpinMutex<T, K: KpiSync = Kernel> {
    raw: UnsafeCell<mtx>,
    data: UnsafeCell<T>,
    _pin: PhantomPinned,
    kernel: PhantomData<fn() -> K>,
}

// SAFETY: as for `Mutex`: `T` moves between threads under the lock.
unsafe impl<T: Send, K: KpiSync> Send for SpinMutex<T, K> {}
// SAFETY: access to `T` only under the lock.
unsafe impl<T: Send, K: KpiSync> Sync for SpinMutex<T, K> {}

impl<T> SpinMutex<T> {
    /// A new spin mutex named after the caller's `file:line` (`M_WAITOK`: **may sleep**).
    #[track_caller]
    pub fn new(value: T) -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(value, name::for_location(Location::caller()), Flags::WAITOK, &M_RUST)
    }

    /// A new spin mutex named `name`; may sleep.
    pub fn new_named(value: T, name: &'static CStr) -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(value, name, Flags::WAITOK, &M_RUST)
    }
}

impl<T, K: KpiSync> SpinMutex<T, K> {
    /// A new spin mutex allocated with `flags` from `ty`; `value` is dropped on failure.
    pub fn try_new_in(value: T, name: &'static CStr, flags: Flags, ty: &'static MallocType) -> Result<Pin<KBox<Self, K>>, Errno> {
        let make = || SpinMutex {
            // SAFETY: an all-zero `struct mtx` is valid and never initialised.
            raw: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            data: UnsafeCell::new(value),
            _pin: PhantomPinned,
            kernel: PhantomData,
        };
        let init = |m: *mut Self| {
            // SAFETY: `m` is the new zeroed mutex; `name` is 'static.
            // INVARIANT: initialised once, at the address it keeps.
            unsafe { K::mtx_init((*m).raw.get(), name.as_ptr(), core::ptr::null(), MTX_SPIN) }
        };
        // SAFETY: initialised at its final heap address, pinned from then on.
        unsafe { new_pinned::<Self, K>(flags, ty, make, init) }
    }

    /// Enters a critical section and spins until the mutex is free.
    #[track_caller]
    pub fn lock(&self) -> SpinMutexGuard<'_, T, K> {
        let at = Location::caller();
        let (file, line) = file_line(at);
        // SAFETY: `raw` is an initialised MTX_SPIN mutex (invariant).
        unsafe { K::mtx_lock_spin(self.raw.get(), file, line) };
        // INVARIANT: the calling thread holds `raw`.
        SpinMutexGuard { mutex: self, at, not_send: PhantomData }
    }
}

impl<T, K: KpiSync> Drop for SpinMutex<T, K> {
    fn drop(&mut self) {
        // SAFETY: initialised and unheld (no guard can outlive the borrow).
        unsafe { K::mtx_destroy(self.raw.get()) };
    }
}

/// Proof that the current thread holds a [`SpinMutex`] (interrupts disabled).
///
/// # Invariants
///
/// The creating thread holds `mutex.raw` until the guard drops; the guard is not `Send`.
#[must_use = "the spin mutex is unlocked as soon as the guard is dropped"]
pub struct SpinMutexGuard<'a, T, K: KpiSync = Kernel> {
    mutex: &'a SpinMutex<T, K>,
    at: &'static Location<'static>,
    not_send: PhantomData<*mut ()>,
}

// SAFETY: sharing the guard only shares `&T`.
unsafe impl<T: Sync, K: KpiSync> Sync for SpinMutexGuard<'_, T, K> {}

impl<T, K: KpiSync> Deref for SpinMutexGuard<'_, T, K> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held (invariant).
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T, K: KpiSync> DerefMut for SpinMutexGuard<'_, T, K> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held; `&mut self` is the only access.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T, K: KpiSync> Drop for SpinMutexGuard<'_, T, K> {
    fn drop(&mut self) {
        let (file, line) = file_line(self.at);
        // SAFETY: this thread holds the spin mutex (invariant).
        unsafe { K::mtx_unlock_spin(self.mutex.raw.get(), file, line) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::MockKernel;
    use crate::mock_sync::{self, Event};

    #[test]
    fn spin_mutexes_use_the_spin_functions() {
        mock_sync::reset();
        let m = SpinMutex::<u8, MockKernel>::try_new_in(1, c"spin", Flags::WAITOK, &M_RUST).unwrap();
        *m.lock() += 1;
        assert_eq!(*m.lock(), 2);
        drop(m);
        let ev = mock_sync::with(|s| s.events.clone());
        assert!(matches!(ev[0], Event::MtxInit { def: false, .. }), "{ev:?}");
        assert_eq!(mock_sync::with(|s| s.spin_lock_count), 2);
    }
}

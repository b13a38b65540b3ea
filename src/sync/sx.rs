//! [`SxLock<T>`]: data protected by a FreeBSD shared/exclusive lock (sx(9)).

use super::{Interlock, file_line, name, new_pinned, sealed};
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
use freebsd_kpi::common::lock::lock_object;
use freebsd_kpi::common::sx::{SX_INTERRUPTIBLE, sx};
use freebsd_kpi::kpi_sync::KpiSync;

/// A value protected by an sx(9) lock: many readers ([`SxLock::read`]) or one writer
/// ([`SxLock::write`]).
///
/// - Locking **may sleep**: only from thread context where sleeping is allowed, never
///   with a [`Mutex`](super::Mutex) or [`SpinMutex`](super::SpinMutex) held.
/// - The holder may sleep (`M_WAITOK` allocation, [`pause`](super::pause), a
///   [`CondVar`](super::CondVar) wait with this lock's guard, copyin/copyout).
/// - Does not recurse.
///
/// # Invariants
///
/// `raw` was initialised by `sx_init_flags` at its current, never-changing address and is
/// destroyed only by `Drop`; `data` is read under a shared or exclusive hold of `raw` and
/// written only under an exclusive hold.
pub struct SxLock<T, K: KpiSync = Kernel> {
    raw: UnsafeCell<sx>,
    data: UnsafeCell<T>,
    _pin: PhantomPinned,
    kernel: PhantomData<fn() -> K>,
}

// SAFETY: `T` moves between threads through the lock.
unsafe impl<T: Send, K: KpiSync> Send for SxLock<T, K> {}
// SAFETY: readers share `&T` concurrently (`T: Sync`); writers are exclusive (`T: Send`).
unsafe impl<T: Send + Sync, K: KpiSync> Sync for SxLock<T, K> {}

impl<T> SxLock<T> {
    /// A new sx lock named after the caller's `file:line` (`M_WAITOK`: **may sleep**).
    #[track_caller]
    pub fn new(value: T) -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(value, name::for_location(Location::caller()), Flags::WAITOK, &M_RUST)
    }

    /// A new sx lock named `name`; may sleep.
    pub fn new_named(value: T, name: &'static CStr) -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(value, name, Flags::WAITOK, &M_RUST)
    }
}

impl<T, K: KpiSync> SxLock<T, K> {
    /// A new sx lock allocated with `flags` from `ty`; `value` is dropped on failure.
    pub fn try_new_in(value: T, name: &'static CStr, flags: Flags, ty: &'static MallocType) -> Result<Pin<KBox<Self, K>>, Errno> {
        let make = || SxLock {
            // SAFETY: an all-zero `struct sx` is valid and never initialised.
            raw: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            data: UnsafeCell::new(value),
            _pin: PhantomPinned,
            kernel: PhantomData,
        };
        let init = |s: *mut Self| {
            // SAFETY: `s` is the new zeroed lock; `name` is 'static.
            // INVARIANT: initialised once, at the address it keeps.
            unsafe { K::sx_init((*s).raw.get(), name.as_ptr(), 0) }
        };
        // SAFETY: initialised at its final heap address, pinned from then on.
        unsafe { new_pinned::<Self, K>(flags, ty, make, init) }
    }

    /// Takes the lock shared (`sx_slock`); **may sleep**.
    #[track_caller]
    pub fn read(&self) -> SxSharedGuard<'_, T, K> {
        let at = Location::caller();
        let (file, line) = file_line(at);
        // SAFETY: `raw` is initialised (invariant). Without SX_INTERRUPTIBLE it returns 0.
        unsafe { K::sx_slock(self.raw.get(), 0, file, line) };
        // INVARIANT: the calling thread holds `raw` shared.
        SxSharedGuard { lock: self, at, not_send: PhantomData }
    }

    /// Takes the lock exclusive (`sx_xlock`); **may sleep**.
    #[track_caller]
    pub fn write(&self) -> SxExclusiveGuard<'_, T, K> {
        let at = Location::caller();
        let (file, line) = file_line(at);
        // SAFETY: `raw` is initialised (invariant). Without SX_INTERRUPTIBLE it returns 0.
        unsafe { K::sx_xlock(self.raw.get(), 0, file, line) };
        // INVARIANT: the calling thread holds `raw` exclusive.
        SxExclusiveGuard { lock: self, at, not_send: PhantomData }
    }

    /// Takes the lock exclusive unless a signal arrives first (`sx_xlock_sig`):
    /// `Err(EINTR)` or `Err(ERESTART)` then; **may sleep**.
    #[track_caller]
    pub fn write_sig(&self) -> Result<SxExclusiveGuard<'_, T, K>, Errno> {
        let at = Location::caller();
        let (file, line) = file_line(at);
        // SAFETY: `raw` is initialised (invariant).
        let error = unsafe { K::sx_xlock(self.raw.get(), SX_INTERRUPTIBLE, file, line) };
        match Errno::from_raw(error) {
            Some(e) => Err(e),
            // INVARIANT: 0 means the calling thread holds `raw` exclusive.
            None => Ok(SxExclusiveGuard { lock: self, at, not_send: PhantomData }),
        }
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(self: Pin<&mut Self>) -> &mut T {
        // SAFETY: `data` is not structurally pinned; `&mut Self` is exclusive.
        unsafe { self.get_unchecked_mut().data.get_mut() }
    }
}

impl<T, K: KpiSync> Drop for SxLock<T, K> {
    fn drop(&mut self) {
        // SAFETY: initialised and unheld (no guard can outlive the borrow).
        unsafe { K::sx_destroy(self.raw.get()) };
    }
}

/// A shared hold of an [`SxLock`]: `&T`; may be held across sleeps.
///
/// # Invariants
///
/// The creating thread holds `lock.raw` shared until the guard drops; not `Send`.
#[must_use = "the sx lock is released as soon as the guard is dropped"]
pub struct SxSharedGuard<'a, T, K: KpiSync = Kernel> {
    lock: &'a SxLock<T, K>,
    at: &'static Location<'static>,
    not_send: PhantomData<*mut ()>,
}

/// An exclusive hold of an [`SxLock`]: `&mut T`; may be held across sleeps.
///
/// # Invariants
///
/// The creating thread holds `lock.raw` exclusive until the guard drops; not `Send`.
#[must_use = "the sx lock is released as soon as the guard is dropped"]
pub struct SxExclusiveGuard<'a, T, K: KpiSync = Kernel> {
    lock: &'a SxLock<T, K>,
    at: &'static Location<'static>,
    not_send: PhantomData<*mut ()>,
}

// SAFETY: sharing a guard only shares `&T`.
unsafe impl<T: Sync, K: KpiSync> Sync for SxSharedGuard<'_, T, K> {}
// SAFETY: sharing a guard only shares `&T`.
unsafe impl<T: Sync, K: KpiSync> Sync for SxExclusiveGuard<'_, T, K> {}

impl<T, K: KpiSync> Deref for SxSharedGuard<'_, T, K> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: held shared (invariant): writers are excluded.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T, K: KpiSync> Deref for SxExclusiveGuard<'_, T, K> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: held exclusive (invariant).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T, K: KpiSync> DerefMut for SxExclusiveGuard<'_, T, K> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: held exclusive; `&mut self` is the only access.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T, K: KpiSync> Drop for SxSharedGuard<'_, T, K> {
    fn drop(&mut self) {
        let (file, line) = file_line(self.at);
        // SAFETY: this thread holds the lock shared (invariant).
        unsafe { K::sx_sunlock(self.lock.raw.get(), file, line) };
    }
}

impl<T, K: KpiSync> Drop for SxExclusiveGuard<'_, T, K> {
    fn drop(&mut self) {
        let (file, line) = file_line(self.at);
        // SAFETY: this thread holds the lock exclusive (invariant).
        unsafe { K::sx_xunlock(self.lock.raw.get(), file, line) };
    }
}

impl<T, K: KpiSync> sealed::Sealed for SxSharedGuard<'_, T, K> {}
impl<T, K: KpiSync> sealed::Sealed for SxExclusiveGuard<'_, T, K> {}

impl<T, K: KpiSync> Interlock for SxSharedGuard<'_, T, K> {
    type Kernel = K;
    fn lock_object(&self) -> *mut lock_object {
        // SAFETY: `raw` is a live sx; `lock_object` is its first field.
        unsafe { &raw mut (*self.lock.raw.get()).lock_object }
    }
}

impl<T, K: KpiSync> Interlock for SxExclusiveGuard<'_, T, K> {
    type Kernel = K;
    fn lock_object(&self) -> *mut lock_object {
        // SAFETY: `raw` is a live sx; `lock_object` is its first field.
        unsafe { &raw mut (*self.lock.raw.get()).lock_object }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EINTR;
    use crate::mock::MockKernel;
    use crate::mock_sync;

    #[test]
    fn readers_share_writers_exclude_and_signals_interrupt() {
        mock_sync::reset();
        let l = SxLock::<Vec<u8>, MockKernel>::try_new_in(vec![], c"sx", Flags::WAITOK, &M_RUST).unwrap();
        l.write().push(1);
        {
            let a = l.read();
            let b = l.read();
            assert_eq!((a.len(), b.len()), (1, 1));
            assert_eq!(mock_sync::with(|s| s.locks.values().next().unwrap().shared), 2);
        }
        mock_sync::with(|s| s.next_sig_error = EINTR.get());
        assert_eq!(l.write_sig().err(), Some(EINTR));
        l.write_sig().unwrap().push(2);
        assert_eq!(*l.read(), [1, 2]);
    }
}

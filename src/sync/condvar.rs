//! [`CondVar`]: a condition variable (condvar(9)) waited on with a held lock's guard.

use super::{Interlock, duration_to_sbt, name, new_pinned};
use crate::errno::{EWOULDBLOCK, Errno};
use crate::heap::{KBox, M_RUST};
use crate::kernel::Kernel;
use crate::malloc::{Flags, MallocType};
use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::marker::{PhantomData, PhantomPinned};
use core::panic::Location;
use core::pin::Pin;
use core::time::Duration;
use freebsd_kpi::common::condvar::cv;
use freebsd_kpi::kpi_sync::KpiSync;

/// A condition variable: threads wait for a condition on data protected by a
/// [`Mutex`](super::Mutex) or [`SxLock`](super::SxLock), others change the data under the
/// lock and notify.
///
/// - Waiting **sleeps**: only where sleeping is allowed, holding exactly the lock whose
///   guard is passed (it is released while asleep and held again on return), and no other
///   non-sleepable lock. Always re-check the condition in a loop.
/// - [`notify_one`](CondVar::notify_one) / [`notify_all`](CondVar::notify_all) never sleep;
///   call them after changing the data under the lock (with the lock held or just after).
///
/// # Invariants
///
/// `raw` was initialised by `cv_init` at its current, never-changing address and is
/// destroyed only by `Drop` (no waiter can be left then: waiters borrow the `CondVar`).
pub struct CondVar<K: KpiSync = Kernel> {
    raw: UnsafeCell<cv>,
    _pin: PhantomPinned,
    kernel: PhantomData<fn() -> K>,
}

// SAFETY: a cv is a kernel object usable from any thread; its fields are only touched by
// the kernel under the interlock.
unsafe impl<K: KpiSync> Send for CondVar<K> {}
// SAFETY: as above: every method is a kernel call that synchronises internally.
unsafe impl<K: KpiSync> Sync for CondVar<K> {}

/// Whether a timed wait ended because the time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// `true` when the wait returned `EWOULDBLOCK` (timeout), `false` when notified.
    pub fn timed_out(self) -> bool {
        self.0
    }
}

impl CondVar {
    /// A new condition variable whose wait message is the caller's `file:line`
    /// (`M_WAITOK`: **may sleep**).
    #[track_caller]
    pub fn new() -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(name::for_location(Location::caller()), Flags::WAITOK, &M_RUST)
    }

    /// A new condition variable with wait message `wmesg` (shown by `ps`/`procstat`);
    /// may sleep.
    pub fn new_named(wmesg: &'static CStr) -> Result<Pin<KBox<Self>>, Errno> {
        Self::try_new_in(wmesg, Flags::WAITOK, &M_RUST)
    }
}

impl<K: KpiSync> CondVar<K> {
    /// A new condition variable allocated with `flags` from `ty`.
    pub fn try_new_in(wmesg: &'static CStr, flags: Flags, ty: &'static MallocType) -> Result<Pin<KBox<Self, K>>, Errno> {
        // SAFETY: an all-zero `struct cv` is valid; initialised at its final heap address.
        let make = || CondVar { raw: UnsafeCell::new(unsafe { core::mem::zeroed() }), _pin: PhantomPinned, kernel: PhantomData };
        let init = |c: *mut Self| {
            // SAFETY: `c` is the new cv; `wmesg` is 'static.
            // INVARIANT: initialised once, at the address it keeps.
            unsafe { K::cv_init((*c).raw.get(), wmesg.as_ptr()) }
        };
        // SAFETY: as above; pinned from then on.
        unsafe { new_pinned::<Self, K>(flags, ty, make, init) }
    }

    /// Releases the guard's lock, sleeps until notified, reacquires the lock and returns
    /// the guard (`cv_wait`). **Sleeps.**
    pub fn wait<G: Interlock<Kernel = K>>(&self, guard: G) -> G {
        // SAFETY: `raw` is initialised (invariant); the guard proves the caller holds the
        // sleepable lock, which cv_wait releases and takes back before returning.
        unsafe { K::cv_wait(self.raw.get(), guard.lock_object()) };
        guard
    }

    /// As [`wait`](CondVar::wait), but a signal to the thread ends the wait
    /// (`cv_wait_sig`): `Err(EINTR)` or `Err(ERESTART)`. The guard comes back either way.
    pub fn wait_sig<G: Interlock<Kernel = K>>(&self, guard: G) -> (G, Result<(), Errno>) {
        // SAFETY: as in `wait`.
        let error = unsafe { K::cv_wait_sig(self.raw.get(), guard.lock_object()) };
        (guard, Errno::from_raw(error).map_or(Ok(()), Err))
    }

    /// As [`wait`](CondVar::wait), for at most `timeout` (`cv_timedwait_sbt`); the result
    /// says whether the time ran out (`EWOULDBLOCK`).
    pub fn wait_timeout<G: Interlock<Kernel = K>>(&self, guard: G, timeout: Duration) -> (G, WaitTimeoutResult) {
        // SAFETY: as in `wait`; sbt > 0.
        let error = unsafe { K::cv_timedwait_sbt(self.raw.get(), guard.lock_object(), duration_to_sbt(timeout), 0, 0) };
        (guard, WaitTimeoutResult(error == EWOULDBLOCK.get()))
    }

    /// As [`wait_timeout`](CondVar::wait_timeout), also ended by a signal
    /// (`cv_timedwait_sig_sbt`): `Err(EINTR)` / `Err(ERESTART)`.
    pub fn wait_timeout_sig<G: Interlock<Kernel = K>>(&self, guard: G, timeout: Duration) -> (G, Result<WaitTimeoutResult, Errno>) {
        // SAFETY: as in `wait`; sbt > 0.
        let error = unsafe { K::cv_timedwait_sig_sbt(self.raw.get(), guard.lock_object(), duration_to_sbt(timeout), 0, 0) };
        let r = match Errno::from_raw(error) {
            None => Ok(WaitTimeoutResult(false)),
            Some(e) if e == EWOULDBLOCK => Ok(WaitTimeoutResult(true)),
            Some(e) => Err(e),
        };
        (guard, r)
    }

    /// Wakes one waiter (`cv_signal`). Never sleeps.
    #[doc(alias = "cv_signal")]
    pub fn notify_one(&self) {
        // SAFETY: `raw` is initialised (invariant).
        unsafe { K::cv_signal(self.raw.get()) };
    }

    /// Wakes every waiter (`cv_broadcast`). Never sleeps.
    #[doc(alias = "cv_broadcast")]
    pub fn notify_all(&self) {
        // SAFETY: `raw` is initialised (invariant).
        unsafe { K::cv_broadcastpri(self.raw.get(), 0) };
    }
}

impl<K: KpiSync> Drop for CondVar<K> {
    fn drop(&mut self) {
        // SAFETY: initialised (invariant); no waiter borrows it any more.
        unsafe { K::cv_destroy(self.raw.get()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EINTR;
    use crate::mock::MockKernel;
    use crate::mock_sync::{self, Event};
    use crate::sync::{Mutex, SxLock};

    #[test]
    fn waits_release_the_guards_lock_and_give_the_guard_back() {
        mock_sync::reset();
        let m = Mutex::<u32, MockKernel>::try_new_in(0, c"m", Flags::WAITOK, &M_RUST).unwrap();
        let c = CondVar::<MockKernel>::try_new_in(c"c", Flags::WAITOK, &M_RUST).unwrap();
        let mut g = m.lock();
        g = c.wait(g);
        *g += 1;
        let (g, t) = c.wait_timeout(g, Duration::from_millis(5));
        assert!(t.timed_out());
        mock_sync::with(|s| s.next_sig_error = EINTR.get());
        let (g, r) = c.wait_sig(g);
        assert_eq!(r, Err(EINTR));
        let (g, r) = c.wait_timeout_sig(g, Duration::from_secs(1));
        assert_eq!(r, Ok(WaitTimeoutResult(true)));
        assert_eq!(*g, 1);
        drop(g);
        c.notify_one();
        c.notify_all();
        let ev = mock_sync::with(|s| s.events.clone());
        assert!(ev.contains(&Event::CvWait { held_during_call: true }), "{ev:?}");
        assert!(ev.contains(&Event::CvSignal) && ev.contains(&Event::CvBroadcast), "{ev:?}");
        // An sx guard is an interlock too.
        let s = SxLock::<u8, MockKernel>::try_new_in(0, c"s", Flags::WAITOK, &M_RUST).unwrap();
        let w = c.wait(s.write());
        drop(w);
        let r = c.wait(s.read());
        drop(r);
    }
}

//! sleep(9): sleeping on a wait channel with an interlock (`msleep`, `sx_sleep`: `_sleep`),
//! `wakeup`, `wakeup_one`, and `pause`.
//!
//! A *wait channel* is an address: [`sleep`] waits on `chan`'s address until [`wakeup`]
//! or [`wakeup_one`] is called with the same address (or the timeout passes). Use the
//! address of the data the condition is about (for instance the value inside the mutex);
//! never of a zero-sized value, whose address may be shared.

use super::{Interlock, duration_to_sbt};
use crate::errno::{EWOULDBLOCK, Errno};
use crate::kernel::Kernel;
use core::ffi::{CStr, c_int, c_void};
use core::time::Duration;
use freebsd_kpi::common::param::PCATCH;
use freebsd_kpi::kpi_sync::KpiSync;

/// The priority a sleeping thread wakes up with (the `pri` argument of `_sleep`).
/// Values differ per release (`PRI_MIN_KERN` is 80 on 13.x, 48 on 14.x, 40 on 15.0): use
/// the constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority(c_int);

impl Priority {
    /// Keep the thread's priority (0).
    pub const UNCHANGED: Priority = Priority(0);
    /// `PWAIT`: waiting for an event, the usual choice.
    pub const WAIT: Priority = Priority(crate::kernel::PWAIT);
    /// `PSOCK`.
    pub const SOCK: Priority = Priority(crate::kernel::PSOCK);
    /// `PZERO`.
    pub const ZERO: Priority = Priority(crate::kernel::PZERO);
    /// `PPAUSE`.
    pub const PAUSE: Priority = Priority(crate::kernel::PPAUSE);

    /// The raw value.
    pub const fn get(self) -> c_int {
        self.0
    }
}

/// Why a sleep ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// A `wakeup` on the channel (or, rarely, a spurious wakeup: re-check the condition).
    Woken,
    /// The timeout passed (`EWOULDBLOCK`).
    TimedOut,
}

fn wake_result(error: c_int) -> Result<Wakeup, Errno> {
    match Errno::from_raw(error) {
        None => Ok(Wakeup::Woken),
        Some(e) if e == EWOULDBLOCK => Ok(Wakeup::TimedOut),
        Some(e) => Err(e),
    }
}

/// Releases the guard's lock, sleeps on `chan` until a wakeup on it (or `timeout`), takes
/// the lock back and returns the guard (`msleep`/`sx_sleep`, i.e. `_sleep` with the
/// lock as interlock). The lock is released only once the thread is on the sleep queue,
/// so a wakeup issued under the lock is never lost. **Sleeps**: only where sleeping is
/// allowed, holding no lock but the guard's. `wmesg` is shown by `ps`/`procstat`.
pub fn sleep<G: Interlock, C: ?Sized>(guard: G, chan: &C, wmesg: &CStr, pri: Priority, timeout: Option<Duration>) -> (G, Wakeup) {
    sleep_on_address(guard, chan as *const C as *const c_void, wmesg, pri, timeout)
}

/// [`sleep`] on a channel given as an address, for channels that are not Rust data the
/// caller may reference (another thread's `struct thread`, memory the kernel changes).
/// The address is only compared with the addresses given to `wakeup`, never read.
/// `chan` must not be null (`_sleep` asserts it).
#[allow(clippy::not_unsafe_ptr_arg_deref)] // a wait channel is an address, never read
pub fn sleep_on_address<G: Interlock>(guard: G, chan: *const c_void, wmesg: &CStr, pri: Priority, timeout: Option<Duration>) -> (G, Wakeup) {
    assert!(!chan.is_null(), "sleep: null wait channel");
    let sbt = timeout.map_or(0, duration_to_sbt);
    // SAFETY: `chan` is a non-null address (only compared); the guard proves the caller
    // holds the sleepable lock, which _sleep releases and takes back; `wmesg` outlives the
    // call.
    let error = unsafe { G::Kernel::sleep(chan, guard.lock_object(), pri.get(), wmesg.as_ptr(), sbt, 0, 0) };
    // Without PCATCH the only errors are EWOULDBLOCK (timeout).
    (guard, if error == 0 { Wakeup::Woken } else { Wakeup::TimedOut })
}

/// As [`sleep`], also ended by a signal to the thread (`PCATCH`): `Err(EINTR)` or
/// `Err(ERESTART)`. The guard comes back either way.
pub fn sleep_sig<G: Interlock, C: ?Sized>(guard: G, chan: &C, wmesg: &CStr, pri: Priority, timeout: Option<Duration>) -> (G, Result<Wakeup, Errno>) {
    let sbt = timeout.map_or(0, duration_to_sbt);
    // SAFETY: as in `sleep`.
    let error = unsafe {
        G::Kernel::sleep(chan as *const C as *const c_void, guard.lock_object(), pri.get() | PCATCH, wmesg.as_ptr(), sbt, 0, 0)
    };
    (guard, wake_result(error))
}

/// Wakes every thread sleeping on `chan` (`wakeup`). Never sleeps; may be called with any
/// lock held.
pub fn wakeup<C: ?Sized>(chan: &C) {
    wakeup_in::<Kernel, C>(chan)
}

/// Wakes one thread sleeping on `chan` (`wakeup_one`). Never sleeps.
pub fn wakeup_one<C: ?Sized>(chan: &C) {
    wakeup_one_in::<Kernel, C>(chan)
}

/// [`wakeup`] on kernel `K`.
pub fn wakeup_in<K: KpiSync, C: ?Sized>(chan: &C) {
    K::wakeup(chan as *const C as *const c_void)
}

/// [`wakeup_one`] on kernel `K`.
pub fn wakeup_one_in<K: KpiSync, C: ?Sized>(chan: &C) {
    K::wakeup_one(chan as *const C as *const c_void)
}

/// Sleeps for `duration` without a channel (`pause_sbt`). **Sleeps**: hold no lock.
pub fn pause(wmesg: &CStr, duration: Duration) {
    pause_in::<Kernel>(wmesg, duration)
}

/// [`pause`] on kernel `K`.
pub fn pause_in<K: KpiSync>(wmesg: &CStr, duration: Duration) {
    // SAFETY: `wmesg` is a C string that outlives the call; the caller may sleep (documented).
    unsafe { K::pause_sbt(wmesg.as_ptr(), duration_to_sbt(duration), 0, 0) };
}

/// As [`pause`], ended early by a signal (`pause_sig`: `C_CATCH`): `Err(EINTR)` /
/// `Err(ERESTART)`; `Ok(())` once the time has passed.
pub fn pause_sig(wmesg: &CStr, duration: Duration) -> Result<(), Errno> {
    pause_sig_in::<Kernel>(wmesg, duration)
}

/// [`pause_sig`] on kernel `K`.
pub fn pause_sig_in<K: KpiSync>(wmesg: &CStr, duration: Duration) -> Result<(), Errno> {
    use freebsd_kpi::common::callout::C_CATCH;
    // SAFETY: as in `pause_in`.
    let error = unsafe { K::pause_sbt(wmesg.as_ptr(), duration_to_sbt(duration), 0, C_CATCH) };
    wake_result(error).map(|_| ())
}

/// `hz`: clock ticks per second (1000 by default on amd64; a boot tunable).
pub fn hz() -> c_int {
    Kernel::hz()
}

/// `ticks`: clock ticks since boot, wrapping (compare differences, never absolute values).
pub fn ticks() -> c_int {
    Kernel::ticks()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EINTR;
    use crate::heap::M_RUST;
    use crate::malloc::Flags;
    use crate::mock::MockKernel;
    use crate::mock_sync::{self, Event};
    use crate::sync::Mutex;

    #[test]
    fn sleep_passes_the_interlock_channel_and_priority() {
        mock_sync::reset();
        let m = Mutex::<u32, MockKernel>::try_new_in(0, c"m", Flags::WAITOK, &M_RUST).unwrap();
        let g = m.lock();
        let work = 0u64;
        let chan: *const u64 = &work;
        let (g, w) = sleep(g, &work, c"work", Priority::WAIT, None);
        assert_eq!(w, Wakeup::Woken);
        let (g, w) = sleep(g, &work, c"work", Priority::UNCHANGED, Some(Duration::from_millis(1)));
        assert_eq!(w, Wakeup::TimedOut);
        mock_sync::with(|s| s.next_sig_error = EINTR.get());
        let (g, r) = sleep_sig(g, &work, c"work", Priority::WAIT, None);
        assert_eq!(r, Err(EINTR));
        drop(g);
        wakeup_in::<MockKernel, _>(&work);
        wakeup_one_in::<MockKernel, _>(&work);
        pause_in::<MockKernel>(c"nap", Duration::from_secs(1));
        let ev = mock_sync::with(|s| s.events.clone());
        let sleeps: Vec<_> = ev.iter().filter(|e| matches!(e, Event::Sleep { .. })).collect();
        assert_eq!(sleeps.len(), 3);
        let Event::Sleep { chan: c, pri, wmesg, sbt, interlock_held } = sleeps[0].clone() else { unreachable!() };
        assert_eq!((c, pri, wmesg.as_str(), sbt, interlock_held), (chan as usize, crate::kernel::PWAIT, "work", 0, true));
        let Event::Sleep { pri, .. } = sleeps[2].clone() else { unreachable!() };
        assert_eq!(pri, crate::kernel::PWAIT | PCATCH);
        assert!(ev.contains(&Event::Wakeup { chan: chan as usize, one: false }));
        assert!(ev.contains(&Event::Wakeup { chan: chan as usize, one: true }));
        assert!(ev.contains(&Event::Pause { sbt: 1 << 32 }));
    }
}

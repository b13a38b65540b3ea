//! poll(2) on a device: [`PollEvents`], the [`PollContext`] of a `d_poll` call and
//! [`SelInfo`], the `struct selinfo` a sleeping poller waits on (`sys/sys/selinfo.h`,
//! `sys/sys/poll.h`).
//!
//! How the kernel polls a device (sys/kern/sys_generic.c `kern_poll_kfds`, `pollscan`,
//! `pollrescan`, `seltdwait`; freebsd/freebsd-src@005a071d): poll(2) calls
//! [`CharDevice::poll`](super::CharDevice::poll) (`d_poll(dev, events, td)`, through
//! sys/fs/devfs/devfs_vnops.c `devfs_poll_f`) for each descriptor. A device answers the
//! events that are ready now; for those that are not it calls [`SelInfo::record`]
//! (`selrecord(td, sip)`), which queues the polling thread on the selinfo. If no descriptor
//! is ready, the thread sleeps until a [`SelInfo::wakeup`] (`selwakeup`) on one of its
//! selinfos, the timeout, or a signal; then it asks `d_poll` again (a "rescan", in which
//! `selrecord` does nothing) and returns what that answers, possibly nothing.
//!
//! A device that does not implement `poll` answers like the kernel's `no_poll`
//! (sys/kern/kern_conf.c, `poll_no_poll` of sys/kern/sys_generic.c): [`PollEvents::no_poll`].
//!
//! # Not losing a wakeup
//!
//! Check the condition and call [`SelInfo::record`] under the same lock that the code
//! making the condition true holds while it changes it and calls [`SelInfo::wakeup`];
//! otherwise a change between the check and the record is missed and the poller sleeps
//! until its timeout. Both calls take the selinfo's own (default) mutex and do not sleep,
//! so holding a [`Mutex`](crate::sync::Mutex) or an [`SxLock`](crate::sync::SxLock) around
//! them is fine; a [`SpinMutex`](crate::sync::SpinMutex) is not (WITNESS reports a default
//! mutex taken under a spin mutex).
//!
//! # Teardown
//!
//! A thread asleep in poll(2) is not inside a device method, so `destroy_dev` does not wait
//! for it: the kernel keeps a pointer to the selinfo in the sleeping thread's `selfd`.
//! `seldrain(sip)` (`doselwakeup(sip, -1)`) wakes and unlinks every such thread; after it,
//! no thread refers to the selinfo. [`SelInfo`]'s `Drop` calls `seldrain` and only then
//! frees the selinfo. Kept in the device's data (`D` of
//! [`Registration<D>`](super::Registration)), it is dropped after `destroy_dev` returned,
//! when no `d_poll` can run and record on it again; the woken threads ask devfs again and
//! get the answer of a destroyed device (sys/fs/deadfs/dead_vnops.c `dead_poll`: `POLLHUP`
//! plus the `POLLIN | POLLRDNORM` asked for).
//!
//! # Contexts
//!
//! | call | may sleep | where |
//! |---|---|---|
//! | [`SelInfo::new`] | yes (`M_WAITOK`) | sleepable thread context, e.g. `MOD_LOAD` |
//! | [`SelInfo::record`] | no (takes a default mutex) | inside [`CharDevice::poll`](super::CharDevice::poll), no spin mutex held |
//! | [`SelInfo::wakeup`] | no (takes a default mutex) | any thread context, no spin mutex held (not from an interrupt filter) |
//! | drop of [`SelInfo`] | no (`seldrain`, a default mutex) | any thread context, no spin mutex held |

use crate::errno::Errno;
use crate::heap::{KBox, M_RUST};
use crate::kernel::Kernel;
use crate::malloc::Flags;
use core::cell::Cell;
use core::ffi::c_int;
use core::marker::PhantomData;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};
use core::ptr::NonNull;
use freebsd_kpi::common::kthread::thread;
use freebsd_kpi::common::poll as raw;
use freebsd_kpi::common::selinfo::selinfo;
use freebsd_kpi::kpi_cdev::KpiCdev;

/// poll(2) event bits (`sys/sys/poll.h`): what `d_poll` is asked (`events`) and answers
/// (`revents`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PollEvents(c_int);

impl PollEvents {
    /// No event.
    pub const EMPTY: PollEvents = PollEvents(0);
    /// `POLLIN`: data to read.
    pub const IN: PollEvents = PollEvents(raw::POLLIN);
    /// `POLLPRI`: urgent data to read.
    pub const PRI: PollEvents = PollEvents(raw::POLLPRI);
    /// `POLLOUT`: writing would not block.
    pub const OUT: PollEvents = PollEvents(raw::POLLOUT);
    /// `POLLRDNORM`: normal data to read.
    pub const RDNORM: PollEvents = PollEvents(raw::POLLRDNORM);
    /// `POLLWRNORM` (= `POLLOUT`).
    pub const WRNORM: PollEvents = PollEvents(raw::POLLWRNORM);
    /// `POLLRDBAND`: out-of-band data to read.
    pub const RDBAND: PollEvents = PollEvents(raw::POLLRDBAND);
    /// `POLLWRBAND`: out-of-band data may be written.
    pub const WRBAND: PollEvents = PollEvents(raw::POLLWRBAND);
    /// `POLLERR` (answer only): an error occurred.
    pub const ERR: PollEvents = PollEvents(raw::POLLERR);
    /// `POLLHUP` (answer only): hung up (the kernel clears `POLLOUT` next to it).
    pub const HUP: PollEvents = PollEvents(raw::POLLHUP);
    /// `POLLNVAL` (answer only): the events asked for are invalid.
    pub const NVAL: PollEvents = PollEvents(raw::POLLNVAL);
    /// `POLLSTANDARD`: every event above.
    pub const STANDARD: PollEvents = PollEvents(raw::POLLSTANDARD);
    /// The read events, `POLLIN | POLLRDNORM`.
    pub const READ: PollEvents = PollEvents(raw::POLLIN | raw::POLLRDNORM);
    /// The write events, `POLLOUT | POLLWRNORM`.
    pub const WRITE: PollEvents = PollEvents(raw::POLLOUT | raw::POLLWRNORM);

    /// The events of the raw bits `bits` (unknown bits are kept).
    pub const fn from_bits(bits: c_int) -> PollEvents {
        PollEvents(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> c_int {
        self.0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: PollEvents) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: PollEvents) -> bool {
        self.0 & other.0 == other.0
    }

    /// What a device without `d_poll` answers: `POLLNVAL` if anything outside
    /// `POLLSTANDARD` is asked, else the read and write events asked for (always ready).
    /// sys/kern/sys_generic.c `poll_no_poll`, called by kern_conf.c `no_poll`:
    /// ```c
    /// if (events & ~POLLSTANDARD)
    ///         return (POLLNVAL);
    /// return (events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
    /// ```
    pub const fn no_poll(self) -> PollEvents {
        if self.0 & !raw::POLLSTANDARD != 0 {
            return PollEvents::NVAL;
        }
        PollEvents(self.0 & (raw::POLLIN | raw::POLLOUT | raw::POLLRDNORM | raw::POLLWRNORM))
    }
}

impl BitOr for PollEvents {
    type Output = PollEvents;
    fn bitor(self, rhs: PollEvents) -> PollEvents {
        PollEvents(self.0 | rhs.0)
    }
}

impl BitOrAssign for PollEvents {
    fn bitor_assign(&mut self, rhs: PollEvents) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for PollEvents {
    type Output = PollEvents;
    fn bitand(self, rhs: PollEvents) -> PollEvents {
        PollEvents(self.0 & rhs.0)
    }
}

impl Not for PollEvents {
    type Output = PollEvents;
    fn not(self) -> PollEvents {
        PollEvents(!self.0)
    }
}

/// The polling thread of one `d_poll` call, valid for that call only: what
/// [`SelInfo::record`] queues. Not `Send`/`Sync`: it stays on the polling thread.
///
/// # Invariants
/// `td` is the thread `d_poll` was called with, running that call while the value lives
/// (the lifetime ties it to the call); `records` counts the `selrecord` calls made with it,
/// at most [`PollContext::MAX_RECORDS`].
pub struct PollContext<'a> {
    td: *mut thread,
    records: Cell<u8>,
    _call: PhantomData<&'a mut thread>,
}

impl PollContext<'_> {
    /// The context of a `d_poll(dev, events, td)` call.
    ///
    /// # Safety
    /// `td` is the `td` of the running `d_poll`, and the value does not outlive that call.
    pub(crate) unsafe fn new(td: *mut thread) -> Self {
        // INVARIANT: as the caller guarantees; no record yet.
        PollContext { td, records: Cell::new(0), _call: PhantomData }
    }

    /// How many selinfos one `d_poll` call can record on: poll(2) and select(2) preallocate
    /// two `selfd`s per descriptor before calling it (sys/kern/sys_generic.c `selfdalloc`:
    /// "Some fo_poll routines have two select sets, one for read and another for write"),
    /// and a third `selrecord` panics the kernel ("selrecord: No free selfd on selq").
    pub const MAX_RECORDS: u8 = 2;
}

/// A `struct selinfo`: the list of threads asleep in poll(2) waiting for one condition of a
/// device (e.g. "data to read"), on the kernel heap so its address never changes while
/// the kernel links to it.
///
/// Keep it in the device's data (the `D` of [`Registration<D>`](super::Registration)).
/// [`record`](Self::record) it from [`CharDevice::poll`](super::CharDevice::poll) when the
/// condition does not hold, and [`wakeup`](Self::wakeup) it when the condition becomes
/// true. Dropping it wakes every thread still queued (`seldrain`) before freeing it.
///
/// # Invariants
/// `sip` points to a `struct selinfo` allocated (zeroed) from `M_RUST` by [`SelInfo::new`],
/// used only through `selrecord`/`selwakeup`/`seldrain`, and freed only by `Drop` after
/// `seldrain` (then no thread refers to it: sys_generic.c `doselwakeup` unlinks every
/// `selfd` and clears its `sf_si`).
pub struct SelInfo {
    sip: NonNull<selinfo>,
}

// SAFETY: the selinfo is the kernel's, protected by its own mutex (`si_mtx`); every access
// goes through selrecord/selwakeup/seldrain, which any thread may call.
unsafe impl Send for SelInfo {}
// SAFETY: as above: `&SelInfo` only calls selrecord/selwakeup, which lock `si_mtx`.
unsafe impl Sync for SelInfo {}

impl SelInfo {
    /// A new, empty selinfo (zeroed: the kernel initialises it on the first `selrecord`).
    /// **May sleep** (`M_WAITOK`): call it from `MOD_LOAD` or another sleepable context.
    pub fn new() -> Result<SelInfo, Errno> {
        let b = KBox::try_new(selinfo::zeroed(), Flags::WAITOK)?;
        let (p, _) = KBox::into_raw(b);
        // SAFETY: `into_raw` never returns null.
        let sip = unsafe { NonNull::new_unchecked(p) };
        // INVARIANT: a zeroed selinfo from M_RUST (KBox's type), not shared yet.
        Ok(SelInfo { sip })
    }

    /// `selrecord(td, sip)`: queue the polling thread on this selinfo, so that a
    /// [`wakeup`](Self::wakeup) makes its poll(2) ask the device again. Call it from
    /// [`CharDevice::poll`](super::CharDevice::poll) for the events that are not ready, under
    /// the lock that the waker holds (see the module docs). Does not sleep; takes a default
    /// mutex. During the kernel's rescan after a wakeup it does nothing. At most
    /// [`PollContext::MAX_RECORDS`] (2) records per call reach the kernel; later ones are
    /// ignored (a third would panic it): use one selinfo for reading and one for writing.
    pub fn record(&self, ctx: &PollContext<'_>) {
        let n = ctx.records.get();
        if n >= PollContext::MAX_RECORDS {
            return;
        }
        // INVARIANT: counts this selrecord, at most MAX_RECORDS.
        ctx.records.set(n + 1);
        // SAFETY: `ctx.td` is the thread of the running d_poll (PollContext invariant), with
        // a preallocated selfd left (at most two records per call); the selinfo is live and
        // stays at this address until Drop's seldrain (invariant).
        unsafe { Kernel::selrecord(ctx.td, self.sip.as_ptr()) }
    }

    /// `selwakeup(sip)`: wake every thread queued on this selinfo (they ask the device again
    /// and return if something is ready). Does not sleep; takes a default mutex: not with a
    /// spin mutex held.
    pub fn wakeup(&self) {
        // SAFETY: the selinfo is live (invariant).
        unsafe { Kernel::selwakeup(self.sip.as_ptr()) }
    }
}

impl Drop for SelInfo {
    fn drop(&mut self) {
        // SAFETY: the selinfo is live; `&mut self` means no record/wakeup runs on it now.
        unsafe { Kernel::seldrain(self.sip.as_ptr()) };
        // SAFETY: after seldrain no thread refers to the selinfo (doselwakeup unlinked them
        // all), and nothing can record on it again (we own it); it came from M_RUST.
        drop(unsafe { KBox::<selinfo>::from_raw(self.sip.as_ptr(), &M_RUST) });
    }
}

#[cfg(test)]
mod tests {
    use super::PollEvents as E;

    #[test]
    fn no_poll_answers_like_kern_conf_c() {
        assert_eq!((E::IN | E::OUT).no_poll(), E::IN | E::OUT);
        assert_eq!((E::RDNORM | E::PRI).no_poll(), E::RDNORM);
        assert_eq!(E::PRI.no_poll(), E::EMPTY);
        assert_eq!(E::from_bits(0x2000 | 1).no_poll(), E::NVAL);
        assert_eq!(E::EMPTY.no_poll(), E::EMPTY);
        assert_eq!(E::WRNORM, E::OUT);
        assert!(E::READ.contains(E::IN) && !E::READ.intersects(E::OUT));
    }
}

//! Locks, condition variables and sleeping: mtx(9), sx(9), condvar(9), sleep(9).
//!
//! | type | FreeBSD | may the holder sleep? | where it may be locked |
//! |---|---|---|---|
//! | [`Mutex<T>`] | `mtx` `MTX_DEF` | no (no sleep, `pause`, cv wait on another lock, `M_WAITOK` malloc, `sx` lock) | any thread context; not in a spin-mutex section or interrupt filter |
//! | [`SpinMutex<T>`] | `mtx` `MTX_SPIN` | no, and no `Mutex`/`SxLock` either: interrupts are off | anywhere, including interrupt filters |
//! | [`SxLock<T>`] | `sx` | yes (shared or exclusive) | thread context where sleeping is allowed; never with a `Mutex` or `SpinMutex` held |
//! | [`CondVar`] | `cv` | waiting sleeps; [`CondVar::notify_one`]/[`CondVar::notify_all`] do not | waits: sleepable context, holding the guard it releases |
//!
//! **A lock that exists is initialised.** Constructors allocate the lock on the kernel heap
//! (`M_WAITOK`: they may sleep), initialise it at its final address (`mtx_init`,
//! `sx_init_flags`, `cv_init`) and return it pinned (`Pin<KBox<...>>`, never moved again);
//! `Drop` destroys it (`mtx_destroy`, `sx_destroy`, `cv_destroy`). Keep the lock in your
//! module's state; share it with threads through a reference-counted or module-owned value.
//!
//! **Names.** A lock's name, which is also its WITNESS type, defaults to the `file:line` of
//! its constructor's call site ([`name`]); locks built at one call site share a type (as
//! locks initialised with one string literal do in C). `*_named` constructors take a
//! `&'static CStr`.
//!
//! **Guards** are `#[must_use]` and not `Send` (a lock is released by the thread that
//! took it). Sleeping APIs take the guard they release and give it back (the [`Interlock`]
//! trait): [`CondVar::wait`], [`sleep::sleep`]. A spin-mutex guard is not an interlock, so
//! sleeping with a spin mutex as interlock does not compile.
//!
//! Every call passes the caller's file and line to the kernel (`#[track_caller]`), like the
//! C macros do, so WITNESS and panic messages name the module's source line.
//!
//! ```no_run
//! use freebsd_kmi::sync::{CondVar, Mutex};
//! # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
//! let queue = Mutex::new(0u32)?;   // may sleep: M_WAITOK allocation
//! let ready = CondVar::new()?;
//! let mut n = queue.lock();
//! while *n == 0 {
//!     n = ready.wait(n);            // releases the mutex while asleep
//! }
//! *n -= 1;
//! # Ok(()) }
//! ```

pub mod condvar;
pub mod mutex;
pub mod name;
pub mod sleep;
pub mod spin_mutex;
pub mod sx;

pub use condvar::{CondVar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use sleep::{Priority, Wakeup, pause, sleep, wakeup, wakeup_one};
pub use spin_mutex::{SpinMutex, SpinMutexGuard};
pub use sx::{SxExclusiveGuard, SxLock, SxSharedGuard};

use crate::errno::Errno;
use crate::heap::KBox;
use crate::malloc::{Flags, MallocType};
use core::ffi::{c_char, c_int};
use core::mem::MaybeUninit;
use core::panic::Location;
use core::pin::Pin;
use core::time::Duration;
use freebsd_kpi::common::lock::lock_object;
use freebsd_kpi::common::time::sbintime_t;
use freebsd_kpi::kpi_sync::KpiSync;

mod sealed {
    pub trait Sealed {}
}

/// A held sleepable lock that a sleep may release and reacquire: `_sleep` and `_cv_wait*`
/// take its `lock_object`. Implemented by [`MutexGuard`], [`SxExclusiveGuard`] and
/// [`SxSharedGuard`] (a sleep gives the guard back in the same mode); not by
/// [`SpinMutexGuard`] (sleeping with a spin mutex held is forbidden).
pub trait Interlock: sealed::Sealed {
    /// The kernel the lock belongs to.
    type Kernel: KpiSync;
    /// The held lock's `struct lock_object`.
    #[doc(hidden)]
    fn lock_object(&self) -> *mut lock_object;
}

/// `file` and `line` of a call site, as the lock functions take them. Inlined: with the
/// call site known at compile time both are constants (no call per lock operation).
#[inline(always)]
fn file_line(at: &'static Location<'static>) -> (*const c_char, c_int) {
    (at.file_as_c_str().as_ptr(), at.line().min(c_int::MAX as u32) as c_int)
}

/// Allocates an `S` on the kernel heap, builds it with `make` (only once the memory is
/// there, so a failed allocation drops nothing half-built), runs `init` on it at its final
/// address and returns it pinned.
///
/// # Safety
/// `init` must leave `*p` valid; from then on `S` must not be moved (it is pinned).
unsafe fn new_pinned<S, K: KpiSync>(
    flags: Flags,
    ty: &'static MallocType,
    make: impl FnOnce() -> S,
    init: impl FnOnce(*mut S),
) -> Result<Pin<KBox<S, K>>, Errno> {
    let slot = KBox::<MaybeUninit<S>, K>::try_new_in(MaybeUninit::uninit(), flags, ty)?;
    let (p, ty) = KBox::into_raw(slot);
    let p = p.cast::<S>();
    // SAFETY: `p` is a live allocation sized and aligned for `MaybeUninit<S>`, i.e. for `S`.
    unsafe { p.write(make()) };
    init(p);
    // SAFETY: `p` came from `KBox::into_raw` with `ty`; `MaybeUninit<S>` and `S` have one
    // layout, and free(9) needs only the pointer and the type. The value is initialised.
    let b = unsafe { KBox::<S, K>::from_raw(p, ty) };
    // SAFETY: the value lives in its own heap allocation and nothing moves it out: the box
    // is only reachable through `Pin`, and `S` is `!Unpin`.
    Ok(unsafe { Pin::new_unchecked(b) })
}

/// A sleep's timeout as `sbintime_t` (32.32 fixed-point seconds), rounded up so the wait
/// lasts at least `d`. At least one unit (a zero `sbt` would mean "no timeout"); at most
/// about 68 years.
pub fn duration_to_sbt(d: Duration) -> sbintime_t {
    let secs = d.as_secs().min((i32::MAX >> 1) as u64) as i64;
    let frac = ((d.subsec_nanos() as u64) << 32).div_ceil(1_000_000_000) as i64;
    ((secs << 32) + frac).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use freebsd_kpi::common::time::{SBT_1MS, SBT_1US};

    #[test]
    fn durations_convert_to_sbintime_rounding_up() {
        assert_eq!(duration_to_sbt(Duration::from_secs(2)), 2 << 32);
        // SBT_1MS is SBT_1S / 1000, rounded down; the conversion rounds up.
        assert_eq!(duration_to_sbt(Duration::from_millis(1)), SBT_1MS + 1);
        assert_eq!(duration_to_sbt(Duration::from_micros(1)), SBT_1US + 1);
        assert_eq!(duration_to_sbt(Duration::ZERO), 1, "zero would mean: no timeout");
        assert!(duration_to_sbt(Duration::MAX) > 0);
    }
}

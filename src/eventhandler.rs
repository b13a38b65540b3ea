//! Kernel events (eventhandler(9)): run a handler at shutdown or when memory is low.
//!
//! [`EventHandler::register`] registers a handler owning a value `T` on one of the
//! kernel's lists ([`Event`]): `shutdown_pre_sync` (before file systems are synced),
//! `shutdown_final` (just before the machine halts or reboots; both get the `howto` flags
//! of reboot(2)), `vm_lowmem` (the page daemon is short of memory: free caches; gets
//! `VM_LOW_KMEM`/`VM_LOW_PAGES`). Handlers run in thread context and may sleep, but the
//! shutdown ones run while the system goes down: keep them short.
//!
//! Dropping the [`EventHandler`] deregisters it (`EVENTHANDLER_DEREGISTER`), which **waits
//! for handlers of that list that are running** before the value is freed: no handler runs
//! after its data is gone. Drop may sleep: not with a lock held, not from the handler.
//!
//! ```no_run
//! # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
//! use freebsd_kmi::eventhandler::{Event, EventHandler, PRI_DEFAULT};
//! use freebsd_kmi::kprintln;
//!
//! fn lowmem(name: &&'static str, flags: core::ffi::c_int) {
//!     kprintln!("{}: memory is short ({:#x}): dropping caches", name, flags);
//! }
//!
//! let h = EventHandler::register(Event::VmLowmem, "mydrv", lowmem, PRI_DEFAULT)?;
//! // keep `h` in the module state; dropping it deregisters (waiting for a running handler)
//! # drop(h);
//! # Ok(()) }
//! ```
//!
//! A leaked `EventHandler` stays registered with its value; [`live_handlers`] stays
//! non-zero so `MOD_UNLOAD` answers `EBUSY` and the module's code stays loaded.

use crate::errno::{ENOMEM, Errno};
use crate::heap::{KBox, M_RUST};
use crate::malloc::Flags;
use core::ffi::{CStr, c_int, c_void};
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use freebsd_kpi::common::eventhandler::{eventhandler_deregister, eventhandler_entry, eventhandler_find_list, eventhandler_register};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many [`EventHandler`]s of this module are registered.
pub fn live_handlers() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// A kernel event list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `shutdown_pre_sync`: before the file systems are synced (`kern_reboot`).
    ShutdownPreSync,
    /// `shutdown_final`: the last step before halt/reboot.
    ShutdownFinal,
    /// `vm_lowmem`: the page daemon needs memory back.
    VmLowmem,
}

impl Event {
    fn name(self) -> &'static CStr {
        match self {
            Event::ShutdownPreSync => c"shutdown_pre_sync",
            Event::ShutdownFinal => c"shutdown_final",
            Event::VmLowmem => c"vm_lowmem",
        }
    }
}

/// `SHUTDOWN_PRI_DEFAULT` / `EVENTHANDLER_PRI_ANY` (sys/sys/eventhandler.h).
pub const PRI_DEFAULT: c_int = freebsd_kpi::common::eventhandler::EVENTHANDLER_PRI_ANY;
/// `EVENTHANDLER_PRI_FIRST` (also `LOWMEM_PRI_DEFAULT`).
pub const PRI_FIRST: c_int = freebsd_kpi::common::eventhandler::EVENTHANDLER_PRI_FIRST;
/// `EVENTHANDLER_PRI_LAST`.
pub const PRI_LAST: c_int = freebsd_kpi::common::eventhandler::EVENTHANDLER_PRI_LAST;

/// A handler: the registration's value and the event's argument (`howto`, or the lowmem
/// flags).
pub type HandlerFn<T> = fn(&T, c_int);

struct Inner<T: Send + Sync + 'static> {
    data: T,
    handler: HandlerFn<T>,
    _pin: PhantomPinned,
}

unsafe extern "C" fn trampoline<T: Send + Sync + 'static>(arg: *mut c_void, how: c_int) {
    // SAFETY: `arg` is the registration's pinned `Inner<T>`, alive until deregistration
    // returned (it waits for running handlers).
    let inner = unsafe { &*(arg as *const Inner<T>) };
    (inner.handler)(&inner.data, how);
}

/// A registered event handler; see the [module docs](self).
///
/// # Invariants
///
/// `tag` is the registration of `trampoline::<T>` with `inner` on `event`'s list; `inner`
/// is freed only after `eventhandler_deregister` returned in `Drop`.
pub struct EventHandler<T: Send + Sync + 'static> {
    inner: Pin<KBox<Inner<T>>>,
    event: Event,
    tag: *mut eventhandler_entry,
}

// SAFETY: the registration can be dropped on any thread; handlers get `&T` (`T: Sync`).
unsafe impl<T: Send + Sync + 'static> Send for EventHandler<T> {}
// SAFETY: `&EventHandler` only gives `&T`.
unsafe impl<T: Send + Sync + 'static> Sync for EventHandler<T> {}

impl<T: Send + Sync + 'static> EventHandler<T> {
    /// Register `handler` with `data` on `event` at `priority` (lower runs first; see
    /// [`PRI_DEFAULT`]). **May sleep**.
    pub fn register(event: Event, data: T, handler: HandlerFn<T>, priority: c_int) -> Result<EventHandler<T>, Errno> {
        let inner = KBox::try_new_in(Inner { data, handler, _pin: PhantomPinned }, Flags::WAITOK, &M_RUST)?;
        // SAFETY: the value stays in its heap allocation, reachable only through `Pin`.
        let inner = unsafe { Pin::new_unchecked(inner) };
        let arg = (&*inner as *const Inner<T>).cast_mut().cast::<c_void>();
        let func = trampoline::<T> as unsafe extern "C" fn(*mut c_void, c_int);
        // SAFETY: EVENTHANDLER_REGISTER(name, func, arg, pri): the list name is a C string,
        // `func` has the list's handler type `void (*)(void *, int)`, `arg` outlives the
        // registration (invariant).
        let tag = unsafe { eventhandler_register(core::ptr::null_mut(), event.name().as_ptr(), func as *mut c_void, arg, priority) };
        if tag.is_null() {
            return Err(ENOMEM);
        }
        LIVE.fetch_add(1, Ordering::AcqRel);
        // INVARIANT: registered with `inner`.
        Ok(EventHandler { inner, event, tag })
    }

    /// The registration's value.
    pub fn data(&self) -> &T {
        &self.inner.data
    }
}

impl<T: Send + Sync + 'static> Drop for EventHandler<T> {
    fn drop(&mut self) {
        // SAFETY: EVENTHANDLER_DEREGISTER(name, tag): the list exists (we registered on it);
        // deregistration waits for running handlers of the list.
        unsafe {
            let list = eventhandler_find_list(self.event.name().as_ptr());
            if !list.is_null() {
                eventhandler_deregister(list, self.tag);
            }
        }
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

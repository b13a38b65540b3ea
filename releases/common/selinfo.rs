//! `struct selinfo` and select/poll wakeups (`sys/sys/selinfo.h`).
//!
//! ```c
//! struct selinfo {
//!         struct selfdlist        si_tdlist;      /* List of sleeping threads. */
//!         struct knlist           si_note;        /* kernel note list */
//!         struct mtx              *si_mtx;        /* Lock for tdlist. */
//! };
//! ```
//!
//! 72 bytes: `si_tdlist` (a `TAILQ_HEAD`, 16 bytes) at 0, `si_note` (`struct knlist`,
//! sys/sys/event.h: `kl_list`, three lock callbacks, `kl_lockarg`, `kl_autodestroy`; 48
//! bytes) at 16, `si_mtx` at 64. A zeroed selinfo is an initialised one: `selrecord` sets
//! `si_mtx` (a pool mutex) and `TAILQ_INIT`s the list on first use, and `doselwakeup` returns
//! at once while `si_mtx` is NULL (sys/kern/sys_generic.c). A module leaves the fields to
//! the kernel.
//!
//! Semantics (sys/kern/sys_generic.c, freebsd/freebsd-src@005a071d):
//! * `selrecord(td, sip)`: from `d_poll`, when the events asked for are not ready: queues
//!   the polling thread on `sip` (one of the two `selfd`s `pollscan` preallocated; `panic`
//!   "selrecord: No free selfd on selq" for a third). Ignored while the thread rescans after
//!   a wakeup (`SELTD_RESCAN`). Takes `si_mtx` (an `MTX_DEF` mutex): does not sleep, but
//!   must not be called with a spin mutex held.
//! * `selwakeup(sip)` / `selwakeuppri(sip, pri)` (= `doselwakeup`): wakes every thread
//!   queued on `sip` and unlinks it (its `sf_si` becomes NULL). Takes `si_mtx`; no sleep.
//! * `seldrain(sip)`: `doselwakeup(sip, -1)`: after it no thread refers to `sip`; call it
//!   before the memory of `sip` is freed, once no `d_poll` can `selrecord` on it any more
//!   (after `destroy_dev`).
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@4b33055d `sys/sys/selinfo.h`, same text;
//! `struct knlist` of sys/sys/event.h@0f7ff342 has the same six members), 14.2 and 15.0
//! (probed).

use super::kthread::thread;
use core::ffi::{c_int, c_void};

/// `struct selinfo` (72 bytes). Zero it and leave its fields to the kernel.
#[repr(C)]
pub struct selinfo {
    /// `si_tdlist` (`TAILQ_HEAD(selfdlist, selfd)`): `tqh_first`, `tqh_last`.
    pub si_tdlist: [*mut c_void; 2],
    /// `si_note` (`struct knlist`, 48 bytes): the kqueue notes; zero unless
    /// `knlist_init` is called.
    pub si_note: [u64; 6],
    /// `si_mtx`: the lock of `si_tdlist`, set by the first `selrecord`.
    pub si_mtx: *mut c_void,
}

impl selinfo {
    /// A zeroed selinfo (what `M_ZERO` memory or a static holds).
    pub const fn zeroed() -> selinfo {
        selinfo { si_tdlist: [core::ptr::null_mut(); 2], si_note: [0; 6], si_mtx: core::ptr::null_mut() }
    }
}

abi_structs! {
    table SELINFO_STRUCTS, header "sys/sys/selinfo.h";
    selinfo = "struct selinfo", size 72, align 8, { si_tdlist: 0, si_note: 16, si_mtx: 64 };
}

kpi_functions! {
    table SELINFO_FUNCTIONS, header "sys/sys/selinfo.h";
    /// `seldrain(sip)`: wakes and unlinks every thread queued on `sip` (`doselwakeup(sip,
    /// -1)`); call it before freeing `sip`. Takes `si_mtx`; does not sleep.
    pub fn seldrain(sip: *mut selinfo);
    /// `selrecord(selector, sip)`: queues `selector` (the thread in `d_poll`) on `sip`.
    /// Takes `si_mtx`; does not sleep.
    pub fn selrecord(selector: *mut thread, sip: *mut selinfo);
    /// `selwakeup(sip)`: wakes every thread queued on `sip`. Takes `si_mtx`; does not sleep.
    pub fn selwakeup(sip: *mut selinfo);
    /// `selwakeuppri(sip, pri)`: `selwakeup` raising the woken threads to `pri`.
    pub fn selwakeuppri(sip: *mut selinfo, pri: c_int);
}

//! `_callout_stop_safe` with three arguments on 13.x and 14.x: `int
//! _callout_stop_safe(struct callout *, int, void (*)(void *))` (sys/sys/callout.h: 14.2
//! header lines 124-125, probed; 13.x: sobomax/freebsd14_vendor@0f7ff342 `callout.h`).
//! `callout_stop(c)` = `_callout_stop_safe(c, 0, NULL)`, `callout_drain(c)` =
//! `_callout_stop_safe(c, CS_DRAIN, NULL)`, `callout_async_drain(c, d)` =
//! `_callout_stop_safe(c, 0, d)`. Calling it with two arguments leaves garbage in `%rdx`,
//! which the kernel calls as the async-drain function when the callout is running.
//! 15.0 dropped the third argument (`v15_0/callout_stop2.rs`).

use crate::common::callout::callout;
use core::ffi::{c_int, c_void};

kpi_functions! {
    table CALLOUT_STOP_FUNCTIONS, header "sys/sys/callout.h";
    /// `_callout_stop_safe(c, flags, drain)`: 1 pending callout stopped, 0 running and not
    /// stopped, -1 neither.
    #[allow(clashing_extern_declarations)]
    pub fn _callout_stop_safe(c: *mut callout, flags: c_int, drain: Option<unsafe extern "C" fn(*mut c_void)>) -> c_int;
}

/// `callout_stop(c)` / `callout_drain(c)` with this release's arity.
///
/// # Safety
/// `c` must be an initialised callout; see `_callout_stop_safe`.
pub unsafe fn callout_stop_safe(c: *mut callout, flags: c_int) -> c_int {
    // SAFETY: guaranteed by the caller; NULL is "no async drain" (the macros pass NULL).
    unsafe { _callout_stop_safe(c, flags, None) }
}

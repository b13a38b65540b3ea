//! `_callout_stop_safe` with two arguments on 15.0: `int _callout_stop_safe(struct callout
//! *, int)` (sys/sys/callout.h, 15.0 header lines 119-120, probed); `callout_stop(c)` =
//! `_callout_stop_safe(c, 0)`, `callout_drain(c)` = `_callout_stop_safe(c, CS_DRAIN)`;
//! `callout_async_drain` is gone. 13.x and 14.x take a third argument
//! (`v14_0/callout_stop3.rs`).

use crate::common::callout::callout;
use core::ffi::c_int;

kpi_functions! {
    table CALLOUT_STOP_FUNCTIONS, header "sys/sys/callout.h";
    /// `_callout_stop_safe(c, flags)`: 1 pending callout stopped, 0 running and not
    /// stopped, -1 neither.
    #[allow(clashing_extern_declarations)]
    pub fn _callout_stop_safe(c: *mut callout, flags: c_int) -> c_int;
}

/// `callout_stop(c)` / `callout_drain(c)` with this release's arity.
///
/// # Safety
/// `c` must be an initialised callout; see `_callout_stop_safe`.
pub unsafe fn callout_stop_safe(c: *mut callout, flags: c_int) -> c_int {
    // SAFETY: guaranteed by the caller.
    unsafe { _callout_stop_safe(c, flags) }
}

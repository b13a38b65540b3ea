//! The `C_*` timing flags the sleep functions take (`sys/sys/callout.h`): the tick-based
//! macros pass `C_HARDCLOCK` (`msleep`, `cv_timedwait`, `pause`), `pause_sig` adds `C_CATCH`.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `callout.h`), 14.2 and 15.0
//! (probed).

use core::ffi::c_int;

abi_consts! {
    table CALLOUT_FLAG_CONSTS, header "sys/sys/callout.h";
    /// Run the callout directly from the hardware interrupt.
    pub const C_DIRECT_EXEC: c_int = 0x0001;
    /// Align the event to `hardclock()` calls.
    pub const C_HARDCLOCK: c_int = 0x0100;
    /// The event time is absolute.
    pub const C_ABSOLUTE: c_int = 0x0200;
    /// The event time is pre-calculated.
    pub const C_PRECALC: c_int = 0x0400;
    /// Catch signals (`pause_sbt`).
    pub const C_CATCH: c_int = 0x0800;
}

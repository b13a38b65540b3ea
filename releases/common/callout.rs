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

use super::lock::lock_object;
use super::time::sbintime_t;
use core::ffi::{c_short, c_void};

/// `callout_func_t`: `void (*)(void *)`.
pub type callout_func_t = unsafe extern "C" fn(arg: *mut c_void);

/// `struct callout` (`sys/sys/_callout.h`, 64 bytes on 13.x, 14.x and 15.0). Only the
/// kernel touches its fields while it is armed.
#[repr(C)]
pub struct callout {
    /// `c_links`: the callwheel linkage (a union of list entries).
    pub c_links: [*mut c_void; 2],
    /// `c_time`: when it fires (sbinuptime).
    pub c_time: sbintime_t,
    /// `c_precision`.
    pub c_precision: sbintime_t,
    /// `c_arg`.
    pub c_arg: *mut c_void,
    /// `c_func`.
    pub c_func: Option<callout_func_t>,
    /// `c_lock`: the lock taken around the handler (`callout_init_mtx`).
    pub c_lock: *mut lock_object,
    /// `c_flags` (`CALLOUT_ACTIVE`).
    pub c_flags: c_short,
    /// `c_iflags` (`CALLOUT_PENDING`, `CALLOUT_RETURNUNLOCKED`).
    pub c_iflags: c_short,
    /// `c_cpu`.
    pub c_cpu: c_int,
}

abi_structs! {
    table CALLOUT_STRUCTS, header "sys/sys/_callout.h";
    callout = "struct callout", size 64, align 8, {
        c_links: 0, c_time: 16, c_precision: 24, c_arg: 32, c_func: 40, c_lock: 48,
        c_flags: 56, c_iflags: 58, c_cpu: 60
    };
}

abi_consts! {
    table CALLOUT_CONSTS, header "sys/sys/callout.h";
    /// `CALLOUT_ACTIVE` (`c_flags`).
    pub const CALLOUT_ACTIVE: c_int = 0x0002;
    /// `CALLOUT_PENDING` (`c_iflags`).
    pub const CALLOUT_PENDING: c_int = 0x0004;
    /// `CALLOUT_RETURNUNLOCKED`: the handler releases the lock itself.
    pub const CALLOUT_RETURNUNLOCKED: c_int = 0x0010;
    /// `CALLOUT_SHAREDLOCK`.
    pub const CALLOUT_SHAREDLOCK: c_int = 0x0020;
    /// `CS_DRAIN`: `_callout_stop_safe` waits for a running handler (`callout_drain`).
    pub const CS_DRAIN: c_int = 0x0001;
}

kpi_functions! {
    table CALLOUT_FUNCTIONS, header "sys/sys/callout.h";
    /// `callout_init(c, mpsafe)`.
    pub fn callout_init(c: *mut callout, mpsafe: c_int);
    /// `_callout_init_lock(c, lock, flags)` (`callout_init_mtx(c, m, flags)` passes
    /// `&m->lock_object`): the handler runs with `lock` held. The lock must not be sleepable.
    pub fn _callout_init_lock(c: *mut callout, lock: *mut lock_object, flags: c_int);
    /// `callout_reset_sbt_on(c, sbt, precision, func, arg, cpu, flags)` (`callout_reset(c,
    /// ticks, fn, arg)` = `(c, tick_sbt * ticks, 0, fn, arg, -1, C_HARDCLOCK)`): 1 when a
    /// pending callout was rescheduled, else 0.
    pub fn callout_reset_sbt_on(c: *mut callout, sbt: sbintime_t, precision: sbintime_t, func: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void, cpu: c_int, flags: c_int) -> c_int;
}

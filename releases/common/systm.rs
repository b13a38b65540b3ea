//! The printf(9) family and panic(9) (`sys/sys/systm.h`; panic is declared in
//! `sys/sys/kassert.h` on 14.x/15.0, in `sys/sys/systm.h` on 13.x, same prototype).
//!
//! Never pass caller data as the format: use a constant format such as `"%.*s"`.
//!
//! Also the sleep/wakeup functions (`SLEEP_FUNCTIONS`), identical on 13.x
//! (sobomax/freebsd14_vendor@0f7ff342 `systm.h`; FACTS.md section 9), 14.2 and 15.0 (probed).

use super::lock::lock_object;
use super::time::sbintime_t;
use core::ffi::{c_char, c_int, c_void};

kpi_functions! {
    table SYSTM_FUNCTIONS, header "sys/sys/systm.h";
    /// printf(9): formatted output to the console and the message buffer.
    pub fn printf(fmt: *const c_char, ...) -> c_int;
    /// uprintf(9): formatted output to the current process's controlling terminal.
    pub fn uprintf(fmt: *const c_char, ...) -> c_int;
    /// log(9): formatted output to the log device with a syslog priority.
    pub fn log(pri: c_int, fmt: *const c_char, ...);
    /// panic(9): print the message and stop the system.
    pub fn panic(fmt: *const c_char, ...) -> !;
}

kpi_functions! {
    table SLEEP_FUNCTIONS, header "sys/sys/systm.h";
    /// `_sleep(chan, lock, pri, wmesg, sbt, pr, flags)`: what `msleep`, `mtx_sleep`,
    /// `sx_sleep` and `tsleep` expand to (`lock` is `&m->lock_object`, or NULL for tsleep;
    /// the tick-based macros pass `tick_sbt * timo, 0, C_HARDCLOCK`). 0 when woken,
    /// EWOULDBLOCK on timeout, EINTR/ERESTART on a signal with `PCATCH`.
    pub fn _sleep(chan: *const c_void, lock: *mut lock_object, pri: c_int, wmesg: *const c_char, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int;
    /// `wakeup(chan)`: wakes every thread sleeping on `chan`.
    pub fn wakeup(chan: *const c_void);
    /// `wakeup_one(chan)`: wakes the highest-priority thread sleeping on `chan`.
    pub fn wakeup_one(chan: *const c_void);
    /// `pause_sbt(wmesg, sbt, pr, flags)`: sleeps without a channel (`pause(wmesg, timo)`
    /// passes `tick_sbt * timo, 0, C_HARDCLOCK`); EWOULDBLOCK when the time ran out.
    pub fn pause_sbt(wmesg: *const c_char, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int;
}

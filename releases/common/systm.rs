//! The printf(9) family and panic(9) (`sys/sys/systm.h`; panic is declared in
//! `sys/sys/kassert.h` on 14.x/15.0, in `sys/sys/systm.h` on 13.x, same prototype).
//!
//! Never pass caller data as the format: use a constant format such as `"%.*s"`.

use core::ffi::{c_char, c_int};

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

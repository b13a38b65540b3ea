//! log(9) priorities (`sys/sys/syslog.h`, identical on every release).

use core::ffi::c_int;

abi_consts! {
    table SYSLOG_CONSTS, header "sys/sys/syslog.h";
    /// System is unusable.
    pub const LOG_EMERG: c_int = 0;
    /// Action must be taken immediately.
    pub const LOG_ALERT: c_int = 1;
    /// Critical conditions.
    pub const LOG_CRIT: c_int = 2;
    /// Error conditions.
    pub const LOG_ERR: c_int = 3;
    /// Warning conditions.
    pub const LOG_WARNING: c_int = 4;
    /// Normal but significant condition.
    pub const LOG_NOTICE: c_int = 5;
    /// Informational.
    pub const LOG_INFO: c_int = 6;
    /// Debug-level messages.
    pub const LOG_DEBUG: c_int = 7;
}

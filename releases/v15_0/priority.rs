//! Kernel sleep priorities on 15.0 (`sys/sys/priority.h`, 15.0 headers lines 110-127):
//! `PRI_MIN_KERN` moved from 48 to 40 and the sleep priorities are 1 apart (review
//! D45391; FACTS.md section 9).

use core::ffi::c_int;

abi_consts! {
    table PRIORITY_CONSTS, header "sys/sys/priority.h";
    /// Highest kernel (sleep) priority.
    pub const PRI_MIN_KERN: c_int = 40;
    /// Lowest kernel priority (`PRI_MIN_TIMESHARE - 1`).
    pub const PRI_MAX_KERN: c_int = 55;
    /// Swapper.
    pub const PSWP: c_int = PRI_MIN_KERN;
    /// Waiting for memory.
    pub const PVM: c_int = PRI_MIN_KERN + 1;
    /// Waiting for disk I/O.
    pub const PRIBIO: c_int = PRI_MIN_KERN + 3;
    /// VFS.
    pub const PVFS: c_int = PRI_MIN_KERN + 4;
    /// No longer special.
    pub const PZERO: c_int = PRI_MIN_KERN + 5;
    /// Sockets.
    pub const PSOCK: c_int = PRI_MIN_KERN + 6;
    /// Waiting for an event (the usual choice).
    pub const PWAIT: c_int = PRI_MIN_KERN + 7;
    /// Locks.
    pub const PLOCK: c_int = PRI_MIN_KERN + 8;
    /// Pauses.
    pub const PPAUSE: c_int = PRI_MIN_KERN + 9;
    /// Highest time-sharing (user) priority.
    pub const PUSER: c_int = 56;
}

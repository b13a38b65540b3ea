//! Kernel sleep priorities on 13.x (`sys/sys/priority.h`): `PRI_MIN_KERN` is 80 and the
//! sleep priorities are 4 apart. Read in sobomax/freebsd14_vendor@4b33055d8aff (a 13.x tree;
//! FACTS.md section 9). 14.0 moved the kernel range to 48 (review D35646), 15.0 to 40.

use core::ffi::c_int;

abi_consts! {
    table PRIORITY_CONSTS, header "sys/sys/priority.h";
    /// Highest kernel (sleep) priority.
    pub const PRI_MIN_KERN: c_int = 80;
    /// Lowest kernel priority (`PRI_MIN_TIMESHARE - 1`).
    pub const PRI_MAX_KERN: c_int = 119;
    /// Swapper.
    pub const PSWP: c_int = PRI_MIN_KERN;
    /// Waiting for memory.
    pub const PVM: c_int = PRI_MIN_KERN + 4;
    /// Waiting for disk I/O.
    pub const PRIBIO: c_int = PRI_MIN_KERN + 12;
    /// VFS.
    pub const PVFS: c_int = PRI_MIN_KERN + 16;
    /// No longer special.
    pub const PZERO: c_int = PRI_MIN_KERN + 20;
    /// Sockets.
    pub const PSOCK: c_int = PRI_MIN_KERN + 24;
    /// Waiting for an event (the usual choice).
    pub const PWAIT: c_int = PRI_MIN_KERN + 28;
    /// Locks.
    pub const PLOCK: c_int = PRI_MIN_KERN + 32;
    /// Pauses.
    pub const PPAUSE: c_int = PRI_MIN_KERN + 36;
    /// Highest time-sharing (user) priority.
    pub const PUSER: c_int = 120;
}

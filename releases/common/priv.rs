//! Privileges (`sys/sys/priv.h`): `priv_check(td, priv)` answers 0 when the thread's
//! credential holds the privilege, else EPERM (sys/kern/kern_priv.c: root passes unless
//! jailed and the privilege is not allowed in a jail; PRIV_DRIVER and PRIV_IO are not).
//! Never read `struct ucred` fields from a module (FACTS.md section 9): ask `priv_check`.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `sys/sys/priv.h`), 14.2 and 15.0
//! (probed).

use super::kthread::thread;
use core::ffi::c_int;

abi_consts! {
    table PRIV_CONSTS, header "sys/sys/priv.h";
    /// Low-level I/O.
    pub const PRIV_IO: c_int = 12;
    /// Low-level driver privilege.
    pub const PRIV_DRIVER: c_int = 14;
}

kpi_functions! {
    table PRIV_FUNCTIONS, header "sys/sys/priv.h";
    /// `priv_check(td, priv)`: 0 if `td`'s credential holds `priv`, else EPERM. Does not
    /// sleep; `td` must be the calling thread.
    pub fn priv_check(td: *mut thread, privilege: c_int) -> c_int;
}

//! Sleep flags OR'd into the priority argument of `_sleep` (`sys/sys/param.h`). `PNOLOCK`
//! (14.2/15.0) is not bound: 13.0's param.h does not define it.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@42edb4ec `param.h`; FACTS.md section 9),
//! 14.2 and 15.0 (probed).

use core::ffi::c_int;

abi_consts! {
    table PARAM_SLEEP_CONSTS, header "sys/sys/param.h";
    /// The priority bits of the `pri` argument.
    pub const PRIMASK: c_int = 0x0ff;
    /// Catch signals: the sleep returns EINTR or ERESTART.
    pub const PCATCH: c_int = 0x100;
    /// Do not reacquire the interlock on return.
    pub const PDROP: c_int = 0x200;
}

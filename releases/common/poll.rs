//! `poll(2)` event bits (`sys/sys/poll.h`), what `d_poll` gets in `events` and returns.
//!
//! Identical on 13.x (freebsd/freebsd-src `sys/sys/poll.h`; the values are part of the
//! poll(2) ABI), 14.2 and 15.0 (probed).

use core::ffi::c_int;

abi_consts! {
    table POLL_CONSTS, header "sys/sys/poll.h";
    /// `POLLIN`: any readable data available.
    pub const POLLIN: c_int = 0x0001;
    /// `POLLPRI`: OOB/urgent readable data.
    pub const POLLPRI: c_int = 0x0002;
    /// `POLLOUT`: the descriptor is writeable.
    pub const POLLOUT: c_int = 0x0004;
    /// `POLLRDNORM`: non-OOB/URG data available.
    pub const POLLRDNORM: c_int = 0x0040;
    /// `POLLWRNORM` (= `POLLOUT`).
    pub const POLLWRNORM: c_int = 0x0004;
    /// `POLLRDBAND`: OOB/urgent readable data.
    pub const POLLRDBAND: c_int = 0x0080;
    /// `POLLWRBAND`: OOB/urgent data can be written.
    pub const POLLWRBAND: c_int = 0x0100;
    /// `POLLINIGNEOF`: like `POLLIN`, except ignore EOF (FreeBSD extension).
    pub const POLLINIGNEOF: c_int = 0x2000;
    /// `POLLERR`: some poll error occurred (`revents` only).
    pub const POLLERR: c_int = 0x0008;
    /// `POLLHUP`: the descriptor was "hung up" (`revents` only).
    pub const POLLHUP: c_int = 0x0010;
    /// `POLLNVAL`: the requested events are "invalid" (`revents` only).
    pub const POLLNVAL: c_int = 0x0020;
    /// `POLLSTANDARD`: the events every poll routine knows.
    pub const POLLSTANDARD: c_int = 0x01ff;
    /// `INFTIM`: poll(2)'s infinite timeout.
    pub const INFTIM: c_int = -1;
}

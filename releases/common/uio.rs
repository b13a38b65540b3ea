//! `struct uio` and `uiomove` (`sys/sys/uio.h`), `enum uio_rw` / `enum uio_seg`
//! (`sys/sys/_uio.h`), `struct iovec` (`sys/sys/_iovec.h`).
//!
//! Direction: for `UIO_WRITE` (a write(2) reaching `d_write`) `uiomove(cp, n, uio)` copies
//! from the user **into** `cp`; for `UIO_READ` it copies from `cp` to the user. It moves
//! `min(n, uio_resid)` bytes across the iovecs, advancing `uio_offset` and decreasing
//! `uio_resid` (sys/kern/subr_uio.c `uiomove_faultflag`); EFAULT on a bad user address.
//! It may fault and sleep: never call it with a mutex held.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `sys/sys/uio.h`, `_uio.h`;
//! FACTS.md section 5), 14.2 and 15.0 (probed).

use super::kthread::thread;
use core::ffi::{c_int, c_void};

/// `struct iovec` (16 bytes).
#[repr(C)]
pub struct iovec {
    /// `iov_base`.
    pub iov_base: *mut c_void,
    /// `iov_len`.
    pub iov_len: usize,
}

/// `enum uio_rw` (4 bytes): [`UIO_READ`] or [`UIO_WRITE`].
pub type uio_rw = c_int;
/// `enum uio_seg` (4 bytes): [`UIO_USERSPACE`], [`UIO_SYSSPACE`] or [`UIO_NOCOPY`].
pub type uio_seg = c_int;

/// `struct uio` (48 bytes).
#[repr(C)]
pub struct uio {
    /// `uio_iov`: the scatter/gather list.
    pub uio_iov: *mut iovec,
    /// `uio_iovcnt`.
    pub uio_iovcnt: c_int,
    /// `uio_offset` (`off_t`): the file offset of the transfer.
    pub uio_offset: i64,
    /// `uio_resid` (`ssize_t`): bytes left to move.
    pub uio_resid: isize,
    /// `uio_segflg` (`enum uio_seg`).
    pub uio_segflg: uio_seg,
    /// `uio_rw` (`enum uio_rw`).
    pub uio_rw: uio_rw,
    /// `uio_td`: the owning thread.
    pub uio_td: *mut thread,
}

abi_structs! {
    table UIO_STRUCTS, header "sys/sys/uio.h";
    uio = "struct uio", size 48, align 8, {
        uio_iov: 0, uio_iovcnt: 8, uio_offset: 16, uio_resid: 24, uio_segflg: 32, uio_rw: 36, uio_td: 40,
    };
}

abi_structs! {
    table IOVEC_STRUCTS, header "sys/sys/_iovec.h";
    iovec = "struct iovec", size 16, align 8, { iov_base: 0, iov_len: 8 };
}

abi_consts! {
    table UIO_CONSTS, header "sys/sys/_uio.h";
    /// `UIO_READ`: kernel to user (a read(2)).
    pub const UIO_READ: c_int = 0;
    /// `UIO_WRITE`: user to kernel (a write(2)).
    pub const UIO_WRITE: c_int = 1;
    /// `UIO_USERSPACE`: the iovecs are user addresses.
    pub const UIO_USERSPACE: c_int = 0;
    /// `UIO_SYSSPACE`: the iovecs are kernel addresses.
    pub const UIO_SYSSPACE: c_int = 1;
    /// `UIO_NOCOPY`: do not copy.
    pub const UIO_NOCOPY: c_int = 2;
}

kpi_functions! {
    table UIO_FUNCTIONS, header "sys/sys/uio.h";
    /// `uiomove(cp, n, uio)`: moves `min(n, uio_resid)` bytes between `cp` and the uio in
    /// the uio's direction; 0 or EFAULT. May sleep.
    pub fn uiomove(cp: *mut c_void, n: c_int, uio: *mut uio) -> c_int;
}

kpi_functions! {
    table COPY_FUNCTIONS, header "sys/sys/systm.h";
    /// `copyin(udaddr, kaddr, len)`: user to kernel; 0 or EFAULT. May sleep (page fault).
    pub fn copyin(udaddr: *const c_void, kaddr: *mut c_void, len: usize) -> c_int;
    /// `copyout(kaddr, udaddr, len)`: kernel to user; 0 or EFAULT. May sleep.
    pub fn copyout(kaddr: *const c_void, udaddr: *mut c_void, len: usize) -> c_int;
}

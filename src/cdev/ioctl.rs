//! Typed ioctl commands: [`Ioctl<T>`] built like `_IO`/`_IOR`/`_IOW`/`_IOWR`, and the
//! [`IoctlRequest`] a [`CharDevice::ioctl`](super::CharDevice::ioctl) receives.
//!
//! The kernel does the copying (sys/kern/sys_generic.c `sys_ioctl`): it reads
//! `IOCPARM_LEN(cmd)` from the command, refuses more than `IOCPARM_MAX` bytes, copies that
//! many bytes in from the user for `IOC_IN` (zeroes them for `IOC_OUT` only), calls the
//! driver with a pointer to that **kernel** buffer (a 128-byte stack buffer aligned to
//! `SYS_IOCTL_SMALL_ALIGN` = 8, or a malloc(9) buffer), and copies the buffer out for
//! `IOC_OUT` when the driver returns 0. So the argument a driver sees is kernel memory of
//! exactly the encoded size, initialised, aligned to 8: [`IoctlRequest::arg`] hands it out
//! as `&mut T` for the command whose encoding matches.
//!
//! ```
//! use freebsd_kmi::cdev::ioctl::{Ioctl, iocparm_len};
//! const GET_LEN: Ioctl<u32> = Ioctl::ior(b'E', 1);   // _IOR('E', 1, uint32_t)
//! const CLEAR: Ioctl<()> = Ioctl::io(b'E', 2);        // _IO('E', 2)
//! assert_eq!(GET_LEN.cmd(), 0x4004_4501);
//! assert_eq!(iocparm_len(GET_LEN.cmd()), 4);
//! assert_eq!(CLEAR.cmd(), 0x2000_4502);
//! ```
//!
//! A size that does not fit the encoding does not compile:
//!
//! ```compile_fail
//! use freebsd_kmi::cdev::ioctl::Ioctl;
//! const TOO_BIG: Ioctl<[u8; 8192]> = Ioctl::ior(b'E', 1); // > IOCPARM_MAX - 1
//! ```

use crate::errno::{EINVAL, Errno};
use core::ffi::{c_char, c_int, c_ulong};
use core::marker::PhantomData;
use freebsd_kpi::common::ioccom::{IOC_IN, IOC_INOUT, IOC_OUT, IOC_VOID, IOCPARM_MASK, IOCPARM_MAX};

/// `_IOC(inout, group, num, len)` (sys/sys/ioccom.h).
pub const fn ioc(inout: c_ulong, group: u8, num: u8, len: usize) -> c_ulong {
    inout | (((len as c_ulong) & IOCPARM_MASK) << 16) | ((group as c_ulong) << 8) | num as c_ulong
}

/// `IOCPARM_LEN(cmd)`: the argument size a command encodes.
pub const fn iocparm_len(cmd: c_ulong) -> usize {
    ((cmd >> 16) & IOCPARM_MASK) as usize
}

/// `IOCBASECMD(cmd)`: the command without its size.
pub const fn iocbasecmd(cmd: c_ulong) -> c_ulong {
    cmd & !(IOCPARM_MASK << 16)
}

/// A type an ioctl argument may have: plain data, valid for **every** bit pattern (the
/// kernel fills it with whatever the user passed), at most 8-byte aligned (the kernel's
/// ioctl buffer alignment).
///
/// # Safety
///
/// Every initialised byte pattern of `size_of::<Self>()` bytes is a valid `Self`, and
/// `Self` has no drop glue and no pointers the kernel would follow.
pub unsafe trait IoctlArg: Sized + 'static {}

macro_rules! ioctl_arg {
    ($($t:ty),*) => { $(
        // SAFETY: an integer: every bit pattern is valid.
        unsafe impl IoctlArg for $t {}
    )* };
}
ioctl_arg!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);
// SAFETY: an array of plain data is plain data.
unsafe impl<T: IoctlArg, const N: usize> IoctlArg for [T; N] {}
// SAFETY: a zero-sized value (`_IO` commands) has no bytes.
unsafe impl IoctlArg for () {}

/// An ioctl command whose argument is a `T`, encoded as FreeBSD's macros encode it.
///
/// Build it in a `const`: the size and alignment checks run at compile time.
///
/// # Invariants
/// `iocparm_len(cmd) == size_of::<T>()`, `size_of::<T>() < IOCPARM_MAX`,
/// `align_of::<T>() <= 8`, and the direction bits are `IOC_VOID` exactly when `T` is
/// zero-sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ioctl<T: IoctlArg> {
    cmd: c_ulong,
    arg: PhantomData<fn() -> T>,
}

impl Ioctl<()> {
    /// `_IO(group, num)`: no argument.
    pub const fn io(group: u8, num: u8) -> Self {
        // INVARIANT: size 0, IOC_VOID.
        Ioctl { cmd: ioc(IOC_VOID, group, num, 0), arg: PhantomData }
    }
}

impl<T: IoctlArg> Ioctl<T> {
    const fn checked(inout: c_ulong, group: u8, num: u8) -> Self {
        let size = core::mem::size_of::<T>();
        assert!(size > 0, "an _IOR/_IOW/_IOWR argument has a size: use Ioctl::io for none");
        assert!((size as c_ulong) < IOCPARM_MAX, "ioctl argument larger than IOCPARM_MAX - 1 bytes (sys/sys/ioccom.h)");
        assert!(core::mem::align_of::<T>() <= 8, "ioctl argument aligned above SYS_IOCTL_SMALL_ALIGN (8)");
        let cmd = ioc(inout, group, num, size);
        assert!(iocparm_len(cmd) == size);
        // INVARIANT: checked above.
        Ioctl { cmd, arg: PhantomData }
    }

    /// `_IOR(group, num, T)`: the driver fills a `T` the kernel copies out to the user.
    pub const fn ior(group: u8, num: u8) -> Self {
        Self::checked(IOC_OUT, group, num)
    }

    /// `_IOW(group, num, T)`: the kernel copies a `T` in from the user.
    pub const fn iow(group: u8, num: u8) -> Self {
        Self::checked(IOC_IN, group, num)
    }

    /// `_IOWR(group, num, T)`: copied in, and out again after the driver returns 0.
    pub const fn iowr(group: u8, num: u8) -> Self {
        Self::checked(IOC_INOUT, group, num)
    }

    /// The encoded command (the `u_long` user space passes to ioctl(2)).
    pub const fn cmd(&self) -> c_ulong {
        self.cmd
    }
}

/// One ioctl call as `d_ioctl` receives it: the command, the kernel copy of the argument
/// and the file flags. Lives for the duration of the call.
///
/// # Invariants
/// `data` points at `iocparm_len(cmd)` initialised bytes of kernel memory aligned to 8,
/// exclusively ours until the call returns (or is null/dangling when that length is 0).
pub struct IoctlRequest<'a> {
    cmd: c_ulong,
    data: *mut c_char,
    fflag: c_int,
    call: PhantomData<&'a mut [u8]>,
}

impl<'a> IoctlRequest<'a> {
    /// Wraps `d_ioctl`'s arguments.
    ///
    /// # Safety
    /// `data` is the kernel's ioctl buffer for `cmd` (see the module docs), valid and
    /// unaliased for `'a`.
    pub(crate) unsafe fn new(cmd: c_ulong, data: *mut c_char, fflag: c_int) -> Self {
        // INVARIANT: guaranteed by the caller (kern_ioctl's buffer).
        IoctlRequest { cmd, data, fflag, call: PhantomData }
    }

    /// The command as the user passed it.
    pub fn command(&self) -> c_ulong {
        self.cmd
    }

    /// The open file's flags (`FREAD` 1, `FWRITE` 2, ...).
    pub fn file_flags(&self) -> c_int {
        self.fflag
    }

    /// The argument, if this request is `ioctl`: `Ok(Some(&mut T))` for exactly its
    /// command; `Err(EINVAL)` for the same group and number with another size or direction
    /// (a caller built against another version of the command); `Ok(None)` otherwise (try
    /// the next command; answer `ENOTTY` when none matched).
    pub fn arg<T: IoctlArg>(&mut self, ioctl: &Ioctl<T>) -> Result<Option<&mut T>, Errno> {
        if self.cmd != ioctl.cmd {
            // Group and number are the low 16 bits (`group << 8 | num`).
            let same_number = (self.cmd & 0xffff) == (ioctl.cmd & 0xffff);
            return if same_number { Err(EINVAL) } else { Ok(None) };
        }
        if core::mem::size_of::<T>() == 0 {
            // SAFETY: a zero-sized `T` (only `()` is `IoctlArg` and zero-sized, or arrays
            // of it) needs no memory; a dangling aligned pointer is a valid reference.
            return Ok(Some(unsafe { &mut *core::ptr::NonNull::<T>::dangling().as_ptr() }));
        }
        // SAFETY: the command matches, so `data` holds `size_of::<T>()` initialised bytes
        // aligned to 8 >= align_of::<T>() (Ioctl and IoctlRequest invariants), which are a
        // valid `T` (IoctlArg); `&mut self` keeps the borrow unique.
        Ok(Some(unsafe { &mut *self.data.cast::<T>() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EINVAL;

    const GET: Ioctl<u32> = Ioctl::ior(b'E', 1);
    const SET: Ioctl<u64> = Ioctl::iow(b'E', 3);
    const VOID: Ioctl<()> = Ioctl::io(b'E', 2);

    #[test]
    fn encoding_matches_the_c_macros() {
        // _IOR('E', 1, uint32_t), _IOW('E', 3, uint64_t), _IO('E', 2) computed by hand from
        // sys/sys/ioccom.h: dir | (len & 0x1fff) << 16 | 'E' << 8 | num.
        assert_eq!(GET.cmd(), 0x4000_0000 | 4 << 16 | 0x45 << 8 | 1);
        assert_eq!(SET.cmd(), 0x8000_0000 | 8 << 16 | 0x4503);
        assert_eq!(VOID.cmd(), 0x2000_4502);
        assert_eq!(Ioctl::<[u32; 4]>::iowr(b'x', 9).cmd(), 0xc010_7809);
        assert_eq!(iocparm_len(SET.cmd()), 8);
    }

    #[test]
    fn arguments_match_by_command_and_size() {
        let mut buf = [0u64; 2];
        buf[0] = 7;
        // SAFETY: a 16-byte, 8-aligned buffer, larger than any of the commands' arguments.
        let mut req = unsafe { IoctlRequest::new(SET.cmd(), buf.as_mut_ptr().cast(), 3) };
        assert_eq!(req.arg(&GET), Ok(None));
        assert_eq!(req.arg(&VOID), Ok(None));
        assert_eq!(req.arg(&SET).unwrap().copied(), Some(7));
        *req.arg(&SET).unwrap().unwrap() = 9;
        assert_eq!(buf[0], 9);
        // Same number, another size: EINVAL.
        let wrong = ioc(IOC_IN, b'E', 3, 4);
        // SAFETY: as above.
        let mut req = unsafe { IoctlRequest::new(wrong, buf.as_mut_ptr().cast(), 3) };
        assert_eq!(req.arg(&SET), Err(EINVAL));
        // Unknown command: no match.
        // SAFETY: as above.
        let mut req = unsafe { IoctlRequest::new(ioc(IOC_OUT, b'Z', 1, 4), buf.as_mut_ptr().cast(), 3) };
        assert_eq!(req.arg(&GET), Ok(None));
    }
}

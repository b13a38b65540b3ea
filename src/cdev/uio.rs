//! Direction-typed uio: [`IoDest`] for `d_read` (kernel to user) and [`IoSource`] for
//! `d_write` (user to kernel).
//!
//! `uiomove(cp, n, uio)` copies in the uio's direction (sys/kern/subr_uio.c
//! `uiomove_faultflag`): for `UIO_READ` from `cp` to the iovecs (copyout for user
//! segments), for `UIO_WRITE` from the iovecs **into** `cp` (copyin). It moves
//! `min(n, uio_resid)` bytes, walking the iovecs in order, and advances `uio_offset` and
//! `uio_iov`/`uio_iovcnt` while decreasing `uio_resid`; EFAULT on a bad user address, with
//! the bytes moved so far accounted for. So a write must hand it a buffer the kernel may
//! write (`&mut [u8]`), never a shared slice: [`IoSource::copy_to_slice`] takes `&mut [u8]`,
//! and only [`IoDest`], whose uio is `UIO_READ`, accepts `&[u8]`.
//!
//! Handing a write a shared slice does not compile:
//!
//! ```compile_fail
//! fn store(from: &mut freebsd_kmi::cdev::IoSource<'_>, buf: &[u8]) {
//!     from.copy_to_slice(buf); // uiomove would write through `&[u8]`: refused
//! }
//! ```
//!
//! Both **may sleep** (page faults on user memory): never call them with a
//! [`Mutex`](crate::sync::Mutex) or [`SpinMutex`](crate::sync::SpinMutex) held (WITNESS
//! reports it); an [`SxLock`](crate::sync::SxLock) guard is fine, or copy through a bounce
//! buffer.

use crate::errno::{EINVAL, Errno, to_result};
use crate::kernel::Kernel;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use freebsd_kpi::common::uio::{UIO_READ, UIO_WRITE, uio};
use freebsd_kpi::kpi_cdev::KpiCdev;

/// Ties a value to the uio of one call `'a` on its thread (not `Send`).
type UioMarker<'a, K> = PhantomData<(&'a mut uio, fn() -> K, *mut ())>;

/// The largest single `uiomove` (its `n` is an `int`).
const MAX_CHUNK: usize = c_int::MAX as usize;

/// The destination of a `d_read`: the caller's buffers (`UIO_READ`).
///
/// # Invariants
/// `uio` is the live uio of the current `d_read` call, with `uio_rw == UIO_READ`, not
/// used by anyone else while this value exists; not `Send` (the call's thread).
pub struct IoDest<'a, K: KpiCdev = Kernel> {
    uio: *mut uio,
    call: UioMarker<'a, K>,
}

/// The source of a `d_write`: the caller's buffers (`UIO_WRITE`).
///
/// # Invariants
/// `uio` is the live uio of the current `d_write` call, with `uio_rw == UIO_WRITE`, not
/// used by anyone else while this value exists; not `Send`.
pub struct IoSource<'a, K: KpiCdev = Kernel> {
    uio: *mut uio,
    call: UioMarker<'a, K>,
}

/// Bytes moved by one `uiomove` of at most `n` bytes (at most `c_int::MAX`): on success
/// uiomove moved exactly `min(n, uio_resid)` bytes (subr_uio.c: it loops until `n` or the
/// residual count runs out). Inlined: it sits on every read(2)/write(2) of a device.
///
/// # Safety
/// `uio` is live; `cp` is valid for `n` bytes in the uio's direction.
#[inline(always)]
unsafe fn uiomove<K: KpiCdev>(cp: *mut c_void, n: usize, uio: *mut uio) -> Result<usize, Errno> {
    debug_assert!(n <= MAX_CHUNK);
    // SAFETY: `uio` is live (caller).
    let resid = unsafe { (*uio).uio_resid }.max(0) as usize;
    // SAFETY: as documented by the caller.
    to_result(unsafe { K::uiomove(cp, n as c_int, uio) })?;
    Ok(n.min(resid))
}

impl<'a, K: KpiCdev> IoDest<'a, K> {
    /// Wraps `d_read`'s uio; `Err(EINVAL)` if it is not a `UIO_READ`.
    ///
    /// # Safety
    /// `uio` is the live uio of the current call, unused elsewhere for `'a`.
    pub(crate) unsafe fn new(uio: *mut uio) -> Result<Self, Errno> {
        // SAFETY: live (caller).
        if unsafe { (*uio).uio_rw } != UIO_READ {
            return Err(EINVAL);
        }
        // INVARIANT: live, UIO_READ, ours for 'a.
        Ok(IoDest { uio, call: PhantomData })
    }

    /// The file offset the read starts at (`uio_offset`), advanced by each copy.
    #[inline]
    pub fn offset(&self) -> i64 {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_offset }
    }

    /// Bytes the caller still wants (`uio_resid`).
    #[inline]
    pub fn remaining(&self) -> usize {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_resid }.max(0) as usize
    }

    /// Copies up to `data.len()` bytes (no more than [`remaining`](Self::remaining)) to the
    /// caller, across its iovecs; returns the count. **May sleep**; `Err(EFAULT)` on a bad
    /// user buffer.
    #[inline]
    pub fn copy_from_slice(&mut self, data: &[u8]) -> Result<usize, Errno> {
        if data.len() <= MAX_CHUNK {
            // One uiomove: every read(2) smaller than 2 GiB, kept inline (no loop).
            // SAFETY: the uio is live and UIO_READ (invariant): uiomove only reads `cp`
            // (copyout/bcopy from it), so the shared slice is never written.
            return unsafe { uiomove::<K>(data.as_ptr().cast_mut().cast(), data.len(), self.uio) };
        }
        self.copy_from_chunks(data)
    }

    /// [`copy_from_slice`](Self::copy_from_slice) of more than `c_int::MAX` bytes: one
    /// uiomove per chunk (out of line: rare).
    #[cold]
    #[inline(never)]
    fn copy_from_chunks(&mut self, data: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        for chunk in data.chunks(MAX_CHUNK) {
            // SAFETY: the uio is live and UIO_READ (invariant): uiomove only reads `cp`
            // (copyout/bcopy from it), so the shared slice is never written.
            let n = unsafe { uiomove::<K>(chunk.as_ptr().cast_mut().cast(), chunk.len(), self.uio)? };
            done += n;
            if n < chunk.len() {
                break; // the caller wants no more
            }
        }
        Ok(done)
    }

    /// A read of a file whose contents are `contents`: copies `contents[offset..]` (as much
    /// as the caller wants) and returns the count; 0 at or past the end (EOF). A negative
    /// offset is `EINVAL`.
    #[inline]
    pub fn copy_at_offset(&mut self, contents: &[u8]) -> Result<usize, Errno> {
        let off = usize::try_from(self.offset()).map_err(|_| EINVAL)?;
        match contents.get(off..) {
            Some(rest) => self.copy_from_slice(rest),
            None => Ok(0),
        }
    }
}

impl<'a, K: KpiCdev> IoSource<'a, K> {
    /// Wraps `d_write`'s uio; `Err(EINVAL)` if it is not a `UIO_WRITE`.
    ///
    /// # Safety
    /// `uio` is the live uio of the current call, unused elsewhere for `'a`.
    pub(crate) unsafe fn new(uio: *mut uio) -> Result<Self, Errno> {
        // SAFETY: live (caller).
        if unsafe { (*uio).uio_rw } != UIO_WRITE {
            return Err(EINVAL);
        }
        // INVARIANT: live, UIO_WRITE, ours for 'a.
        Ok(IoSource { uio, call: PhantomData })
    }

    /// The file offset the write starts at (`uio_offset`), advanced by each copy.
    #[inline]
    pub fn offset(&self) -> i64 {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_offset }
    }

    /// Bytes the caller still offers (`uio_resid`).
    #[inline]
    pub fn remaining(&self) -> usize {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_resid }.max(0) as usize
    }

    /// Fills up to `buf.len()` bytes of `buf` from the caller (no more than
    /// [`remaining`](Self::remaining)), across its iovecs; returns the count. **May
    /// sleep**; `Err(EFAULT)` on a bad user buffer (the bytes before it are in `buf`).
    #[inline]
    pub fn copy_to_slice(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let len = buf.len();
        if len <= MAX_CHUNK {
            // One uiomove: every write(2) smaller than 2 GiB, kept inline (no loop).
            // SAFETY: the uio is live and UIO_WRITE (invariant): uiomove writes up to `len`
            // bytes into `cp`, the start of an exclusive `&mut [u8]` of `len` bytes.
            return unsafe { uiomove::<K>(buf.as_mut_ptr().cast(), len, self.uio) };
        }
        self.copy_to_chunks(buf)
    }

    /// [`copy_to_slice`](Self::copy_to_slice) of more than `c_int::MAX` bytes: one
    /// uiomove per chunk (out of line: rare).
    #[cold]
    #[inline(never)]
    fn copy_to_chunks(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut done = 0;
        for chunk in buf.chunks_mut(MAX_CHUNK) {
            let len = chunk.len();
            // SAFETY: the uio is live and UIO_WRITE (invariant): uiomove writes up to `len`
            // bytes into `cp`, a chunk of an exclusive `&mut [u8]`.
            let n = unsafe { uiomove::<K>(chunk.as_mut_ptr().cast(), len, self.uio)? };
            done += n;
            if n < len {
                break; // the caller offers no more
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EFAULT;
    use crate::mock::MockKernel;
    use freebsd_kpi::common::uio::{UIO_SYSSPACE, iovec};

    /// uiomove as sys/kern/subr_uio.c `uiomove_faultflag` does it for `UIO_SYSSPACE`
    /// iovecs: `min(n, resid)` bytes, iovec by iovec (empty ones skipped), advancing
    /// `uio_offset`/`uio_iov`/`uio_iovcnt` and decreasing `uio_resid`; an iovec whose base
    /// is 0x10 stands for an unmapped page (EFAULT, what was moved stays accounted).
    unsafe fn mock_uiomove(cp: *mut c_void, n: c_int, uio: *mut uio) -> c_int {
        // SAFETY: test uios built below.
        let u = unsafe { &mut *uio };
        let mut n = n as usize;
        let mut cp = cp.cast::<u8>();
        while n > 0 && u.uio_resid > 0 {
            // SAFETY: uio_iovcnt iovecs at uio_iov.
            let iov = unsafe { &mut *u.uio_iov };
            let cnt = iov.iov_len.min(n);
            if cnt == 0 {
                // SAFETY: advancing within the array.
                u.uio_iov = unsafe { u.uio_iov.add(1) };
                u.uio_iovcnt -= 1;
                continue;
            }
            if iov.iov_base as usize == 0x10 {
                return EFAULT.get();
            }
            // SAFETY: test buffers of at least `cnt` bytes on both sides.
            unsafe {
                if u.uio_rw == UIO_READ {
                    core::ptr::copy_nonoverlapping(cp, iov.iov_base.cast::<u8>(), cnt);
                } else {
                    core::ptr::copy_nonoverlapping(iov.iov_base.cast::<u8>(), cp, cnt);
                }
                iov.iov_base = iov.iov_base.cast::<u8>().add(cnt).cast();
                cp = cp.add(cnt);
            }
            iov.iov_len -= cnt;
            u.uio_resid -= cnt as isize;
            u.uio_offset += cnt as i64;
            n -= cnt;
        }
        0
    }

    // SAFETY: uiomove behaves as subr_uio.c for system-space iovecs; the other methods are
    // not called by these tests (their defaults would reach the kernel symbols).
    unsafe impl KpiCdev for MockKernel {
        unsafe fn uiomove(cp: *mut c_void, n: c_int, uio: *mut uio) -> c_int {
            // SAFETY: as documented by the trait.
            unsafe { mock_uiomove(cp, n, uio) }
        }
        // copyin/copyout: "user" addresses are host addresses, except the page at 0 (EFAULT).
        unsafe fn copyin(uaddr: *const c_void, kaddr: *mut c_void, len: usize) -> c_int {
            if (uaddr as usize) < 4096 {
                return EFAULT.get();
            }
            // SAFETY: test buffers of `len` bytes.
            unsafe { core::ptr::copy_nonoverlapping(uaddr.cast::<u8>(), kaddr.cast::<u8>(), len) };
            0
        }
        unsafe fn copyout(kaddr: *const c_void, uaddr: *mut c_void, len: usize) -> c_int {
            if (uaddr as usize) < 4096 {
                return EFAULT.get();
            }
            // SAFETY: test buffers of `len` bytes.
            unsafe { core::ptr::copy_nonoverlapping(kaddr.cast::<u8>(), uaddr.cast::<u8>(), len) };
            0
        }
        // priv_check: a null td stands for an unprivileged thread.
        unsafe fn priv_check(td: *mut freebsd_kpi::common::kthread::thread, _privilege: c_int) -> c_int {
            if td.is_null() { crate::errno::EPERM.get() } else { 0 }
        }
    }

    fn new_uio(iov: &mut [iovec], offset: i64, rw: c_int) -> uio {
        let resid = iov.iter().map(|v| v.iov_len).sum::<usize>() as isize;
        uio {
            uio_iov: iov.as_mut_ptr(),
            uio_iovcnt: iov.len() as c_int,
            uio_offset: offset,
            uio_resid: resid,
            uio_segflg: UIO_SYSSPACE,
            uio_rw: rw,
            uio_td: core::ptr::null_mut(),
        }
    }

    #[test]
    fn reads_fill_every_iovec_from_the_offset() {
        let (mut a, mut b) = ([0u8; 3], [0u8; 10]);
        let mut iov = [
            iovec { iov_base: a.as_mut_ptr().cast(), iov_len: 3 },
            iovec { iov_base: core::ptr::null_mut(), iov_len: 0 },
            iovec { iov_base: b.as_mut_ptr().cast(), iov_len: 10 },
        ];
        let mut u = new_uio(&mut iov, 2, UIO_READ);
        // SAFETY: a live UIO_READ uio.
        let mut to = unsafe { IoDest::<MockKernel>::new(&mut u) }.unwrap();
        assert_eq!(to.remaining(), 13);
        assert_eq!(to.copy_at_offset(b"hello world"), Ok(9));
        assert_eq!((&a, &b[..6]), (b"llo", &b" world"[..]));
        assert_eq!((to.offset(), to.remaining()), (11, 4));
        // At the end: EOF.
        assert_eq!(to.copy_at_offset(b"hello world"), Ok(0));
        // SAFETY: a live uio.
        assert_eq!(unsafe { IoSource::<MockKernel>::new(&mut u) }.err(), Some(EINVAL), "wrong direction");
    }

    /// Slices longer than `c_int::MAX` (uiomove's `n`) take the chunked path and still move
    /// what the caller asks for. The 2 GiB buffers are zero pages (calloc) that are never
    /// touched beyond the first bytes.
    #[test]
    fn slices_longer_than_int_max_are_copied_in_chunks() {
        let mut big = vec![0u8; MAX_CHUNK + 2];
        big[..4].copy_from_slice(b"wxyz");
        let mut out = [0u8; 4];
        let mut iov = [iovec { iov_base: out.as_mut_ptr().cast(), iov_len: 4 }];
        let mut u = new_uio(&mut iov, 0, UIO_READ);
        // SAFETY: a live UIO_READ uio.
        let mut to = unsafe { IoDest::<MockKernel>::new(&mut u) }.unwrap();
        assert_eq!(to.copy_from_slice(&big), Ok(4));
        assert_eq!((&out, to.remaining(), to.offset()), (b"wxyz", 0, 4));

        let mut src = *b"abcd";
        let mut iov = [iovec { iov_base: src.as_mut_ptr().cast(), iov_len: 4 }];
        let mut u = new_uio(&mut iov, 0, UIO_WRITE);
        // SAFETY: a live UIO_WRITE uio.
        let mut from = unsafe { IoSource::<MockKernel>::new(&mut u) }.unwrap();
        assert_eq!(from.copy_to_slice(&mut big), Ok(4));
        assert_eq!((&big[..4], big[MAX_CHUNK + 1], from.remaining()), (&b"abcd"[..], 0, 0));
    }

    #[test]
    fn writes_fill_a_mutable_buffer_and_stop_at_resid_or_fault() {
        let (mut a, mut b) = (*b"abc", *b"defgh");
        let mut iov = [iovec { iov_base: a.as_mut_ptr().cast(), iov_len: 3 }, iovec { iov_base: b.as_mut_ptr().cast(), iov_len: 5 }];
        let mut u = new_uio(&mut iov, 0, UIO_WRITE);
        // SAFETY: a live UIO_WRITE uio.
        let mut from = unsafe { IoSource::<MockKernel>::new(&mut u) }.unwrap();
        let mut buf = [0u8; 6];
        assert_eq!(from.copy_to_slice(&mut buf), Ok(6));
        assert_eq!(&buf, b"abcdef");
        let mut rest = [0u8; 16];
        assert_eq!(from.copy_to_slice(&mut rest), Ok(2));
        assert_eq!(&rest[..2], b"gh");
        assert_eq!((from.offset(), from.remaining()), (8, 0));
        // A fault part way: EFAULT, the moved bytes stay counted in resid.
        let mut c = *b"xy";
        let mut iov = [iovec { iov_base: c.as_mut_ptr().cast(), iov_len: 2 }, iovec { iov_base: 0x10 as *mut c_void, iov_len: 4 }];
        let mut u = new_uio(&mut iov, 0, UIO_WRITE);
        // SAFETY: a live UIO_WRITE uio.
        let mut from = unsafe { IoSource::<MockKernel>::new(&mut u) }.unwrap();
        assert_eq!(from.copy_to_slice(&mut buf), Err(EFAULT));
        assert_eq!((&buf[..2], from.remaining()), (&b"xy"[..], 4));
    }
}

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

/// Bytes moved by one `uiomove` of at most `n` bytes: the drop in `uio_resid`.
///
/// # Safety
/// `uio` is live; `cp` is valid for `n` bytes in the uio's direction.
unsafe fn uiomove<K: KpiCdev>(cp: *mut c_void, n: usize, uio: *mut uio) -> Result<usize, Errno> {
    // SAFETY: `uio` is live (caller).
    let before = unsafe { (*uio).uio_resid };
    let n = n.min(MAX_CHUNK) as c_int;
    // SAFETY: as documented by the caller.
    let error = unsafe { K::uiomove(cp, n, uio) };
    // SAFETY: as above.
    let after = unsafe { (*uio).uio_resid };
    to_result(error)?;
    Ok(before.saturating_sub(after).max(0) as usize)
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
    pub fn offset(&self) -> i64 {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_offset }
    }

    /// Bytes the caller still wants (`uio_resid`).
    pub fn remaining(&self) -> usize {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_resid }.max(0) as usize
    }

    /// Copies up to `data.len()` bytes (no more than [`remaining`](Self::remaining)) to the
    /// caller, across its iovecs; returns the count. **May sleep**; `Err(EFAULT)` on a bad
    /// user buffer.
    pub fn copy_from_slice(&mut self, data: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        while done < data.len() && self.remaining() > 0 {
            // SAFETY: the uio is live and UIO_READ (invariant): uiomove only reads `cp`
            // (copyout/bcopy from it), so the shared slice is never written.
            let n = unsafe { uiomove::<K>(data[done..].as_ptr().cast_mut().cast(), data.len() - done, self.uio)? };
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(done)
    }

    /// A read of a file whose contents are `contents`: copies `contents[offset..]` (as much
    /// as the caller wants) and returns the count; 0 at or past the end (EOF). A negative
    /// offset is `EINVAL`.
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
    pub fn offset(&self) -> i64 {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_offset }
    }

    /// Bytes the caller still offers (`uio_resid`).
    pub fn remaining(&self) -> usize {
        // SAFETY: live (invariant).
        unsafe { (*self.uio).uio_resid }.max(0) as usize
    }

    /// Fills up to `buf.len()` bytes of `buf` from the caller (no more than
    /// [`remaining`](Self::remaining)), across its iovecs; returns the count. **May
    /// sleep**; `Err(EFAULT)` on a bad user buffer (the bytes before it are in `buf`).
    pub fn copy_to_slice(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() && self.remaining() > 0 {
            let len = buf.len() - done;
            // SAFETY: the uio is live and UIO_WRITE (invariant): uiomove writes up to `len`
            // bytes into `cp`, which is the tail of an exclusive `&mut [u8]`.
            let n = unsafe { uiomove::<K>(buf[done..].as_mut_ptr().cast(), len, self.uio)? };
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(done)
    }
}

//! `uiomove` (`sys/kern/subr_uio.c`) and `copyin`/`copyout`/`copyinstr`
//! (`sys/amd64/amd64/support.S`).
//!
//! * A user address is valid when the whole range lies in the user memory of the running
//!   thread's process ([`crate::user::UserVm`]); otherwise the copy returns `EFAULT` (a
//!   kernel thread has no user memory). A zero length copies nothing and succeeds.
//! * `copyinstr(uaddr, kaddr, len, &done)`: copies up to `len` bytes through the NUL;
//!   `ENAMETOOLONG` when there is no NUL in `len` bytes, `EFAULT` past the mapping; `*done`
//!   (if not NULL) counts the bytes copied, NUL included.
//! * `uiomove(cp, n, uio)` (`uiomove_faultflag`): KASSERTs `uio_rw` is `UIO_READ` or
//!   `UIO_WRITE` and that a `UIO_USERSPACE` uio belongs to `curthread`; for user space,
//!   `WITNESS_WARN(WARN_GIANTOK | WARN_SLEEPOK, NULL, "Calling uiomove()")` (it may fault
//!   and sleep); then up to `n` bytes move between `cp` and the iovecs in order, skipping
//!   empty ones: `UIO_READ` copies *out of* `cp`, `UIO_WRITE` *into* `cp`; each chunk
//!   advances `iov_base`, shrinks `iov_len`, `uio_resid`, and advances `uio_offset`.
//!   A faulting user chunk stops it with `EFAULT` (earlier chunks stay moved).

use super::panic::kernel_panic;
use super::subr_witness::{self as witness, sym};
use crate::ksyms::KsymDef;
use crate::user::errno::{EFAULT, ENAMETOOLONG};
use crate::user::user_range_ok;

/// `UIO_USERSPACE`, `UIO_SYSSPACE`, `UIO_NOCOPY` (sys/sys/_uio.h).
pub const UIO_USERSPACE: i32 = 0;
/// `UIO_SYSSPACE`.
pub const UIO_SYSSPACE: i32 = 1;
/// `UIO_NOCOPY`.
pub const UIO_NOCOPY: i32 = 2;
/// `UIO_READ`, `UIO_WRITE`.
pub const UIO_READ: i32 = 0;
/// `UIO_WRITE`.
pub const UIO_WRITE: i32 = 1;

/// `struct uio` offsets (48 bytes, FACTS.md section 5).
pub mod uio {
    /// `uio_iov`.
    pub const IOV: usize = 0;
    /// `uio_iovcnt` (int).
    pub const IOVCNT: usize = 8;
    /// `uio_offset` (off_t).
    pub const OFFSET: usize = 16;
    /// `uio_resid` (ssize_t).
    pub const RESID: usize = 24;
    /// `uio_segflg` (enum, 4 bytes).
    pub const SEGFLG: usize = 32;
    /// `uio_rw` (enum, 4 bytes).
    pub const RW: usize = 36;
    /// `uio_td`.
    pub const TD: usize = 40;
    /// `sizeof(struct uio)`.
    pub const SIZE: usize = 48;
}

/// `copyin(uaddr, kaddr, len)`.
pub fn copyin(uaddr: usize, kaddr: usize, len: usize) -> i32 {
    if len == 0 {
        return 0;
    }
    if !user_range_ok(uaddr, len) {
        return EFAULT;
    }
    // SAFETY: the user range is mapped (checked); kaddr is the module's kernel buffer (a bad
    // one faults like a kernel page fault).
    unsafe { std::ptr::copy(uaddr as *const u8, kaddr as *mut u8, len) };
    0
}

/// `copyout(kaddr, uaddr, len)`.
pub fn copyout(kaddr: usize, uaddr: usize, len: usize) -> i32 {
    if len == 0 {
        return 0;
    }
    if !user_range_ok(uaddr, len) {
        return EFAULT;
    }
    // SAFETY: as in copyin, the other way.
    unsafe { std::ptr::copy(kaddr as *const u8, uaddr as *mut u8, len) };
    0
}

extern "C" fn k_copyin(uaddr: usize, kaddr: usize, len: usize) -> i32 {
    super::kern_switch::preempt();
    copyin(uaddr, kaddr, len)
}

extern "C" fn k_copyout(kaddr: usize, uaddr: usize, len: usize) -> i32 {
    super::kern_switch::preempt();
    copyout(kaddr, uaddr, len)
}

extern "C" fn k_copyinstr(uaddr: usize, kaddr: usize, len: usize, done: usize) -> i32 {
    super::kern_switch::preempt();
    let mut n = 0usize;
    let mut err = ENAMETOOLONG;
    while n < len {
        if !user_range_ok(uaddr + n, 1) {
            err = EFAULT;
            break;
        }
        // SAFETY: checked user byte; kaddr + n is inside the module's len-byte buffer.
        let b = unsafe { ((uaddr + n) as *const u8).read() };
        // SAFETY: as above.
        unsafe { ((kaddr + n) as *mut u8).write(b) };
        n += 1;
        if b == 0 {
            err = 0;
            break;
        }
    }
    if done != 0 {
        // SAFETY: the module's size_t * out-parameter.
        unsafe { (done as *mut usize).write(n) };
    }
    err
}

fn rd<T: Copy>(a: usize) -> T {
    // SAFETY: fields of the uio/iovec the module passed (kernel memory).
    unsafe { (a as *const T).read_unaligned() }
}
fn wr<T: Copy>(a: usize, v: T) {
    // SAFETY: as in rd.
    unsafe { (a as *mut T).write_unaligned(v) }
}

/// `uiomove(cp, n, uio)`.
pub fn uiomove(cp: usize, n: i32, u: usize, caller: usize) -> i32 {
    let rw: i32 = rd(u + uio::RW);
    let seg: i32 = rd(u + uio::SEGFLG);
    if rw != UIO_READ && rw != UIO_WRITE {
        kernel_panic(format!("uiomove: mode\n  offending call at {}\n", sym(caller)), caller);
    }
    if seg == UIO_USERSPACE {
        let td: usize = rd(u + uio::TD);
        if td != super::kern_switch::sched().curthread() {
            kernel_panic(format!("uiomove proc\n  offending call at {}\n", sym(caller)), caller);
        }
        witness::warn_sleep(0, "Calling uiomove()", caller);
    }
    let mut n = n as i64;
    let mut cp = cp;
    while n > 0 && rd::<i64>(u + uio::RESID) != 0 {
        let iovcnt: i32 = rd(u + uio::IOVCNT);
        if iovcnt <= 0 {
            kernel_panic(format!("uiomove: uio_iovcnt\n  offending call at {}\n", sym(caller)), caller);
        }
        let iov: usize = rd(u + uio::IOV);
        let base: usize = rd(iov);
        let len: usize = rd(iov + 8);
        if len == 0 {
            wr(u + uio::IOV, iov + 16);
            wr(u + uio::IOVCNT, iovcnt - 1);
            continue;
        }
        let cnt = len.min(n as usize);
        match seg {
            UIO_USERSPACE => {
                super::kern_switch::preempt();
                let e = if rw == UIO_READ { copyout(cp, base, cnt) } else { copyin(base, cp, cnt) };
                if e != 0 {
                    return e;
                }
            }
            UIO_SYSSPACE => {
                // SAFETY: kernel buffers given by the module (bcopy).
                unsafe {
                    if rw == UIO_READ {
                        std::ptr::copy(cp as *const u8, base as *mut u8, cnt)
                    } else {
                        std::ptr::copy(base as *const u8, cp as *mut u8, cnt)
                    }
                }
            }
            _ => {}
        }
        wr(iov, base + cnt);
        wr(iov + 8, len - cnt);
        wr(u + uio::RESID, rd::<i64>(u + uio::RESID) - cnt as i64);
        wr(u + uio::OFFSET, rd::<i64>(u + uio::OFFSET) + cnt as i64);
        cp += cnt;
        n -= cnt as i64;
    }
    0
}

extern "C" fn k_uiomove(cp: usize, n: i32, u: usize) -> i32 {
    let caller = witness::caller();
    uiomove(cp, n, u, caller)
}

/// `uiomove_frombuf(buf, buflen, uio)`: `EINVAL` for a negative offset or resid; nothing
/// (0) at or past the end of the buffer; else `uiomove(buf + offset, buflen - offset, uio)`.
extern "C" fn k_uiomove_frombuf(buf: usize, buflen: i32, u: usize) -> i32 {
    let caller = witness::caller();
    let off: i64 = rd(u + uio::OFFSET);
    let resid: i64 = rd(u + uio::RESID);
    if off < 0 || resid < 0 {
        return crate::user::errno::EINVAL;
    }
    if buflen <= 0 || off >= buflen as i64 {
        return 0;
    }
    uiomove(buf + off as usize, buflen - off as i32, u, caller)
}

witness::caller_shim!(sim_uiomove, k_uiomove);
witness::caller_shim!(sim_uiomove_frombuf, k_uiomove_frombuf);

/// Register uiomove, copyin, copyout, copyinstr.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("uiomove", sim_uiomove as *const () as usize));
    v.push(KsymDef::function("uiomove_frombuf", sim_uiomove_frombuf as *const () as usize));
    v.push(KsymDef::function("copyin", k_copyin as *const () as usize));
    v.push(KsymDef::function("copyout", k_copyout as *const () as usize));
    v.push(KsymDef::function("copyinstr", k_copyinstr as *const () as usize));
}

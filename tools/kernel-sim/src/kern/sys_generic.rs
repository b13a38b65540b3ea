//! The system calls of simulated user processes on device files: `read`, `write`, `pread`,
//! `pwrite`, `readv`, `writev`, `ioctl` (`sys/kern/sys_generic.c`), `open`, `close`, `lseek`
//! (`sys/kern/vfs_syscalls.c`, `sys/kern/kern_descrip.c`).
//!
//! They run on the simulated thread of the process (see [`crate::user`]).
//!
//! * read/write (`dofileread`/`dofilewrite`): `EBADF` for a bad descriptor or one not open
//!   for reading/writing; more than `UIO_MAXIOV` (1024) iovecs or a total length above
//!   `IOSIZE_MAX` is `EINVAL` (`copyinuio`); the uio is `UIO_USERSPACE` with `uio_td =
//!   curthread` and `uio_offset` the file offset (or the `pread`/`pwrite` offset, which
//!   leaves the file offset alone); the file offset becomes `uio_offset` afterwards
//!   (devfs `foffset_unlock_uio`); a partial transfer interrupted by `ERESTART`, `EINTR` or
//!   `EWOULDBLOCK` returns its count.
//! * ioctl (`sys_ioctl` + `kern_ioctl`): the size is `IOCPARM_LEN(com)`; `ENOTTY` when it
//!   is above `IOCPARM_MAX`, when no direction bit is set, when `IOC_IN`/`IOC_OUT` has size
//!   0, or when `IOC_VOID` has a size other than `sizeof(int)`. `IOC_VOID` with an int size
//!   passes a pointer to the int value of the argument; size 0 passes a pointer to the
//!   argument itself; otherwise a kernel buffer of the size (malloc'ed `M_IOCTLOPS` above
//!   128 bytes) that `IOC_IN` fills with `copyin` (its `EFAULT` fails the call before the
//!   driver is called) and `IOC_OUT` zeroes, copied out with `copyout` after a successful
//!   call. `FIOCLEX`/`FIONCLEX` are handled by the descriptor table.

use std::rc::Rc;

use super::devfs_vnops::{self, FREAD, FWRITE, File};
use super::kern_switch::sched;
use super::subr_uio::{UIO_READ, UIO_USERSPACE, UIO_WRITE, copyin, copyout, uio};
use super::with;
use crate::user::errno::*;

/// `UIO_MAXIOV` (sys/sys/uio.h).
pub const UIO_MAXIOV: usize = 1024;
/// `IOCPARM_SHIFT`, `IOCPARM_MASK`, `IOCPARM_MAX` (sys/sys/ioccom.h).
pub const IOCPARM_SHIFT: u32 = 13;
/// `IOCPARM_MASK`.
pub const IOCPARM_MASK: u32 = (1 << IOCPARM_SHIFT) - 1;
/// `IOCPARM_MAX` (8 KiB; the probe of the 14.2/15.0 headers agrees).
pub const IOCPARM_MAX: u32 = 1 << IOCPARM_SHIFT;
/// `IOC_VOID`.
pub const IOC_VOID: u32 = 0x2000_0000;
/// `IOC_OUT`.
pub const IOC_OUT: u32 = 0x4000_0000;
/// `IOC_IN`.
pub const IOC_IN: u32 = 0x8000_0000;
/// `FIOCLEX` = `_IO('f', 1)`, `FIONCLEX` = `_IO('f', 2)` (sys/sys/filio.h).
pub const FIOCLEX: u32 = 0x2000_6601;
/// `FIONCLEX`.
pub const FIONCLEX: u32 = 0x2000_6602;
/// `SYS_IOCTL_SMALL_SIZE`.
pub const SYS_IOCTL_SMALL_SIZE: u32 = 128;

/// `IOCPARM_LEN(com)`.
pub fn iocparm_len(com: u32) -> u32 {
    (com >> 16) & IOCPARM_MASK
}

fn pid() -> Result<i32, i32> {
    crate::user::curproc_pid().ok_or(EBADF)
}

/// The file of descriptor `fd` of the running process.
pub fn getfile(fd: i32) -> Result<Rc<File>, i32> {
    let pid = pid()?;
    with(|k| {
        let p = k.user.procs.get(&pid)?;
        p.fds.get(usize::try_from(fd).ok()?)?.clone()
    })
    .ok_or(EBADF)
}

/// `open(path, flags)`: the new descriptor.
pub fn sys_open(path: &str, flags: i32) -> Result<i32, i32> {
    let pid = pid()?;
    let f = devfs_vnops::open(path, flags)?;
    Ok(with(|k| {
        let p = k.user.procs.get_mut(&pid).expect("process");
        match p.fds.iter().position(|x| x.is_none()) {
            Some(i) => {
                p.fds[i] = Some(f);
                i as i32
            }
            None => {
                p.fds.push(Some(f));
                (p.fds.len() - 1) as i32
            }
        }
    }))
}

/// `close(fd)`.
pub fn sys_close(fd: i32) -> Result<(), i32> {
    let pid = pid()?;
    let f = with(|k| {
        let p = k.user.procs.get_mut(&pid)?;
        p.fds.get_mut(usize::try_from(fd).ok()?)?.take()
    })
    .ok_or(EBADF)?;
    match devfs_vnops::close(&f) {
        0 => Ok(()),
        e => Err(e),
    }
}

/// `lseek(fd, offset, whence)` (SEEK_SET 0, SEEK_CUR 1; devfs nodes are seekable).
pub fn sys_lseek(fd: i32, off: i64, whence: i32) -> Result<i64, i32> {
    let f = getfile(fd)?;
    let new = match whence {
        0 => off,
        1 => f.offset.get().checked_add(off).ok_or(EINVAL)?,
        _ => return Err(EINVAL),
    };
    f.offset.set(new);
    Ok(new)
}

/// `readv`/`writev`/`preadv`/`pwritev` with user iovecs `(base, len)`.
pub fn sys_rw(fd: i32, iovs: &[(usize, usize)], offset: Option<i64>, write: bool) -> Result<usize, i32> {
    let f = getfile(fd)?;
    let need = if write { FWRITE } else { FREAD };
    if f.flag & need == 0 {
        return Err(EBADF);
    }
    if iovs.len() > UIO_MAXIOV {
        return Err(EINVAL);
    }
    let mut total: u64 = 0;
    for &(_, l) in iovs {
        total = total.checked_add(l as u64).ok_or(EINVAL)?;
        if total > i64::MAX as u64 {
            return Err(EINVAL);
        }
    }
    let mut iov: Vec<[u64; 2]> = iovs.iter().map(|&(b, l)| [b as u64, l as u64]).collect();
    let mut u = [0u64; uio::SIZE / 8];
    let off = offset.unwrap_or(f.offset.get());
    u[uio::IOV / 8] = iov.as_mut_ptr() as u64;
    u[uio::IOVCNT / 8] = iov.len() as u64;
    u[uio::OFFSET / 8] = off as u64;
    u[uio::RESID / 8] = total;
    u[uio::SEGFLG / 8] = (UIO_USERSPACE as u32 as u64) | ((if write { UIO_WRITE } else { UIO_READ } as u32 as u64) << 32);
    u[uio::TD / 8] = sched().curthread() as u64;
    let up = u.as_mut_ptr() as usize;
    let mut e = devfs_vnops::rw(&f, up, write);
    // SAFETY: `u` is the uio built above (the driver updated it in place).
    let (resid, new_off) = unsafe { (((up + uio::RESID) as *const i64).read(), ((up + uio::OFFSET) as *const i64).read()) };
    let done = total as i64 - resid;
    if done != 0 && (e == ERESTART || e == EINTR || e == EAGAIN) {
        e = 0;
    }
    if offset.is_none() && e != ENXIO {
        f.offset.set(new_off);
    }
    drop(iov);
    if e != 0 { Err(e) } else { Ok(done.max(0) as usize) }
}

/// `ioctl(fd, com, data)`.
pub fn sys_ioctl(fd: i32, com: u64, data: usize) -> Result<(), i32> {
    let com = (com & 0xffff_ffff) as u32;
    let mut size = iocparm_len(com);
    if size > IOCPARM_MAX
        || com & (IOC_VOID | IOC_IN | IOC_OUT) == 0
        || (com & (IOC_IN | IOC_OUT) != 0 && size == 0)
        || (com & IOC_VOID != 0 && size > 0 && size != 4)
    {
        return Err(ENOTTY);
    }
    let mut buf = vec![0u64; (size as usize).div_ceil(8).max(1)];
    let mut arg_holder = [data as u64];
    let kdata = if size > 0 {
        if com & IOC_VOID != 0 {
            buf[0] = (data as i32) as u32 as u64;
            size = 0;
            buf.as_mut_ptr() as usize
        } else {
            buf.as_mut_ptr() as usize
        }
    } else {
        arg_holder.as_mut_ptr() as usize
    };
    if com & IOC_IN != 0 {
        let e = copyin(data, kdata, size as usize);
        if e != 0 {
            return Err(e);
        }
    }
    // kern_ioctl
    let f = getfile(fd)?;
    if f.flag & (FREAD | FWRITE) == 0 {
        return Err(EBADF);
    }
    if com == FIOCLEX || com == FIONCLEX {
        return Ok(());
    }
    let e = devfs_vnops::ioctl(&f, com as u64, kdata);
    if e != 0 {
        return Err(e);
    }
    if com & IOC_OUT != 0 {
        let e = copyout(kdata, data, size as usize);
        if e != 0 {
            return Err(e);
        }
    }
    drop(buf);
    Ok(())
}

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
//! * poll (`sys_poll`, `kern_poll`, `kern_poll_kfds`, `pollscan`, `pollrescan`, `pollout`;
//!   freebsd/freebsd-src@005a071d): `EINVAL` for a negative timeout other than `INFTIM` and
//!   for more than `FD_SETSIZE` descriptors (`kern_poll_maxfds`; the simulated
//!   `maxfilesperproc` is taken as no larger); the array is copied in (`EFAULT`); each
//!   descriptor is asked with `fo_poll` (devfs: `d_poll`, see `devfs_vnops.rs`) after
//!   `selfdalloc` preallocated two `selfd`s; a negative `fd` answers 0, a bad one
//!   `POLLNVAL`; `POLLHUP` clears `POLLOUT`. If nothing is ready the thread sleeps
//!   (`seltdwait`, wmesg "select", simulated time for the timeout, which returns 0) until a
//!   `selwakeup` of a selinfo it was recorded on; then only the descriptors whose selinfo
//!   fired are asked again (`pollrescan`, where `selrecord` records nothing); the loop goes
//!   on while nothing is ready. `seltdclear` unlinks the thread from every selinfo still
//!   holding it; the `revents` are copied out and the count of non-zero ones returned.
//! * `selrecord(td, sip)`, `selwakeup(sip)`, `selwakeuppri(sip, pri)`, `seldrain(sip)`
//!   (`doselwakeup`): as in sys_generic.c, on the module's `struct selinfo`: the first
//!   `selrecord` sets `si_mtx` (a pool mutex) and initialises `si_tdlist`, whose
//!   `tqh_first` is non-NULL while threads are queued (`SEL_WAITING`); a third `selrecord`
//!   for one descriptor panics ("selrecord: No free selfd on selq"), as does one outside
//!   poll(2). They lock `si_mtx`, a `MTX_DEF` mutex: inside a critical section or with a
//!   spin mutex held WITNESS panics ("acquiring blockable sleep lock with spinlock or
//!   critical section held"). Checks of the simulator: freeing memory (free(9), or unloading the module for
//!   a static selinfo) that holds a selinfo with threads still queued is reported (those
//!   threads would later write into the freed memory: `seldrain` it first).

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::devfs_vnops::{self, FREAD, FWRITE, File};
use super::kern_switch::sched;
use super::panic::kernel_panic;
use super::subr_witness::sym;
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

// ---------------------------------------------------------------------------------------
// poll(2) and the select machinery (sys/kern/sys_generic.c).

/// `POLLIN` .. `POLLNVAL`, `POLLSTANDARD`, `INFTIM` (sys/sys/poll.h).
pub mod pollbits {
    /// `POLLIN`.
    pub const POLLIN: i32 = 0x0001;
    /// `POLLPRI`.
    pub const POLLPRI: i32 = 0x0002;
    /// `POLLOUT`.
    pub const POLLOUT: i32 = 0x0004;
    /// `POLLRDNORM`.
    pub const POLLRDNORM: i32 = 0x0040;
    /// `POLLWRNORM`.
    pub const POLLWRNORM: i32 = POLLOUT;
    /// `POLLRDBAND`.
    pub const POLLRDBAND: i32 = 0x0080;
    /// `POLLWRBAND`.
    pub const POLLWRBAND: i32 = 0x0100;
    /// `POLLERR`.
    pub const POLLERR: i32 = 0x0008;
    /// `POLLHUP`.
    pub const POLLHUP: i32 = 0x0010;
    /// `POLLNVAL`.
    pub const POLLNVAL: i32 = 0x0020;
    /// `POLLSTANDARD`.
    pub const POLLSTANDARD: i32 = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRBAND | POLLERR | POLLHUP | POLLNVAL;
    /// `INFTIM`.
    pub const INFTIM: i32 = -1;
}
use pollbits::*;

/// `FD_SETSIZE` (sys/sys/select.h).
pub const FD_SETSIZE: u32 = 1024;
/// `sizeof(struct pollfd)`: `int fd; short events; short revents;`.
pub const POLLFD_SIZE: usize = 8;
/// `struct selinfo` offsets (sys/sys/selinfo.h): `si_tdlist` (`tqh_first`, `tqh_last`),
/// `si_mtx`.
const SI_TDLIST: usize = 0;
const SI_MTX: usize = 64;

/// `poll_no_poll(events)` (sys/kern/sys_generic.c), what kern_conf.c `no_poll` returns.
pub fn poll_no_poll(events: i32) -> i32 {
    if events & !POLLSTANDARD != 0 {
        return POLLNVAL;
    }
    events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
}

/// `dead_poll` (sys/fs/deadfs/dead_vnops.c): a destroyed device.
pub fn dead_poll(events: i32) -> i32 {
    if events & !POLLSTANDARD != 0 {
        return POLLNVAL;
    }
    POLLHUP | ((POLLIN | POLLRDNORM) & events)
}

/// `SELTD_PENDING`, `SELTD_RESCAN`.
const SELTD_PENDING: u32 = 0x0001;
const SELTD_RESCAN: u32 = 0x0002;

/// A `struct selfd`: one record of a thread on a selinfo.
#[derive(Debug)]
struct Selfd {
    id: u64,
    /// `sf_si`: cleared by `doselwakeup`.
    si: Option<usize>,
    /// `sf_cookie`: the index of the pollfd.
    cookie: usize,
}

/// A `struct seltd`: the select state of one thread.
#[derive(Debug)]
struct Seltd {
    flags: u32,
    selq: Vec<Selfd>,
    /// Preallocated selfds left (`st_free1`, `st_free2`).
    free: u8,
    cookie: usize,
    /// The wait channel (`st_wait`).
    chan: Box<u8>,
}

/// The select state of the simulated kernel (kept in [`super::KState`]).
#[derive(Debug, Default)]
pub struct SelState {
    seltd: HashMap<u32, Seltd>,
    /// `si_tdlist` of each selinfo: `(tid, selfd id)` in order.
    tdlist: BTreeMap<usize, Vec<(u32, u64)>>,
    next_id: u64,
}

impl SelState {
    /// Selinfos in `[lo, hi)` that threads are still queued on: `(selinfo, threads)`.
    pub fn queued_in(&self, lo: usize, hi: usize) -> Vec<(usize, usize)> {
        self.tdlist.range(lo..hi).map(|(&s, l)| (s, l.len())).collect()
    }
}

/// A non-NULL word for `si_mtx` (the select mutex pool's) and `tqh_first`.
static SEL_POOL_MTX: [u64; 4] = [0; 4];
static SELFD_MARK: [u64; 4] = [0; 4];

fn tid() -> u32 {
    sched().current().tid
}

/// Mirror the list state in the module's selinfo: `tqh_first` non-NULL while queued.
fn sync_selinfo(sip: usize, queued: bool) {
    // SAFETY: `sip` is the module's struct selinfo (72 bytes), live (free() refuses to free
    // it while threads are queued on it).
    unsafe {
        let first = (sip + SI_TDLIST) as *mut usize;
        let last = (sip + SI_TDLIST + 8) as *mut usize;
        if queued {
            first.write_unaligned(SELFD_MARK.as_ptr() as usize);
        } else {
            // TAILQ_INIT
            first.write_unaligned(0);
            last.write_unaligned(sip + SI_TDLIST);
        }
    }
}

/// `seltdinit(td)`.
fn seltdinit() {
    let t = tid();
    with(|k| {
        k.sel.seltd.entry(t).or_insert_with(|| Seltd { flags: 0, selq: Vec::new(), free: 0, cookie: 0, chan: Box::new(0) });
    });
}

/// `selfdalloc(td, cookie)`: two free selfds for this descriptor.
fn selfdalloc(cookie: usize) {
    let t = tid();
    with(|k| {
        if let Some(st) = k.sel.seltd.get_mut(&t) {
            st.free = 2;
            st.cookie = cookie;
        }
    });
}

/// `selfdfree(stp, sfp)` for every selfd of the thread and `st_flags = 0` (`seltdclear`,
/// and the first half of `pollrescan`); returns the cookies of the selfds whose selinfo
/// fired (`sf_si` cleared by `doselwakeup`).
fn seltdclear() -> Vec<usize> {
    let t = tid();
    with(|k| {
        let Some(st) = k.sel.seltd.get_mut(&t) else { return Vec::new() };
        let q = std::mem::take(&mut st.selq);
        st.flags = 0;
        let mut fired = Vec::new();
        for sfd in q {
            match sfd.si {
                None => fired.push(sfd.cookie),
                Some(sip) => {
                    if let Some(l) = k.sel.tdlist.get_mut(&sip) {
                        l.retain(|&(_, id)| id != sfd.id);
                        if l.is_empty() {
                            k.sel.tdlist.remove(&sip);
                            sync_selinfo(sip, false);
                        }
                    }
                }
            }
        }
        fired
    })
}

/// `seltdwait(td, sbt)`: 0, or `EWOULDBLOCK` when the deadline passed (`None`: forever,
/// `Some(0)`: do not sleep).
fn seltdwait(deadline: Option<i64>, immediate: bool) -> i32 {
    let t = tid();
    let chan = with(|k| {
        let st = k.sel.seltd.get_mut(&t).expect("seltdinit");
        st.flags |= SELTD_RESCAN;
        if st.flags & SELTD_PENDING != 0 {
            return None;
        }
        Some(&*st.chan as *const u8 as usize)
    });
    let Some(chan) = chan else { return 0 };
    if immediate {
        return EWOULDBLOCK;
    }
    // cv_timedwait_sig_sbt / cv_wait_sig on st_wait: no signals in the simulator.
    loop {
        let e = super::kern_synch::sleep(chan, 0, super::kern_synch::PCATCH, "select".into(), deadline, 0, "poll");
        let pending = with(|k| k.sel.seltd.get(&t).map(|st| st.flags & SELTD_PENDING != 0).unwrap_or(true));
        if e != 0 || pending {
            return e;
        }
    }
}

const EWOULDBLOCK: i32 = super::kern_synch::EWOULDBLOCK;

/// One pollfd in the kernel's copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollFd {
    /// `fd`.
    pub fd: i32,
    /// `events`.
    pub events: i16,
    /// `revents`.
    pub revents: i16,
}

fn fo_poll(fd: i32, events: i16) -> i16 {
    match getfile(fd) {
        Ok(f) => devfs_vnops::poll(&f, events as i32) as i16,
        Err(_) => POLLNVAL as i16,
    }
}

/// `pollscan(td, fds, nfd)`: the number of ready descriptors.
fn pollscan(fds: &mut [PollFd]) -> usize {
    let mut n = 0;
    for (i, p) in fds.iter_mut().enumerate() {
        if p.fd < 0 {
            p.revents = 0;
            continue;
        }
        let f = match getfile(p.fd) {
            Ok(f) => f,
            Err(_) => {
                p.revents = POLLNVAL as i16;
                n += 1;
                continue;
            }
        };
        selfdalloc(i);
        p.revents = devfs_vnops::poll(&f, p.events as i32) as i16;
        // POSIX requires POLLOUT to be never set simultaneously with POLLHUP.
        if p.revents as i32 & POLLHUP != 0 {
            p.revents &= !(POLLOUT as i16);
        }
        if p.revents != 0 {
            n += 1;
        }
    }
    n
}

/// `pollrescan(td)`: ask again the descriptors whose selinfo fired.
fn pollrescan(fds: &mut [PollFd]) -> usize {
    let mut n = 0;
    for i in seltdclear() {
        let p = &mut fds[i];
        p.revents = fo_poll(p.fd, p.events);
        if p.revents != 0 {
            n += 1;
        }
    }
    n
}

/// `kern_poll_kfds(td, kfds, nfds, tsp, NULL)` on the kernel's copy; `timeout_ms` as
/// poll(2)'s (`INFTIM`: forever). 0 or an errno.
pub fn kern_poll_kfds(fds: &mut [PollFd], timeout_ms: i32) -> i32 {
    // sys_poll: a negative timeout other than INFTIM is EINVAL.
    if timeout_ms != INFTIM && timeout_ms < 0 {
        return EINVAL;
    }
    let (deadline, immediate) = if timeout_ms == INFTIM {
        (None, false)
    } else if timeout_ms == 0 {
        (None, true)
    } else {
        // tstosbt(ts) (+ tc_tick_sbt when TIMESEL rounds up; the simulated clock is exact).
        let sbt = ((timeout_ms as i64) << 32) / 1000;
        (Some(sched().now + sbt), false)
    };
    seltdinit();
    let mut error;
    loop {
        let n = pollscan(fds);
        if n != 0 {
            error = 0;
            break;
        }
        error = seltdwait(deadline, immediate);
        if error != 0 {
            break;
        }
        // pollrescan clears st_flags (SELTD_PENDING, SELTD_RESCAN) when done.
        if pollrescan(fds) != 0 {
            break;
        }
    }
    seltdclear();
    if error == EWOULDBLOCK {
        error = 0;
    }
    error
}

/// `poll(ufds, nfds, timeout)` with the array in the process's memory: the number of
/// descriptors with a non-zero `revents`, or an errno.
pub fn sys_poll(ufds: usize, nfds: u32, timeout_ms: i32) -> Result<usize, i32> {
    if timeout_ms != INFTIM && timeout_ms < 0 {
        return Err(EINVAL);
    }
    // kern_poll_maxfds: nfds > maxfilesperproc && nfds > FD_SETSIZE.
    if nfds > FD_SETSIZE {
        return Err(EINVAL);
    }
    let mut raw = vec![0u8; nfds as usize * POLLFD_SIZE];
    let e = copyin(ufds, raw.as_mut_ptr() as usize, raw.len());
    if e != 0 {
        return Err(e);
    }
    let mut fds: Vec<PollFd> = raw
        .chunks_exact(POLLFD_SIZE)
        .map(|c| PollFd {
            fd: i32::from_ne_bytes(c[0..4].try_into().unwrap()),
            events: i16::from_ne_bytes(c[4..6].try_into().unwrap()),
            revents: i16::from_ne_bytes(c[6..8].try_into().unwrap()),
        })
        .collect();
    let e = kern_poll_kfds(&mut fds, timeout_ms);
    if e != 0 {
        return Err(e);
    }
    // pollout: copy out each revents, count the non-zero ones.
    let mut n = 0;
    for (i, p) in fds.iter().enumerate() {
        let v = p.revents.to_ne_bytes();
        let e = copyout(v.as_ptr() as usize, ufds + i * POLLFD_SIZE + 6, 2);
        if e != 0 {
            return Err(e);
        }
        if p.revents != 0 {
            n += 1;
        }
    }
    Ok(n)
}

/// `mtx_lock(sip->si_mtx)` (a `MTX_DEF` mutex of the "select mtxpool" pool,
/// `selectinit`): witness_checkorder refuses it inside a critical section or with a spin
/// mutex held.
fn check_pool_mutex(what: &str, caller: usize) {
    if sched().current().crit > 0 {
        kernel_panic(
            format!(
                "acquiring blockable sleep lock with spinlock or critical section held (sleep mutex) select mtxpool @ /usr/src/sys/kern/sys_generic.c ({what})\n  offending call at {}\n",
                sym(caller)
            ),
            caller,
        );
    }
}

fn k_selrecord_impl(td: usize, sip: usize, caller: usize) {
    check_pool_mutex("selrecord", caller);
    let t = sched().by_td(td).map(|i| sched().threads[i].tid);
    let Some(t) = t else {
        kernel_panic(format!("selrecord: {td:#x} is not a thread\n  offending call at {}\n", sym(caller)), caller);
    };
    enum Out {
        Ok,
        Rescan,
        NoSelq,
        NoFree,
    }
    let out = with(|k| {
        let Some(st) = k.sel.seltd.get_mut(&t) else { return Out::NoSelq };
        // Don't record when doing a rescan.
        if st.flags & SELTD_RESCAN != 0 {
            return Out::Rescan;
        }
        if st.free == 0 {
            return Out::NoFree;
        }
        st.free -= 1;
        k.sel.next_id += 1;
        let id = k.sel.next_id;
        let cookie = st.cookie;
        st.selq.push(Selfd { id, si: Some(sip), cookie });
        k.sel.tdlist.entry(sip).or_default().push((t, id));
        Out::Ok
    });
    match out {
        Out::Ok => {
            // SAFETY: the module's struct selinfo.
            unsafe {
                let m = (sip + SI_MTX) as *mut usize;
                if m.read_unaligned() == 0 {
                    m.write_unaligned(SEL_POOL_MTX.as_ptr() as usize);
                }
            }
            sync_selinfo(sip, true);
        }
        Out::Rescan => {}
        // stp = selector->td_sel is NULL outside select/poll: the kernel dereferences it.
        Out::NoSelq => kernel_panic(
            format!("selrecord: thread {t} is not in select(2)/poll(2) (td_sel is NULL: page fault in the kernel)\n  offending call at {}\n", sym(caller)),
            caller,
        ),
        Out::NoFree => kernel_panic(format!("selrecord: No free selfd on selq\n  offending call at {}\n", sym(caller)), caller),
    }
}

/// `doselwakeup(sip, pri)`: wake and unlink every thread queued on `sip`.
pub fn doselwakeup(sip: usize) {
    // If it's not initialized there can't be any waiters.
    // SAFETY: the module's struct selinfo.
    if unsafe { ((sip + SI_MTX) as *const usize).read_unaligned() } == 0 {
        return;
    }
    let chans = with(|k| {
        let Some(l) = k.sel.tdlist.remove(&sip) else { return Vec::new() };
        let mut chans = Vec::new();
        for (t, id) in l {
            if let Some(st) = k.sel.seltd.get_mut(&t) {
                st.flags |= SELTD_PENDING;
                if let Some(s) = st.selq.iter_mut().find(|s| s.id == id) {
                    s.si = None;
                }
                chans.push(&*st.chan as *const u8 as usize);
            }
        }
        chans
    });
    sync_selinfo(sip, false);
    for c in chans {
        sched().wake_chan(c, false, false);
    }
}

extern "C" fn k_selrecord(td: usize, sip: usize) {
    let caller = super::subr_witness::caller();
    k_selrecord_impl(td, sip, caller);
}
extern "C" fn k_selwakeup(sip: usize) {
    check_pool_mutex("selwakeup", super::subr_witness::caller());
    doselwakeup(sip);
    super::kern_switch::preempt();
}
extern "C" fn k_selwakeuppri(sip: usize, _pri: i32) {
    check_pool_mutex("selwakeuppri", super::subr_witness::caller());
    doselwakeup(sip);
    super::kern_switch::preempt();
}
extern "C" fn k_seldrain(sip: usize) {
    check_pool_mutex("seldrain", super::subr_witness::caller());
    doselwakeup(sip);
}

/// Selinfos in `[lo, hi)` that threads are still queued on: `(selinfo, threads)`.
pub fn queued_selinfo_in(lo: usize, hi: usize) -> Vec<(usize, usize)> {
    with(|k| k.sel.queued_in(lo, hi))
}

/// Forget the selinfos in `[lo, hi)` (after reporting them): their threads are unlinked as
/// if woken, so that they never touch the memory.
pub fn forget_selinfo_in(lo: usize, hi: usize) {
    let sips: Vec<usize> = with(|k| k.sel.tdlist.range(lo..hi).map(|(&s, _)| s).collect());
    for s in sips {
        let chans = with(|k| {
            let l = k.sel.tdlist.remove(&s).unwrap_or_default();
            l.into_iter()
                .filter_map(|(t, id)| {
                    let st = k.sel.seltd.get_mut(&t)?;
                    st.flags |= SELTD_PENDING;
                    if let Some(x) = st.selq.iter_mut().find(|x| x.id == id) {
                        x.si = None;
                    }
                    Some(&*st.chan as *const u8 as usize)
                })
                .collect::<Vec<_>>()
        });
        for c in chans {
            sched().wake_chan(c, false, false);
        }
    }
}

super::subr_witness::caller_shim!(sim_selrecord, k_selrecord);
super::subr_witness::caller_shim!(sim_selwakeup, k_selwakeup);
super::subr_witness::caller_shim!(sim_selwakeuppri, k_selwakeuppri);
super::subr_witness::caller_shim!(sim_seldrain, k_seldrain);

/// Register selrecord/selwakeup/selwakeuppri/seldrain.
pub fn symbols(v: &mut Vec<crate::ksyms::KsymDef>) {
    use crate::ksyms::KsymDef;
    v.push(KsymDef::function("selrecord", sim_selrecord as *const () as usize));
    v.push(KsymDef::function("selwakeup", sim_selwakeup as *const () as usize));
    v.push(KsymDef::function("selwakeuppri", sim_selwakeuppri as *const () as usize));
    v.push(KsymDef::function("seldrain", sim_seldrain as *const () as usize));
}

#[cfg(test)]
mod poll_tests {
    use super::*;

    #[test]
    fn no_poll_and_dead_poll_answer_like_the_kernel() {
        assert_eq!(poll_no_poll(POLLIN | POLLOUT | POLLPRI), POLLIN | POLLOUT);
        assert_eq!(poll_no_poll(0x2000), POLLNVAL);
        assert_eq!(dead_poll(POLLIN | POLLOUT), POLLHUP | POLLIN);
        assert_eq!(dead_poll(POLLRDNORM), POLLHUP | POLLRDNORM);
        assert_eq!(dead_poll(0x4000), POLLNVAL);
    }
}

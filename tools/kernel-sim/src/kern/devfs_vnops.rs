//! Open files of devices and the calls into a device's `d_*` methods
//! (`sys/fs/devfs/devfs_vnops.c`, `vaccess()` of `sys/kern/vfs_subr.c`, `dev_refthread()`
//! of `sys/kern/kern_conf.c`).
//!
//! * open (`devfs_access` -> `vaccess`): the node's mode, uid and gid against the caller's
//!   credential: owner bits when the effective uid owns it, else group bits when a group
//!   matches (`groupmember`), else the others' bits; what they do not grant needs
//!   `PRIV_VFS_READ`/`PRIV_VFS_WRITE`, which root has (also in a jail: `prison_priv_check`
//!   allows them); otherwise `EACCES`. Then `d_open(dev, FFLAGS(flags), S_IFCHR, td)`
//!   (`devfs_open`) on every open, with `td_fpop` set so that `devfs_set_cdevpriv` attaches
//!   to the new file. A failed `d_open` fails the open (the cdevpriv it set is destroyed).
//! * close (`devfs_close`): `d_close(dev, f_flag, S_IFCHR, td)` only for the last close of
//!   the device (`count_dev(dev) > 1` returns early) unless the cdevsw has `D_TRACKCLOSE`;
//!   then (`devfs_close_f`) the file's cdevpriv destructor runs.
//! * read/write/ioctl: `dev_refthread` (`ENXIO` once `destroy_dev` started), the method
//!   (a NULL method is `enodev`, `ENODEV`, as `prep_cdevsw` fills it; a NULL
//!   `d_open`/`d_close` succeeds), `dev_relthread`. `ENOIOCTL` from `d_ioctl` becomes
//!   `ENOTTY`; `FIODTYPE` is answered by devfs (`d_flags & D_TYPEMASK`).
//! * poll (`devfs_poll_f`): `d_poll(dev, events, td)` with `td_fpop` set; a NULL `d_poll`
//!   is kern_conf.c's `no_poll` (`poll_no_poll` of sys_generic.c: `POLLNVAL` for events
//!   outside `POLLSTANDARD`, else `events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)`).
//!   Once `destroy_dev` started, `devfs_fp_check` fails and devfs asks the vnode
//!   (`vnops.fo_poll` -> `VOP_POLL`, `devfs_specops.vop_poll = dead_poll`,
//!   sys/fs/deadfs/dead_vnops.c): `POLLNVAL` for events outside `POLLSTANDARD`, else
//!   `POLLHUP | (events & (POLLIN | POLLRDNORM))` (same text in the 13.0 tree
//!   sobomax/freebsd14_vendor@0f7ff342 and freebsd/freebsd-src).
//! * `devfs_set_cdevpriv(data, dtor)`: `ENOENT` outside a method called for a file,
//!   `EBUSY` when the file already has one; `devfs_get_cdevpriv(&data)`: `EBADF` outside,
//!   `ENOENT` when none; `devfs_clear_cdevpriv()` runs the destructor now.

use std::cell::Cell;
use std::rc::Rc;

use super::kern_conf::{self, D_TRACKCLOSE, D_TYPEMASK, cdevsw};
use super::kern_switch::{sched, try_sched};
use super::with;
use crate::ksyms::KsymDef;
use crate::user::errno::*;
use crate::user::{Ucred, curproc_pid};

/// `FREAD` / `FWRITE` (sys/sys/fcntl.h).
pub const FREAD: i32 = 0x0001;
/// `FWRITE`.
pub const FWRITE: i32 = 0x0002;
/// `O_ACCMODE`.
pub const O_ACCMODE: i32 = 0x0003;
/// `O_NONBLOCK`.
pub const O_NONBLOCK: i32 = 0x0004;
/// `S_IFCHR`, the `devtype` of `d_open`/`d_close`.
pub const S_IFCHR: i32 = 0o020000;
/// `FIODTYPE` = `_IOR('f', 122, int)` (sys/sys/filio.h).
pub const FIODTYPE: u32 = 0x4004_667a;
/// `VREAD`/`VWRITE` accmode bits (sys/sys/vnode.h).
const VREAD: u32 = 0o000400;
const VWRITE: u32 = 0o000200;

/// An open file of a device (`struct file` + the devfs vnode it refers to).
#[derive(Debug)]
pub struct File {
    /// The `struct cdev *`.
    pub dev: usize,
    /// `/dev/<name>`.
    pub path: String,
    /// `f_flag` (`FREAD`, `FWRITE`, `O_NONBLOCK`, ...).
    pub flag: i32,
    /// `f_offset`.
    pub offset: Cell<i64>,
    /// `f_cdevpriv`: `(data, destructor)`.
    pub cdevpriv: Cell<Option<(usize, usize)>>,
    /// Closed (no descriptor refers to it any more).
    pub closed: Cell<bool>,
}

fn tid() -> u32 {
    try_sched().map(|s| s.current().tid).unwrap_or(0)
}

/// `vaccess()` for a character device node: 0 or `EACCES`.
pub fn vaccess(cred: &Ucred, mode: u32, uid: u32, gid: u32, accmode: u32) -> i32 {
    let mut granted = 0;
    if cred.uid == uid {
        if mode & 0o400 != 0 {
            granted |= VREAD;
        }
        if mode & 0o200 != 0 {
            granted |= VWRITE;
        }
    } else if cred.groupmember(gid) {
        if mode & 0o040 != 0 {
            granted |= VREAD;
        }
        if mode & 0o020 != 0 {
            granted |= VWRITE;
        }
    } else {
        if mode & 0o004 != 0 {
            granted |= VREAD;
        }
        if mode & 0o002 != 0 {
            granted |= VWRITE;
        }
    }
    if accmode & granted == accmode {
        return 0;
    }
    // privcheck: PRIV_VFS_READ / PRIV_VFS_WRITE for what the mode did not grant.
    use super::kern_priv::{PRIV_VFS_READ, PRIV_VFS_WRITE, priv_check_ucred};
    if accmode & VREAD != 0 && granted & VREAD == 0 && priv_check_ucred(cred, PRIV_VFS_READ) == 0 {
        granted |= VREAD;
    }
    if accmode & VWRITE != 0 && granted & VWRITE == 0 && priv_check_ucred(cred, PRIV_VFS_WRITE) == 0 {
        granted |= VWRITE;
    }
    if accmode & granted == accmode { 0 } else { EACCES }
}

/// Enter a method of `dev` for `file` (`dev_refthread` + `td_fpop`); `Err(ENXIO)` once
/// `destroy_dev` started. Returns the cdevsw and its `d_flags`.
fn enter(dev: usize, file: Option<&Rc<File>>) -> Result<(usize, u32), i32> {
    let t = tid();
    let r = with(|k| {
        let d = k.devfs.by_addr(dev)?;
        if d.destroyed {
            return None;
        }
        d.threadcount += 1;
        d.calls += 1;
        d.active.push(t);
        kern_conf::sync_counts(d);
        Some((d.devsw, d.dflags))
    });
    let Some(r) = r else { return Err(ENXIO) };
    if let Some(f) = file {
        with(|k| k.user.fpop.insert(t, f.clone()));
    }
    Ok(r)
}

/// Leave a method (`dev_relthread`): wakes `destroy_dev` waiting for the last one.
fn leave(dev: usize) {
    let t = tid();
    let wake = with(|k| {
        k.user.fpop.remove(&t);
        let d = k.devfs.by_addr(dev)?;
        d.threadcount = d.threadcount.saturating_sub(1);
        if let Some(i) = d.active.iter().rposition(|&x| x == t) {
            d.active.remove(i);
        }
        kern_conf::sync_counts(d);
        Some(d.threadcount == 0 && d.destroyed)
    });
    if wake == Some(true) {
        sched().wake_chan(kern_conf::drain_chan(dev), false, false);
    }
    kern_conf::run_pending_destroy(dev);
}

fn method(devsw: usize, off: usize) -> usize {
    // SAFETY: the module's cdevsw (184 bytes), checked by make_dev_s.
    unsafe { ((devsw + off) as *const usize).read_unaligned() }
}

/// Destroy the cdevpriv of `f` (`devfs_fpdrop` / `devfs_destroy_cdevpriv`): its destructor
/// runs with the data.
pub fn fpdrop(f: &File) {
    if let Some((data, dtor)) = f.cdevpriv.take()
        && dtor != 0
    {
        // SAFETY: d_priv_dtor_t of the module: void (*)(void *).
        let dtor: extern "C" fn(usize) = unsafe { std::mem::transmute(dtor) };
        dtor(data);
    }
}

/// The cdevpriv of every file open on `dev` (destroy_dev).
pub fn destroy_cdevprivs(dev: usize) {
    let files: Vec<Rc<File>> = with(|k| {
        k.user.procs.values().flat_map(|p| p.fds.iter().flatten().filter(|f| f.dev == dev).cloned()).collect()
    });
    for f in files {
        fpdrop(&f);
    }
}

/// `open(path, flags)` of a device node for the running thread's process.
pub fn open(path: &str, flags: i32) -> Result<Rc<File>, i32> {
    let Some(name) = path.strip_prefix("/dev/") else { return Err(ENOENT) };
    let Some((dev, mode, uid, gid)) = with(|k| k.devfs.lookup(name).map(|d| (d.addr, d.mode, d.uid, d.gid))) else {
        return Err(ENOENT);
    };
    let cred = crate::user::curcred();
    let accmode = match flags & O_ACCMODE {
        0 => VREAD,
        1 => VWRITE,
        _ => VREAD | VWRITE,
    };
    let e = vaccess(&cred, mode, uid, gid, accmode);
    if e != 0 {
        return Err(e);
    }
    // FFLAGS(oflags): the access mode + 1 becomes FREAD/FWRITE.
    let fflags = (flags & !O_ACCMODE) | ((flags & O_ACCMODE) + 1);
    let f = Rc::new(File {
        dev,
        path: path.into(),
        flag: fflags & (FREAD | FWRITE | O_NONBLOCK),
        offset: Cell::new(0),
        cdevpriv: Cell::new(None),
        closed: Cell::new(false),
    });
    let (devsw, _) = enter(dev, Some(&f))?;
    let d_open = method(devsw, cdevsw::D_OPEN);
    let td = sched().curthread();
    let e = if d_open == 0 {
        0
    } else {
        // SAFETY: d_open_t: int (*)(struct cdev *, int, int, struct thread *).
        let d_open: extern "C" fn(usize, i32, i32, usize) -> i32 = unsafe { std::mem::transmute(d_open) };
        d_open(dev, fflags, S_IFCHR, td)
    };
    leave(dev);
    if e != 0 {
        fpdrop(&f);
        return Err(e);
    }
    with(|k| {
        if let Some(d) = k.devfs.by_addr(dev) {
            d.usecount += 1;
            kern_conf::sync_counts(d);
        }
    });
    Ok(f)
}

/// `close(2)` of the last descriptor of `f`.
pub fn close(f: &Rc<File>) -> i32 {
    if f.closed.replace(true) {
        return 0;
    }
    let last = with(|k| k.devfs.by_addr(f.dev).map(|d| d.usecount <= 1).unwrap_or(true));
    let mut e = 0;
    match enter(f.dev, Some(f)) {
        // Revoked by destroy_dev: deadfs close, nothing is called.
        Err(_) => {}
        Ok((devsw, dflags)) => {
            if last || dflags & D_TRACKCLOSE != 0 {
                let d_close = method(devsw, cdevsw::D_CLOSE);
                if d_close != 0 {
                    let td = sched().curthread();
                    // SAFETY: d_close_t: int (*)(struct cdev *, int, int, struct thread *).
                    let d_close: extern "C" fn(usize, i32, i32, usize) -> i32 = unsafe { std::mem::transmute(d_close) };
                    e = d_close(f.dev, f.flag, S_IFCHR, td);
                }
            }
            leave(f.dev);
        }
    }
    with(|k| {
        if let Some(d) = k.devfs.by_addr(f.dev) {
            d.usecount = d.usecount.saturating_sub(1);
            kern_conf::sync_counts(d);
        }
    });
    fpdrop(f);
    e
}

/// `d_read`/`d_write(dev, uio, ioflag)` for `f`. `devfs_read_f`/`devfs_write_f` refuse a
/// transfer above `DEVFS_IOSIZE_MAX` (`INT_MAX`: `debug.devfs_iosize_max_clamp` is 1 by
/// default, sys/kern/sys_generic.c) with `EINVAL`.
pub fn rw(f: &Rc<File>, uio: usize, write: bool) -> i32 {
    // SAFETY: the uio built by sys_generic.rs.
    let resid = unsafe { ((uio + super::subr_uio::uio::RESID) as *const i64).read() };
    if resid > i32::MAX as i64 {
        return EINVAL;
    }
    let (devsw, _) = match enter(f.dev, Some(f)) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let m = method(devsw, if write { cdevsw::D_WRITE } else { cdevsw::D_READ });
    let e = if m == 0 {
        ENODEV
    } else {
        // devfs_read_f/devfs_write_f: ioflag = fp->f_flag & (O_NONBLOCK | O_DIRECT).
        let ioflag = f.flag & O_NONBLOCK;
        // SAFETY: d_read_t/d_write_t: int (*)(struct cdev *, struct uio *, int).
        let m: extern "C" fn(usize, usize, i32) -> i32 = unsafe { std::mem::transmute(m) };
        m(f.dev, uio, ioflag)
    };
    leave(f.dev);
    e
}

/// `d_ioctl(dev, cmd, data, fflag, td)` for `f` (`devfs_ioctl_f`).
pub fn ioctl(f: &Rc<File>, cmd: u64, data: usize) -> i32 {
    let (devsw, dflags) = match enter(f.dev, Some(f)) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let e = if cmd as u32 == FIODTYPE {
        // SAFETY: data is the kernel's int-sized ioctl buffer.
        unsafe { (data as *mut i32).write((dflags & D_TYPEMASK) as i32) };
        0
    } else {
        let m = method(devsw, cdevsw::D_IOCTL);
        if m == 0 {
            ENODEV
        } else {
            let td = sched().curthread();
            // SAFETY: d_ioctl_t: int (*)(struct cdev *, u_long, caddr_t, int, struct thread *).
            let m: extern "C" fn(usize, u64, usize, i32, usize) -> i32 = unsafe { std::mem::transmute(m) };
            m(f.dev, cmd, data, f.flag, td)
        }
    };
    leave(f.dev);
    if e == ENOIOCTL { ENOTTY } else { e }
}

/// `d_poll(dev, events, td)` for `f` (`devfs_poll_f`), or a destroyed device's answer.
pub fn poll(f: &Rc<File>, events: i32) -> i32 {
    use super::sys_generic::{dead_poll, poll_no_poll};
    let (devsw, _) = match enter(f.dev, Some(f)) {
        Ok(x) => x,
        // devfs_fp_check failed: vnops.fo_poll -> VOP_POLL -> dead_poll.
        Err(_) => return dead_poll(events),
    };
    let m = method(devsw, cdevsw::D_POLL);
    let r = if m == 0 {
        poll_no_poll(events)
    } else {
        let td = sched().curthread();
        // SAFETY: d_poll_t: int (*)(struct cdev *, int, struct thread *).
        let m: extern "C" fn(usize, i32, usize) -> i32 = unsafe { std::mem::transmute(m) };
        m(f.dev, events, td)
    };
    leave(f.dev);
    r
}

extern "C" fn k_devfs_set_cdevpriv(data: usize, dtor: usize) -> i32 {
    let caller = super::subr_witness::caller();
    super::kern_switch::preempt();
    // malloc(sizeof(struct cdev_privdata), M_CDEVPDATA, M_WAITOK)
    super::subr_witness::warn_sleep_malloc(32, caller);
    let t = tid();
    let Some(f) = with(|k| k.user.fpop.get(&t).cloned()) else { return ENOENT };
    if f.cdevpriv.get().is_some() {
        return EBUSY;
    }
    f.cdevpriv.set(Some((data, dtor)));
    0
}

extern "C" fn k_devfs_get_cdevpriv(datap: usize) -> i32 {
    let t = tid();
    let Some(f) = with(|k| k.user.fpop.get(&t).cloned()) else { return EBADF };
    match f.cdevpriv.get() {
        Some((data, _)) => {
            // SAFETY: the module's void ** out-parameter.
            unsafe { (datap as *mut usize).write(data) };
            0
        }
        None => ENOENT,
    }
}

extern "C" fn k_devfs_clear_cdevpriv() {
    let t = tid();
    if let Some(f) = with(|k| k.user.fpop.get(&t).cloned()) {
        fpdrop(&f);
    }
}

/// Whether the running thread belongs to a user process (for messages).
pub fn in_user_process() -> bool {
    curproc_pid().is_some()
}

super::subr_witness::caller_shim!(sim_devfs_set_cdevpriv, k_devfs_set_cdevpriv);

/// Register the cdevpriv KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("devfs_set_cdevpriv", sim_devfs_set_cdevpriv as *const () as usize));
    v.push(KsymDef::function("devfs_get_cdevpriv", k_devfs_get_cdevpriv as *const () as usize));
    v.push(KsymDef::function("devfs_clear_cdevpriv", k_devfs_clear_cdevpriv as *const () as usize));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vaccess_owner_group_other_and_privilege() {
        let user = Ucred::user(1001, 1001);
        let mut operator = Ucred::user(1002, 1002);
        operator.groups.push(5);
        let jailed_root = Ucred { jailed: true, ..Ucred::root() };
        // root:wheel 0600
        assert_eq!(vaccess(&user, 0o600, 0, 0, VREAD), EACCES);
        assert_eq!(vaccess(&Ucred::root(), 0o600, 0, 0, VREAD | VWRITE), 0);
        assert_eq!(vaccess(&Ucred::root(), 0o000, 0, 0, VREAD | VWRITE), 0);
        assert_eq!(vaccess(&jailed_root, 0o000, 0, 0, VREAD | VWRITE), 0);
        // root:operator 0640: a member of group 5 reads, does not write; others nothing.
        assert_eq!(vaccess(&operator, 0o640, 0, 5, VREAD), 0);
        assert_eq!(vaccess(&operator, 0o640, 0, 5, VWRITE), EACCES);
        assert_eq!(vaccess(&user, 0o640, 0, 5, VREAD), EACCES);
        // The owner's bits apply to the owner even when the others' would allow more.
        assert_eq!(vaccess(&user, 0o066, 1001, 0, VREAD), EACCES);
        assert_eq!(vaccess(&user, 0o606, 0, 0, VREAD | VWRITE), 0);
    }
}

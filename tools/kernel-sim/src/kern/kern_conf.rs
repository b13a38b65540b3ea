//! Character devices: `make_dev_s`, `destroy_dev` and the devfs node table
//! (`sys/kern/kern_conf.c`, `sys/sys/conf.h`, `sys/fs/devfs/devfs_devs.c`).
//!
//! * `make_dev_s(args, &cdev, fmt, ...)` (`make_dev_sv`): `EINVAL` when `args->mda_size`
//!   is larger than `struct make_dev_args` (64 bytes; only `mda_size` bytes are copied);
//!   `MAKEDEV_WAITOK` and `MAKEDEV_NOWAIT` together are a KASSERT panic; without
//!   `MAKEDEV_NOWAIT` it may sleep (WITNESS checks it). `prep_cdevsw`: a `d_version` other
//!   than `D_VERSION` prints `WARNING: Device driver "%s" has wrong version and is
//!   disabled.  Recompile KLD module.` and fails with `EINVAL`. `prep_devname`: the name
//!   is formatted like printf (at most `SPECNAMELEN` = 255 characters, else
//!   `ENAMETOOLONG`), leading slashes dropped, `//` collapsed, a trailing slash, an empty
//!   name and `.`/`..` components are `EINVAL`, an existing name is `EEXIST`; a bad name
//!   panics (`make_dev_sv: bad si_name (error=%d, si_name=%s)`) unless `MAKEDEV_CHECKNAME`.
//!   The new `struct cdev` (480 bytes) has `si_flags` `SI_NAMED`, `si_uid`, `si_gid`,
//!   `si_mode`, `si_drv1`, `si_drv2`, `si_devsw` and `si_name` where the headers put them.
//! * `destroy_dev(dev)` (`destroy_devl`): `WITNESS_WARN(WARN_GIANTOK | WARN_SLEEPOK, NULL,
//!   "destroy_dev")`; a device not (or no longer) named is the KASSERT `WARNING: Driver
//!   mistake: destroy_dev on %d`. The node disappears (new opens fail with `ENOENT`, calls
//!   on open files with `ENXIO`), then it sleeps on `"devdrn"` (`hz / 10` at a time) until no
//!   thread runs a `d_*` method of the device (`si_threadcount`), runs the cdevpriv
//!   destructors of every file still open on it (`devfs_destroy_cdevpriv`) and clears
//!   `si_drv1`/`si_drv2`. Called from one of the device's own `d_*` methods it would wait
//!   for itself forever, and when the threads inside the methods sleep with nothing left to
//!   wake them it would wait forever too: the simulator reports both as panics instead of
//!   hanging.
//! * At `kldunload`, a device whose `cdevsw` lies in the unloaded file and that was not
//!   destroyed is reported (`crate::Kernel`): its methods would run freed code.

use super::kern_switch::{sched, try_sched};
use super::panic::kernel_panic;
use super::printf::format;
use super::subr_witness::{self as witness, sym};
use super::{VaList, console_write, va_shim, with};
use crate::ksyms::KsymDef;

/// `D_VERSION` (= `D_VERSION_04`, sys/sys/conf.h).
pub const D_VERSION: u32 = 0x5c48_c353;
/// `D_TRACKCLOSE`: `d_close` on every close, not only the last.
pub const D_TRACKCLOSE: u32 = 0x0008_0000;
/// `D_TYPEMASK`.
pub const D_TYPEMASK: u32 = 0xffff;
/// `MAKEDEV_NOWAIT`, `MAKEDEV_WAITOK`, `MAKEDEV_CHECKNAME` (sys/sys/conf.h).
pub const MAKEDEV_NOWAIT: i32 = 0x04;
/// `MAKEDEV_WAITOK`.
pub const MAKEDEV_WAITOK: i32 = 0x08;
/// `MAKEDEV_CHECKNAME`.
pub const MAKEDEV_CHECKNAME: i32 = 0x20;
/// `SI_NAMED`.
pub const SI_NAMED: u32 = 0x0004;
/// `SPECNAMELEN` (sys/sys/param.h).
pub const SPECNAMELEN: usize = 255;

/// Offsets in `struct cdevsw` (184 bytes; FACTS.md section 5, the same on 13.1/14/15).
pub mod cdevsw {
    /// `d_version` (int).
    pub const D_VERSION: usize = 0;
    /// `d_flags` (u_int).
    pub const D_FLAGS: usize = 4;
    /// `d_name` (const char *).
    pub const D_NAME: usize = 8;
    /// `d_open`.
    pub const D_OPEN: usize = 16;
    /// `d_close`.
    pub const D_CLOSE: usize = 32;
    /// `d_read`.
    pub const D_READ: usize = 40;
    /// `d_write`.
    pub const D_WRITE: usize = 48;
    /// `d_ioctl`.
    pub const D_IOCTL: usize = 56;
    /// `d_poll`.
    pub const D_POLL: usize = 64;
}

/// Offsets in `struct cdev` (sys/sys/conf.h; an `offsetof` probe against the 14.2 and 15.0
/// headers gives the same values, FACTS.md section 5 has si_drv1/si_drv2/si_name/size for
/// 13.1 too).
pub mod cdev {
    /// `si_flags` (u_int).
    pub const SI_FLAGS: usize = 8;
    /// `si_uid`.
    pub const SI_UID: usize = 64;
    /// `si_gid`.
    pub const SI_GID: usize = 68;
    /// `si_mode` (mode_t, 16 bits).
    pub const SI_MODE: usize = 72;
    /// `si_drv0` (int: the unit, `dev2unit()`).
    pub const SI_DRV0: usize = 88;
    /// `si_drv1`.
    pub const SI_DRV1: usize = 168;
    /// `si_drv2`.
    pub const SI_DRV2: usize = 176;
    /// `si_devsw`.
    pub const SI_DEVSW: usize = 184;
    /// `si_usecount` (u_long).
    pub const SI_USECOUNT: usize = 200;
    /// `si_threadcount` (u_long).
    pub const SI_THREADCOUNT: usize = 208;
    /// `si_name` (char[SPECNAMELEN + 1]).
    pub const SI_NAME: usize = 224;
    /// `sizeof(struct cdev)`.
    pub const SIZE: usize = 480;
}

/// One device made by `make_dev_s`.
#[derive(Debug)]
pub struct Cdev {
    /// Address of its `struct cdev`.
    pub addr: usize,
    mem: Box<[u64]>,
    /// `si_name` (the node is `/dev/<name>`).
    pub name: String,
    /// `si_devsw`.
    pub devsw: usize,
    /// `d_flags` of the cdevsw.
    pub dflags: u32,
    /// Owner, group and mode of the node.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Permission bits.
    pub mode: u32,
    /// `destroy_dev` has started (no node, no new calls).
    pub destroyed: bool,
    /// `destroy_dev_sched` asked for it; done when no thread runs one of its methods.
    pub destroy_pending: bool,
    /// Opens of the node (`si_usecount`, the vnode's use count).
    pub usecount: u32,
    /// Threads inside a `d_*` method (`si_threadcount`).
    pub threadcount: u32,
    /// Tids of the threads inside a `d_*` method of this device.
    pub active: Vec<u32>,
    /// Calls to its methods so far.
    pub calls: u64,
}

impl Cdev {
    fn set_u64(&mut self, off: usize, v: u64) {
        if off.is_multiple_of(8) {
            self.mem[off / 8] = v;
        } else {
            // si_drv0 (88) is 8-aligned; only 4-byte fields use this path.
            let w = &mut self.mem[off / 8];
            let sh = (off % 8) * 8;
            *w = (*w & !(0xffff_ffffu64 << sh)) | ((v & 0xffff_ffff) << sh);
        }
    }
}

/// The devfs node table.
#[derive(Debug, Default)]
pub struct Devfs {
    /// Every device made since boot (destroyed ones stay, marked, so that open files and
    /// stale pointers still reach valid memory).
    pub devs: Vec<Cdev>,
}

impl Devfs {
    /// The live device named `name` (without `/dev/`).
    pub fn lookup(&self, name: &str) -> Option<&Cdev> {
        self.devs.iter().find(|d| !d.destroyed && d.name == name)
    }
    /// The device whose `struct cdev` is at `addr`.
    pub fn by_addr(&mut self, addr: usize) -> Option<&mut Cdev> {
        self.devs.iter_mut().find(|d| d.addr == addr)
    }
    /// Names of the live devices.
    pub fn names(&self) -> Vec<String> {
        self.devs.iter().filter(|d| !d.destroyed).map(|d| d.name.clone()).collect()
    }
}

fn rd<T: Copy>(addr: usize) -> T {
    // SAFETY: callers pass addresses of module structures (make_dev_args, cdevsw) that
    // the module handed to the kernel; a bad pointer faults like it would in the kernel.
    unsafe { (addr as *const T).read_unaligned() }
}

/// `prep_devname`: the checked device name, or the errno.
fn prep_devname(raw: &[u8]) -> Result<String, (i32, String)> {
    let shown = String::from_utf8_lossy(&raw[..raw.len().min(SPECNAMELEN)]).into_owned();
    if raw.len() > SPECNAMELEN {
        return Err((crate::user::errno::ENAMETOOLONG, shown));
    }
    let s = String::from_utf8_lossy(raw).into_owned();
    let mut from = s.trim_start_matches('/').to_string();
    while from.contains("//") {
        from = from.replace("//", "/");
    }
    if from.ends_with('/') || from.is_empty() {
        return Err((super::module::EINVAL, from));
    }
    if from.split('/').any(|c| c == "." || c == "..") {
        return Err((super::module::EINVAL, from));
    }
    if with(|k| k.devfs.lookup(&from).is_some()) {
        return Err((super::module::EEXIST, from));
    }
    Ok(from)
}

/// Arguments of `make_dev_credv`/`make_dev_sv` after unpacking.
struct DevArgs {
    flags: i32,
    devsw: usize,
    unit: i32,
    uid: u32,
    gid: u32,
    mode: u32,
    drv1: u64,
    drv2: u64,
}

/// `make_dev_sv`: the new `struct cdev *`, or the errno.
fn make_dev_common(a: DevArgs, name: &[u8], caller: usize) -> Result<usize, i32> {
    super::kern_switch::preempt();
    let DevArgs { flags, devsw, unit, uid, gid, mode, drv1, drv2 } = a;
    if flags & MAKEDEV_WAITOK != 0 && flags & MAKEDEV_NOWAIT != 0 {
        kernel_panic(format!("make_dev_sv: both WAITOK and NOWAIT specified\n  offending call at {}\n", sym(caller)), caller);
    }
    if flags & MAKEDEV_NOWAIT == 0 {
        // devfs_alloc(): malloc(sizeof(struct cdev_priv), M_CDEVP, M_WAITOK | M_ZERO).
        witness::warn_sleep_malloc(cdev::SIZE + 64, caller);
    }
    if devsw == 0 {
        kernel_panic(format!("make_dev: the cdevsw is NULL (prep_cdevsw would dereference it)\n  offending call at {}\n", sym(caller)), caller);
    }
    let version: u32 = rd(devsw + cdevsw::D_VERSION);
    if version != D_VERSION {
        let dname: usize = rd(devsw + cdevsw::D_NAME);
        // SAFETY: d_name is the module's string (or NULL).
        let n = if dname == 0 { "???".to_string() } else { unsafe { super::cstr(dname) } };
        console_write(format!("WARNING: Device driver \"{n}\" has wrong version and is disabled.  Recompile KLD module.\n").as_bytes());
        return Err(super::module::EINVAL);
    }
    let name = match prep_devname(name) {
        Ok(n) => n,
        Err((e, n)) => {
            if flags & MAKEDEV_CHECKNAME == 0 {
                kernel_panic(format!("make_dev_sv: bad si_name (error={e}, si_name={n})\n  offending call at {}\n", sym(caller)), caller);
            }
            return Err(e);
        }
    };
    let dflags: u32 = rd(devsw + cdevsw::D_FLAGS);
    let mut mem = vec![0u64; cdev::SIZE / 8].into_boxed_slice();
    let addr = mem.as_mut_ptr() as usize;
    let mut d = Cdev {
        addr,
        mem,
        name: name.clone(),
        devsw,
        dflags,
        uid,
        gid,
        mode: mode & 0o7777,
        destroyed: false,
        destroy_pending: false,
        usecount: 0,
        threadcount: 0,
        active: Vec::new(),
        calls: 0,
    };
    d.set_u64(cdev::SI_FLAGS, SI_NAMED as u64);
    d.set_u64(cdev::SI_UID, uid as u64 | ((gid as u64) << 32));
    d.set_u64(cdev::SI_MODE, (mode & 0xffff) as u64);
    // newdev(): si_drv0 = mda_unit (dev2unit()).
    d.set_u64(cdev::SI_DRV0, unit as u32 as u64);
    d.set_u64(cdev::SI_DRV1, drv1);
    d.set_u64(cdev::SI_DRV2, drv2);
    d.set_u64(cdev::SI_DEVSW, devsw as u64);
    let nb = name.as_bytes();
    // SAFETY: si_name is a 256-byte array inside the 480-byte cdev; nb.len() <= 255.
    unsafe { std::ptr::copy_nonoverlapping(nb.as_ptr(), (addr + cdev::SI_NAME) as *mut u8, nb.len()) };
    with(|k| k.devfs.devs.push(d));
    Ok(addr)
}

extern "C" fn make_dev_s_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: called from the variadic shim: gp holds the register arguments (args, cdevp,
    // fmt, then the format's), stack[-1] is the module's return address.
    let (args, cdevp, name, caller) = unsafe {
        let mut ap = VaList::new(gp, 3, stack);
        let fmt = *gp.add(2) as usize;
        let name = if fmt == 0 { Vec::new() } else { format(fmt as *const u8, &mut ap) };
        (*gp as usize, *gp.add(1) as usize, name, *stack.sub(1) as usize)
    };
    // make_dev_sv: bzero + bcopy of mda_size bytes.
    let size: usize = rd(args);
    if size > 64 {
        return super::module::EINVAL as u64;
    }
    let mut a = [0u8; 64];
    // SAFETY: the module's make_dev_args, mda_size bytes long.
    unsafe { std::ptr::copy_nonoverlapping(args as *const u8, a.as_mut_ptr(), size) };
    let g32 = |o: usize| i32::from_le_bytes(a[o..o + 4].try_into().expect("4 bytes"));
    let g64 = |o: usize| u64::from_le_bytes(a[o..o + 8].try_into().expect("8 bytes"));
    let da = DevArgs {
        flags: g32(8),
        devsw: g64(16) as usize,
        uid: g32(32) as u32,
        gid: g32(36) as u32,
        mode: g32(40) as u32,
        unit: g32(44),
        drv1: g64(48),
        drv2: g64(56),
    };
    match make_dev_common(da, &name, caller) {
        Ok(addr) => {
            if cdevp != 0 {
                // SAFETY: the module's struct cdev ** out-parameter.
                unsafe { (cdevp as *mut usize).write(addr) };
            }
            0
        }
        Err(e) => e as u64,
    }
}

/// `make_dev(devsw, unit, uid, gid, perms, fmt, ...)`: `make_dev_credv(0, ...)`; a failure
/// is the KASSERT `make_dev: failed make_dev_credv (error=%d)`.
extern "C" fn make_dev_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: variadic shim: devsw, unit, uid, gid, perms, fmt in registers, then the
    // format's arguments on the stack.
    let (da, name, caller) = unsafe {
        let mut ap = VaList::new(gp, 6, stack);
        let fmt = *gp.add(5) as usize;
        let name = if fmt == 0 { Vec::new() } else { format(fmt as *const u8, &mut ap) };
        let da = DevArgs { flags: 0, devsw: *gp as usize, unit: *gp.add(1) as i32, uid: *gp.add(2) as u32, gid: *gp.add(3) as u32, mode: *gp.add(4) as u32, drv1: 0, drv2: 0 };
        (da, name, *stack.sub(1) as usize)
    };
    match make_dev_common(da, &name, caller) {
        Ok(a) => a as u64,
        Err(e) => kernel_panic(format!("make_dev: failed make_dev_credv (error={e})\n  offending call at {}\n", sym(caller)), caller),
    }
}

/// `(flags, devsw, unit, uid, gid, mode, name, caller)` of `make_dev_credf`/`make_dev_p`
/// style calls: 6 register arguments then `mode`, `fmt` and the format's on the stack.
///
/// # Safety
/// Called from a variadic shim of one of those functions.
unsafe fn credf_args(gp: *const u64, stack: *const u64, devsw_reg: usize) -> (DevArgs, Vec<u8>, usize) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let mut ap = VaList::new(gp, 6, stack);
        let mode = ap.next_u64() as u32;
        let fmt = ap.next_u64() as usize;
        let name = if fmt == 0 { Vec::new() } else { format(fmt as *const u8, &mut ap) };
        let unit = if devsw_reg == 1 { *gp.add(2) as i32 } else { 0 };
        let da = DevArgs { flags: *gp as i32, devsw: *gp.add(devsw_reg) as usize, unit, uid: *gp.add(4) as u32, gid: *gp.add(5) as u32, mode, drv1: 0, drv2: 0 };
        (da, name, *stack.sub(1) as usize)
    }
}

/// `make_dev_credf(flags, devsw, unit, cr, uid, gid, mode, fmt, ...)`: NULL on failure.
extern "C" fn make_dev_credf_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: the variadic shim of make_dev_credf.
    let (da, name, caller) = unsafe { credf_args(gp, stack, 1) };
    make_dev_common(da, &name, caller).unwrap_or(0) as u64
}

/// `make_dev_p(flags, &cdev, devsw, cr, uid, gid, mode, fmt, ...)`: the errno.
extern "C" fn make_dev_p_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: the variadic shim of make_dev_p.
    let (da, name, caller) = unsafe { credf_args(gp, stack, 2) };
    // SAFETY: register 1 is the struct cdev ** out-parameter.
    let cdevp = unsafe { *gp.add(1) } as usize;
    match make_dev_common(da, &name, caller) {
        Ok(a) => {
            if cdevp != 0 {
                // SAFETY: the module's out-parameter.
                unsafe { (cdevp as *mut usize).write(a) };
            }
            0
        }
        Err(e) => {
            if cdevp != 0 {
                // SAFETY: as above (make_dev_credv sets *dres = NULL on failure).
                unsafe { (cdevp as *mut usize).write(0) };
            }
            e as u64
        }
    }
}

extern "C" fn make_dev_args_init_impl(args: usize, sz: usize) {
    // SAFETY: the module's make_dev_args of `sz` bytes (bzero; mda_size = sz).
    unsafe {
        std::ptr::write_bytes(args as *mut u8, 0, sz);
        (args as *mut usize).write(sz);
    }
}

/// Write `si_threadcount` / `si_usecount` of `d` into its `struct cdev`.
pub fn sync_counts(d: &mut Cdev) {
    d.set_u64(cdev::SI_THREADCOUNT, d.threadcount as u64);
    d.set_u64(cdev::SI_USECOUNT, d.usecount as u64);
}

/// Wait channel of threads draining a device in `destroy_dev`.
pub fn drain_chan(dev: usize) -> usize {
    dev + cdev::SI_THREADCOUNT
}

extern "C" fn k_destroy_dev(dev: usize) {
    let caller = witness::caller();
    destroy_dev(dev, caller);
}

/// `destroy_dev(dev)`.
pub fn destroy_dev(dev: usize, caller: usize) {
    super::kern_switch::preempt();
    witness::warn_sleep(0, "destroy_dev", caller);
    let tid = try_sched().map(|s| s.current().tid).unwrap_or(0);
    let state = with(|k| k.devfs.by_addr(dev).map(|d| (d.destroyed, d.name.clone(), d.active.contains(&tid))));
    let Some((destroyed, name, own)) = state else {
        kernel_panic(format!("destroy_dev: {dev:#x} is not a device made by make_dev_s\n  offending call at {}\n", sym(caller)), caller);
    };
    if destroyed {
        // destroy_devl: KASSERT(dev->si_flags & SI_NAMED, ("WARNING: Driver mistake: destroy_dev on %d\n", dev2unit(dev)))
        kernel_panic(format!("WARNING: Driver mistake: destroy_dev on {name} (already destroyed)\n  offending call at {}\n", sym(caller)), caller);
    }
    if own {
        kernel_panic(
            format!(
                "destroy_dev(/dev/{name}) called from a d_* method of the device itself: destroy_dev waits until no thread runs a method of the device (si_threadcount), this one included, so it would sleep on \"devdrn\" forever (use destroy_dev_sched, or destroy the device from MOD_UNLOAD)\n  offending call at {}\n",
                sym(caller)
            ),
            caller,
        );
    }
    with(|k| {
        if let Some(d) = k.devfs.by_addr(dev) {
            d.destroyed = true;
            d.set_u64(cdev::SI_FLAGS, 0);
        }
    });
    // while (dev->si_threadcount != 0) msleep(&csw, &devmtx, PRIBIO, "devdrn", hz / 10);
    while with(|k| k.devfs.by_addr(dev).map(|d| d.threadcount).unwrap_or(0)) != 0 {
        if !sched().could_progress() {
            // Nothing can run or time out any more: the threads inside the methods never
            // return, and the kernel would sleep on "devdrn" forever.
            let inside = with(|k| k.devfs.by_addr(dev).map(|d| d.active.clone()).unwrap_or_default());
            let s = sched();
            let who: Vec<String> = s
                .threads
                .iter()
                .filter(|t| inside.contains(&t.tid))
                .map(|t| match &t.state {
                    super::kern_switch::TState::Blocked(w) => format!("tid {} \"{}\" sleeping on \"{}\" at {}", t.tid, t.name, w.wmesg, sym(w.caller)),
                    _ => format!("tid {} \"{}\"", t.tid, t.name),
                })
                .collect();
            kernel_panic(
                format!(
                    "destroy_dev(/dev/{name}) waits forever: thread(s) inside the device's methods never return ({}); wake them before destroy_dev (or in d_purge)\n  offending call at {}\n",
                    who.join(", "),
                    sym(caller)
                ),
                caller,
            );
        }
        let dl = Some(sched().now + super::kern_clock::TICK_SBT * 100);
        super::kern_synch::sleep(drain_chan(dev), 0, 0, "devdrn".into(), dl, caller, "destroy_dev");
    }
    // devfs_destroy_cdevpriv for every file still open on the device.
    super::devfs_vnops::destroy_cdevprivs(dev);
    with(|k| {
        if let Some(d) = k.devfs.by_addr(dev) {
            d.set_u64(cdev::SI_DRV1, 0);
            d.set_u64(cdev::SI_DRV2, 0);
            d.set_u64(cdev::SI_DEVSW, 0);
        }
    });
}

/// After a call aborted (fault, panic, watchdog), every simulated thread is gone: no
/// thread is inside a device method (so that a later `destroy_dev` does not wait for the
/// dead ones forever) and no thread has a `td_fpop`.
pub fn after_abort() {
    with(|k| {
        for d in k.devfs.devs.iter_mut() {
            d.threadcount = 0;
            d.active.clear();
            sync_counts(d);
        }
        k.user.fpop.clear();
        k.user.denied.clear();
    });
}

/// Devices whose cdevsw lies in `[lo, hi)` and that were not destroyed (at kldunload):
/// marked destroyed (their methods are never called again) and returned by name.
pub fn forget_devices_in(inside: impl Fn(usize) -> bool) -> Vec<String> {
    with(|k| {
        let mut out = Vec::new();
        for d in k.devfs.devs.iter_mut() {
            if !d.destroyed && inside(d.devsw) {
                d.destroyed = true;
                out.push(d.name.clone());
            }
        }
        out
    })
}

/// `destroy_dev_sched(dev)`: the destruction happens asynchronously (a taskqueue in the
/// kernel): here at once when no thread runs a method of the device, else when the last one
/// leaves it (so it may be called from the device's own methods). Returns 0 (1 when it was
/// already scheduled, like the kernel's).
extern "C" fn k_destroy_dev_sched(dev: usize) -> i32 {
    let caller = witness::caller();
    let busy = with(|k| {
        let d = k.devfs.by_addr(dev)?;
        if d.destroy_pending || d.destroyed {
            return Some(None);
        }
        d.destroy_pending = true;
        Some(Some(d.threadcount > 0))
    });
    match busy {
        None => kernel_panic(format!("destroy_dev_sched: {dev:#x} is not a device made by make_dev_s\n  offending call at {}\n", sym(caller)), caller),
        Some(None) => 1,
        Some(Some(true)) => 0,
        Some(Some(false)) => {
            destroy_dev(dev, caller);
            0
        }
    }
}

/// Run a `destroy_dev_sched` that was waiting for the last method of `dev` to return.
pub fn run_pending_destroy(dev: usize) {
    let due = with(|k| k.devfs.by_addr(dev).is_some_and(|d| d.destroy_pending && !d.destroyed && d.threadcount == 0));
    if due {
        destroy_dev(dev, 0);
    }
}

/// `destroy_dev_drain(csw)`: waits until the scheduled destructions of the devices of
/// `csw` are done.
extern "C" fn k_destroy_dev_drain(csw: usize) {
    let caller = witness::caller();
    witness::warn_sleep(0, "destroy_dev_drain", caller);
    while with(|k| k.devfs.devs.iter().any(|d| d.devsw == csw && d.destroy_pending && !d.destroyed)) {
        let dl = Some(sched().now + super::kern_clock::TICK_SBT * 100);
        super::kern_synch::sleep(csw, 0, 0, "devscd".into(), dl, caller, "destroy_dev_drain");
    }
}

/// `devtoname(dev)`: `dev->si_name`.
extern "C" fn k_devtoname(dev: usize) -> usize {
    dev + cdev::SI_NAME
}

/// `dev_ref`/`dev_rel`: reference counts of `struct cdev` (the simulator never frees one).
extern "C" fn k_dev_ref(_dev: usize) {}

va_shim!(sim_va_make_dev_s, make_dev_s_impl);
va_shim!(sim_va_make_dev, make_dev_impl);
va_shim!(sim_va_make_dev_credf, make_dev_credf_impl);
va_shim!(sim_va_make_dev_p, make_dev_p_impl);
witness::caller_shim!(sim_destroy_dev, k_destroy_dev);
witness::caller_shim!(sim_destroy_dev_sched, k_destroy_dev_sched);
witness::caller_shim!(sim_destroy_dev_drain, k_destroy_dev_drain);

/// Register make_dev_s, make_dev_args_init_impl, make_dev, make_dev_credf, make_dev_p,
/// destroy_dev, destroy_dev_sched, destroy_dev_drain, devtoname, dev_ref, dev_rel.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::variadic("make_dev_s", sim_va_make_dev_s as *const () as usize));
    v.push(KsymDef::function("make_dev_args_init_impl", make_dev_args_init_impl as *const () as usize));
    v.push(KsymDef::function("destroy_dev", sim_destroy_dev as *const () as usize));
    v.push(KsymDef::variadic("make_dev", sim_va_make_dev as *const () as usize));
    v.push(KsymDef::variadic("make_dev_credf", sim_va_make_dev_credf as *const () as usize));
    v.push(KsymDef::variadic("make_dev_p", sim_va_make_dev_p as *const () as usize));
    v.push(KsymDef::function("destroy_dev_sched", sim_destroy_dev_sched as *const () as usize));
    v.push(KsymDef::function("destroy_dev_drain", sim_destroy_dev_drain as *const () as usize));
    v.push(KsymDef::function("devtoname", k_devtoname as *const () as usize));
    v.push(KsymDef::function("dev_ref", k_dev_ref as *const () as usize));
    v.push(KsymDef::function("dev_rel", k_dev_ref as *const () as usize));
}

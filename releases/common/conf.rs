//! Character devices (`sys/sys/conf.h`): `struct cdevsw` (184 bytes, `D_VERSION`), the
//! `d_*_t` method types, `struct make_dev_args` (64 bytes), `make_dev_s`, `destroy_dev`
//! and the cdevpriv functions.
//!
//! `struct cdev` is opaque except for `si_drv1` (offset 168, size 480 on every release):
//! a module never reads another field of it (`si_name`, `si_threadcount`, ... belong to
//! devfs). `struct cdevsw` has the same bytes on every release, but 13.x names its spare
//! fields differently (`d_dump@88`, `d_spare0[3]@120`, `d_spare1[3]@136`, `d_spare2@168`;
//! 14.x/15.0: `d_spare0@88`, `d_spare1[3]@120`, `d_spare2[3]@136`, `d_spare3@168`): the
//! spares are private here and a driver leaves them zero.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `sys/sys/conf.h`, a 13.0-RELEASE
//! tree, stable/13 KBI; FACTS.md section 5), 14.2 and 15.0 (probed).

use super::kthread::thread;
use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

/// `struct cdev` (480 bytes): only `si_drv1` is public; the rest belongs to devfs.
#[repr(C)]
pub struct cdev {
    _head: [u8; 168],
    /// `si_drv1`: the driver's pointer (`make_dev_args.mda_si_drv1`); `destroy_dev`
    /// clears it.
    pub si_drv1: *mut c_void,
    _tail: [u8; 304],
}

/// `struct ucred` (opaque: its layout moves between 14.2 and 15.0, FACTS.md section 9).
#[repr(C)]
pub struct ucred {
    _opaque: [u8; 0],
}

/// `uid_t` (`sys/sys/_types.h`: `__uint32_t`).
pub type uid_t = u32;
/// `gid_t` (`sys/sys/_types.h`: `__uint32_t`).
pub type gid_t = u32;

/// `d_open_t`: `int (struct cdev *dev, int oflags, int devtype, struct thread *td)`.
pub type d_open_t = unsafe extern "C" fn(*mut cdev, c_int, c_int, *mut thread) -> c_int;
/// `d_close_t`: `int (struct cdev *dev, int fflag, int devtype, struct thread *td)`.
pub type d_close_t = unsafe extern "C" fn(*mut cdev, c_int, c_int, *mut thread) -> c_int;
/// `d_read_t` / `d_write_t`: `int (struct cdev *dev, struct uio *uio, int ioflag)`.
pub type d_rw_t = unsafe extern "C" fn(*mut cdev, *mut super::uio::uio, c_int) -> c_int;
/// `d_ioctl_t`: `int (struct cdev *dev, u_long cmd, caddr_t data, int fflag, struct
/// thread *td)`.
pub type d_ioctl_t = unsafe extern "C" fn(*mut cdev, c_ulong, *mut c_char, c_int, *mut thread) -> c_int;
/// `d_poll_t`: `int (struct cdev *dev, int events, struct thread *td)`.
pub type d_poll_t = unsafe extern "C" fn(*mut cdev, c_int, *mut thread) -> c_int;
/// `d_priv_dtor_t`: `void (void *data)`, the cdevpriv destructor.
pub type d_priv_dtor_t = unsafe extern "C" fn(*mut c_void);

/// `struct cdevsw` (184 bytes): the device's methods. Unused methods stay `None` (devfs
/// fills in defaults: `dead_*`/`no_*`, kern_conf.c `prep_cdevsw`); `d_devs` and the fields
/// after it are the kernel's.
#[repr(C)]
pub struct cdevsw {
    /// `d_version`: `D_VERSION`.
    pub d_version: c_int,
    /// `d_flags`: `D_TRACKCLOSE`, `D_NEEDGIANT`, ...
    pub d_flags: c_uint,
    /// `d_name`: a NUL-terminated name that outlives the device.
    pub d_name: *const c_char,
    /// `d_open`.
    pub d_open: Option<unsafe extern "C" fn(*mut cdev, c_int, c_int, *mut thread) -> c_int>,
    /// `d_fdopen` (unused by drivers: `*mut c_void` keeps `struct file` unbound).
    pub d_fdopen: *mut c_void,
    /// `d_close`.
    pub d_close: Option<unsafe extern "C" fn(*mut cdev, c_int, c_int, *mut thread) -> c_int>,
    /// `d_read`.
    pub d_read: Option<unsafe extern "C" fn(*mut cdev, *mut super::uio::uio, c_int) -> c_int>,
    /// `d_write`.
    pub d_write: Option<unsafe extern "C" fn(*mut cdev, *mut super::uio::uio, c_int) -> c_int>,
    /// `d_ioctl`.
    pub d_ioctl: Option<unsafe extern "C" fn(*mut cdev, c_ulong, *mut c_char, c_int, *mut thread) -> c_int>,
    /// `d_poll`.
    pub d_poll: Option<unsafe extern "C" fn(*mut cdev, c_int, *mut thread) -> c_int>,
    /// `d_mmap` (not bound: left NULL).
    pub d_mmap: *mut c_void,
    /// `d_strategy` (not bound: left NULL).
    pub d_strategy: *mut c_void,
    /// Offset 88: `d_dump` on 13.x, `d_spare0` on 14.x/15.0; NULL.
    pub _spare88: *mut c_void,
    /// `d_kqfilter` (not bound: left NULL).
    pub d_kqfilter: *mut c_void,
    /// `d_purge` (not bound: left NULL).
    pub d_purge: *mut c_void,
    /// `d_mmap_single` (not bound: left NULL).
    pub d_mmap_single: *mut c_void,
    /// Offsets 120..184: spares and `d_devs`, `d_gianttrick`: the kernel's; zero.
    pub _spare120: [u32; 3],
    /// Spare pointers (offset 136).
    pub _spare136: [*mut c_void; 3],
    /// `d_devs` (`LIST_HEAD(, cdev)`): the kernel's list of this switch's devices.
    pub d_devs: *mut cdev,
    /// Offset 168: `d_spare2` (13.x) / `d_spare3` (14.x/15.0).
    pub _spare168: c_int,
    /// `__d_giant` (offset 176): the kernel's.
    pub _giant176: *mut c_void,
}

/// `struct make_dev_args` (64 bytes): initialise with `make_dev_args_init_impl(&a,
/// sizeof a)` (what the `make_dev_args_init` macro expands to), then fill it in.
#[repr(C)]
pub struct make_dev_args {
    /// `mda_size`: `sizeof(struct make_dev_args)`.
    pub mda_size: usize,
    /// `mda_flags`: `MAKEDEV_*`.
    pub mda_flags: c_int,
    /// `mda_devsw`.
    pub mda_devsw: *mut cdevsw,
    /// `mda_cr` (clone credential; NULL).
    pub mda_cr: *mut ucred,
    /// `mda_uid`.
    pub mda_uid: uid_t,
    /// `mda_gid`.
    pub mda_gid: gid_t,
    /// `mda_mode`: permission bits.
    pub mda_mode: c_int,
    /// `mda_unit`.
    pub mda_unit: c_int,
    /// `mda_si_drv1`: becomes `cdev.si_drv1`.
    pub mda_si_drv1: *mut c_void,
    /// `mda_si_drv2`.
    pub mda_si_drv2: *mut c_void,
}

abi_structs! {
    table CONF_STRUCTS, header "sys/sys/conf.h";
    cdev = "struct cdev", size 480, align 8, { si_drv1: 168 };
    cdevsw = "struct cdevsw", size 184, align 8, {
        d_version: 0, d_flags: 4, d_name: 8, d_open: 16, d_fdopen: 24, d_close: 32, d_read: 40,
        d_write: 48, d_ioctl: 56, d_poll: 64, d_mmap: 72, d_strategy: 80, d_kqfilter: 96,
        d_purge: 104, d_mmap_single: 112, d_devs: 160,
    };
    make_dev_args = "struct make_dev_args", size 64, align 8, {
        mda_size: 0, mda_flags: 8, mda_devsw: 16, mda_cr: 24, mda_uid: 32, mda_gid: 36,
        mda_mode: 40, mda_unit: 44, mda_si_drv1: 48, mda_si_drv2: 56,
    };
}

abi_consts! {
    table CONF_CONSTS, header "sys/sys/conf.h";
    /// `D_VERSION` (`D_VERSION_04`): `cdevsw.d_version`.
    pub const D_VERSION: c_int = 0x5c48c353;
    /// `d_flags`: call `d_close` on every close, not only the last.
    pub const D_TRACKCLOSE: c_uint = 0x00080000;
    /// `d_flags`: run the methods under Giant.
    pub const D_NEEDGIANT: c_uint = 0x00400000;
    /// `d_flags`: the device needs a unit number.
    pub const D_NEEDMINOR: c_uint = 0x00800000;
    /// `make_dev_s` flag: take a reference on the device.
    pub const MAKEDEV_REF: c_int = 0x01;
    /// `make_dev_s` flag: do not sleep (may fail with ENOMEM).
    pub const MAKEDEV_NOWAIT: c_int = 0x04;
    /// `make_dev_s` flag: may sleep.
    pub const MAKEDEV_WAITOK: c_int = 0x08;
    /// `make_dev_s` flag: return EEXIST instead of panicking on a duplicate name, and check
    /// the name.
    pub const MAKEDEV_CHECKNAME: c_int = 0x20;
    /// Owner `root`.
    pub const UID_ROOT: u32 = 0;
    /// Group `wheel`.
    pub const GID_WHEEL: u32 = 0;
    /// Group `operator`.
    pub const GID_OPERATOR: u32 = 5;
}

kpi_functions! {
    table CONF_FUNCTIONS, header "sys/sys/conf.h";
    /// `make_dev_args_init(a)` expands to `make_dev_args_init_impl(a, sizeof(*a))`: zeroes
    /// the arguments and sets `mda_size`.
    pub fn make_dev_args_init_impl(args: *mut make_dev_args, sz: usize);
    /// `make_dev_s(args, &cdev, fmt, ...)`: creates `/dev/<name>`; 0 or an errno (EEXIST
    /// with `MAKEDEV_CHECKNAME`, ENOMEM with `MAKEDEV_NOWAIT`). May sleep without
    /// `MAKEDEV_NOWAIT`.
    pub fn make_dev_s(args: *mut make_dev_args, cdev: *mut *mut cdev, fmt: *const c_char, ...) -> c_int;
    /// `destroy_dev(dev)`: removes the node, waits until no method runs, runs the cdevpriv
    /// destructors and clears `si_drv1`. Sleeps; never from the device's own methods
    /// (deadlock: use `destroy_dev_sched`) or with a lock held.
    pub fn destroy_dev(dev: *mut cdev);
    /// `devfs_set_cdevpriv(priv, dtr)`: attaches per-open data to the current file (from
    /// `d_open` on); EBUSY if already set. `dtr(priv)` runs when the file is closed or the
    /// device destroyed.
    pub fn devfs_set_cdevpriv(data: *mut c_void, dtr: Option<unsafe extern "C" fn(*mut c_void)>) -> c_int;
    /// `devfs_get_cdevpriv(&priv)`: the current file's per-open data; ENOENT if none.
    pub fn devfs_get_cdevpriv(datap: *mut *mut c_void) -> c_int;
    /// `devfs_clear_cdevpriv()`: detaches the current file's data and runs its destructor.
    pub fn devfs_clear_cdevpriv();
}

//! Character devices: [`CharDevice`] (open, close, read, write, ioctl) registered under
//! `/dev` by a [`Registration`] (make_dev_s(9)) that the module's state owns.
//!
//! ```no_run
//! use freebsd_kmi::cdev::{Caller, CharDevice, DeviceOptions, IoDest, Registration};
//! use freebsd_kmi::errno::Errno;
//!
//! struct Hello;
//!
//! impl CharDevice for Hello {
//!     type File = ();
//!     fn open(&self, _caller: &Caller<'_>, _flags: i32) -> Result<(), Errno> {
//!         Ok(())
//!     }
//!     fn read(&self, _file: &(), to: &mut IoDest<'_>, _ioflag: i32) -> Result<(), Errno> {
//!         to.copy_at_offset(b"hello\n").map(drop)
//!     }
//! }
//!
//! # fn load() -> Result<Registration<Hello>, Errno> {
//! // /dev/hello, root:wheel 0600 (the defaults).
//! let dev = Registration::new(DeviceOptions::new(c"hello"), Hello)?;
//! # Ok(dev) }
//! ```
//!
//! # Lifetime: a method never sees freed data
//!
//! [`Registration::new`] moves the device's data (`D`) and its `struct cdevsw` to the
//! kernel heap and passes their address as `si_drv1`; methods reach `D` only through it.
//! Dropping the registration calls `destroy_dev`, which (sys/kern/kern_conf.c
//! `destroy_devl`) removes the node, lets no new method start, **waits until running
//! methods have returned** (`si_threadcount`), runs the cdevpriv destructors of files still
//! open (each drops its [`CharDevice::File`]) and clears `si_drv1`; only then is `D`
//! freed. Later calls on files still open get `ENXIO` from devfs without reaching the
//! module.
//!
//! Keep the registration in the module's state (see [`module`](mod@crate::module)): `MOD_UNLOAD` drops
//! it. A method cannot drop its own registration: methods get `&D`, and `D` cannot contain
//! the registration that owns it, while nothing gives methods the module state.
//!
//! **Dropping sleeps** (`destroy_dev` waits): never drop a registration with a lock held
//! (a lock a method takes would deadlock; WITNESS reports any lock held), nor from a method
//! of the same device (`destroy_dev` would wait for itself).
//!
//! If a registration is leaked (`mem::forget`), the module refuses `MOD_UNLOAD` with
//! `EBUSY` ([`live_devices`]): the device would call into unloaded code.
//!
//! # poll(2)
//!
//! [`CharDevice::poll`] answers poll(2)/select(2) (`d_poll`); without it the device is
//! always readable and writable, as the kernel's `no_poll`. A device that makes pollers
//! wait keeps a [`SelInfo`] per condition in its data `D`: [`SelInfo::record`] it in `poll`
//! when the condition does not hold, [`SelInfo::wakeup`] it when it becomes true. Its
//! `Drop` runs `seldrain`, and `D` is dropped only after `destroy_dev` returned (see
//! Lifetime): no `d_poll` can record on it any more, every thread still asleep in poll(2)
//! is woken and unlinked before the memory is freed, and then gets a destroyed device's
//! answer (`POLLHUP`). See [`poll`](mod@poll).
//!
//! # Per-open state
//!
//! [`CharDevice::open`] returns the open file's state ([`CharDevice::File`]); it is
//! attached to the file with `devfs_set_cdevpriv` and reaches every later `read`, `write`
//! and `ioctl` on that file descriptor (and its `dup`s). Its destructor runs when the last
//! descriptor of that open file is closed, or at `destroy_dev`: it calls
//! [`CharDevice::release`]. Use it for per-descriptor cleanup: `d_close`
//! ([`CharDevice::close`]) runs only on the **last** close of the device (no
//! `D_TRACKCLOSE`).
//!
//! # Permissions
//!
//! devfs checks the node's owner, group and mode on every open(2) (`EACCES`), before the
//! module sees it. [`DeviceOptions::new`] defaults to `root:wheel 0600`, the convention
//! make_dev(9) drivers follow. Operations only root may do check the caller in the method:
//! [`Caller::priv_check`] with [`Privilege::DRIVER`] (`EPERM` otherwise, also for jailed
//! root).
//!
//! # Contexts
//!
//! | call | may sleep | where |
//! |---|---|---|
//! | [`Registration::new`] | yes (`M_WAITOK`, `make_dev_s` without `MAKEDEV_NOWAIT`) | `MOD_LOAD` or another sleepable thread context, no lock held |
//! | drop of [`Registration`] | yes (`destroy_dev`) | sleepable context, **no lock held**, not from the device's own methods |
//! | [`CharDevice`] methods | they run in the calling process's thread and may sleep | called by devfs, concurrently from many threads |
//! | [`IoDest`]/[`IoSource`] copies, [`UserSliceReader`]/[`UserSliceWriter`] | yes (page faults) | inside the method, no [`Mutex`](crate::sync::Mutex) held (an [`SxLock`](crate::sync::SxLock) is fine) |
//! | [`Caller::priv_check`] | no | inside the method |
//! | [`SelInfo::record`] / [`SelInfo::wakeup`] / drop of [`SelInfo`] | no (take a default mutex) | `record` inside [`CharDevice::poll`]; no spin mutex held |

/// The calling thread: moved to [`crate::caller`] (shared with sysctl handlers); still
/// reachable here.
pub use crate::caller;
pub mod ioctl;
pub mod poll;
pub mod uio;

pub use caller::{Caller, Privilege, UserSlice, UserSliceReader, UserSliceWriter};
pub use ioctl::{Ioctl, IoctlArg, IoctlRequest};
pub use poll::{PollContext, PollEvents, SelInfo};
pub use uio::{IoDest, IoSource};

use crate::errno::{ENODEV, ENOTTY, ENXIO, Errno, from_result, to_result};
use crate::heap::{KBox, M_RUST};
use crate::kernel::Kernel;
use crate::malloc::Flags;
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_char, c_int, c_ulong, c_void};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicUsize, Ordering};
use freebsd_kpi::common::conf::{
    D_VERSION, GID_WHEEL, MAKEDEV_CHECKNAME, MAKEDEV_WAITOK, UID_ROOT, cdev, cdevsw, make_dev_args,
};
use freebsd_kpi::common::kthread::thread;
use freebsd_kpi::common::uio::uio as raw_uio;
use freebsd_kpi::kpi_cdev::KpiCdev;

/// A character device's behaviour. One value serves every open of the device,
/// concurrently (hence `Sync`); per-open state is [`CharDevice::File`].
///
/// Every method runs in the thread of the process that made the system call and may
/// sleep. Errors are errno values returned to that process.
pub trait CharDevice: Send + Sync + Sized + 'static {
    /// Per-open state (`()` if none): created by [`open`](Self::open), dropped through
    /// [`release`](Self::release) when the open file is closed.
    type File: Send + Sync + 'static;

    /// `d_open`: every open(2) of the node, after devfs checked the mode. `flags` are the
    /// open flags (`FREAD` 1, `FWRITE` 2, ...).
    fn open(&self, caller: &Caller<'_>, flags: c_int) -> Result<Self::File, Errno>;

    /// The cdevpriv destructor: the open file was closed (its last descriptor) or the
    /// device destroyed. Defaults to dropping `file`.
    fn release(&self, file: Self::File) {
        drop(file);
    }

    /// `d_close`: the **last** close of the device (all files). Defaults to `Ok`.
    fn close(&self, caller: &Caller<'_>, flags: c_int) -> Result<(), Errno> {
        let _ = (caller, flags);
        Ok(())
    }

    /// `d_read`: copy data to `to` (starting at `to.offset()`). Returning `Ok` after
    /// copying nothing is end of file. Defaults to `Err(ENODEV)`.
    fn read(&self, file: &Self::File, to: &mut IoDest<'_>, ioflag: c_int) -> Result<(), Errno> {
        let _ = (file, to, ioflag);
        Err(ENODEV)
    }

    /// `d_write`: take data from `from`. Bytes left in `from` are reported to the writer
    /// as a short write. Defaults to `Err(ENODEV)`.
    fn write(&self, file: &Self::File, from: &mut IoSource<'_>, ioflag: c_int) -> Result<(), Errno> {
        let _ = (file, from, ioflag);
        Err(ENODEV)
    }

    /// `d_ioctl`: match `request` against the device's [`Ioctl`] commands with
    /// [`IoctlRequest::arg`]; `Err(ENOTTY)` for commands it does not know (the default).
    fn ioctl(&self, file: &Self::File, request: &mut IoctlRequest<'_>, caller: &Caller<'_>) -> Result<(), Errno> {
        let _ = (file, request, caller);
        Err(ENOTTY)
    }

    /// `d_poll`: poll(2), select(2) on the device. Answer the `events` that are ready now;
    /// for those that are not, [`SelInfo::record`] the selinfo that your code
    /// [`SelInfo::wakeup`]s when they become ready (see [`poll`](mod@poll)). Must not sleep
    /// for long: it runs inside poll(2), before the kernel's own sleep. The default answers
    /// like the kernel for a device without `d_poll` (kern_conf.c `no_poll`):
    /// [`PollEvents::no_poll`], read and write always ready.
    fn poll(&self, file: &Self::File, events: PollEvents, ctx: &PollContext<'_>) -> PollEvents {
        let _ = (file, ctx);
        events.no_poll()
    }
}

/// Name, owner and mode of a device node.
#[derive(Clone, Copy, Debug)]
pub struct DeviceOptions {
    name: &'static CStr,
    uid: u32,
    gid: u32,
    mode: u16,
}

impl DeviceOptions {
    /// `/dev/<name>` owned by `root:wheel`, mode `0600` (read and write for root only):
    /// make_dev(9)'s usual `UID_ROOT, GID_WHEEL, 0600`. `name` may contain `/` for a
    /// subdirectory.
    pub const fn new(name: &'static CStr) -> Self {
        DeviceOptions { name, uid: UID_ROOT, gid: GID_WHEEL, mode: 0o600 }
    }

    /// Owner and group (`mda_uid`, `mda_gid`).
    pub const fn owner(self, uid: u32, gid: u32) -> Self {
        DeviceOptions { uid, gid, ..self }
    }

    /// Permission bits (`mda_mode`, masked to `0o7777`).
    pub const fn mode(self, mode: u16) -> Self {
        DeviceOptions { mode: mode & 0o7777, ..self }
    }

    /// The node's name.
    pub const fn name(&self) -> &'static CStr {
        self.name
    }
}

/// What `si_drv1` points at: the device switch and the driver's data.
struct Inner<D: CharDevice> {
    devsw: UnsafeCell<cdevsw>,
    open_files: AtomicUsize,
    data: D,
}

/// One open file's cdevpriv: its state and the device it belongs to.
struct OpenFile<D: CharDevice> {
    file: D::File,
    inner: *const Inner<D>,
}

/// Registrations alive (created and not dropped) in this module.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many [`Registration`]s of this module exist: non-zero after `MOD_UNLOAD` dropped the
/// state means one was leaked, and the module refuses to unload.
pub fn live_devices() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// A device node under `/dev` serving a [`CharDevice`]; dropping it destroys the node
/// (`destroy_dev`: **sleeps** until no method runs; never with a lock held).
///
/// # Invariants
/// `dev` was made by `make_dev_s` with `si_drv1 == inner` and `mda_devsw == &inner.devsw`,
/// and is destroyed only by `Drop`, which frees `inner` (allocated from `M_RUST`) after
/// `destroy_dev` returned. `LIVE` counts this value.
pub struct Registration<D: CharDevice> {
    inner: NonNull<Inner<D>>,
    dev: *mut cdev,
}

// SAFETY: the registration only shares `&D` (D: Sync) and drops `D` (D: Send) on whichever
// thread drops it; `dev` is a kernel object any thread may destroy.
unsafe impl<D: CharDevice> Send for Registration<D> {}
// SAFETY: `&Registration` gives `&D` only.
unsafe impl<D: CharDevice> Sync for Registration<D> {}

impl<D: CharDevice> Registration<D> {
    /// Creates `/dev/<name>` served by `data` (`make_dev_s` with `MAKEDEV_CHECKNAME |
    /// MAKEDEV_WAITOK`). **May sleep.** `Err(EEXIST)` if the name is taken, `EINVAL` for a
    /// bad name, `ENOMEM`; `data` is dropped on error.
    pub fn new(options: DeviceOptions, data: D) -> Result<Self, Errno> {
        let devsw = cdevsw {
            d_version: D_VERSION,
            d_flags: 0,
            d_name: options.name.as_ptr(),
            d_open: Some(d_open::<D>),
            d_fdopen: ptr::null_mut(),
            d_close: Some(d_close::<D>),
            d_read: Some(d_read::<D>),
            d_write: Some(d_write::<D>),
            d_ioctl: Some(d_ioctl::<D>),
            d_poll: Some(d_poll::<D>),
            d_mmap: ptr::null_mut(),
            d_strategy: ptr::null_mut(),
            _spare88: ptr::null_mut(),
            d_kqfilter: ptr::null_mut(),
            d_purge: ptr::null_mut(),
            d_mmap_single: ptr::null_mut(),
            _spare120: [0; 3],
            _spare136: [ptr::null_mut(); 3],
            d_devs: ptr::null_mut(),
            _spare168: 0,
            _giant176: ptr::null_mut(),
        };
        let inner = KBox::try_new(Inner { devsw: UnsafeCell::new(devsw), open_files: AtomicUsize::new(0), data }, Flags::WAITOK)?;
        let (inner, _) = KBox::into_raw(inner);
        // SAFETY: `into_raw` never returns null.
        let inner = unsafe { NonNull::new_unchecked(inner) };
        // SAFETY: an all-zero make_dev_args is valid; make_dev_args_init fills it anyway.
        let mut args: make_dev_args = unsafe { core::mem::zeroed() };
        // SAFETY: `args` is a local, valid for writes.
        unsafe { Kernel::make_dev_args_init(&mut args) };
        args.mda_flags = MAKEDEV_CHECKNAME | MAKEDEV_WAITOK;
        // SAFETY: `inner` is live; the kernel owns the cdevsw's bookkeeping fields from here
        // on (UnsafeCell), and it outlives the device (freed after destroy_dev).
        args.mda_devsw = unsafe { (*inner.as_ptr()).devsw.get() };
        args.mda_uid = options.uid;
        args.mda_gid = options.gid;
        args.mda_mode = c_int::from(options.mode);
        args.mda_si_drv1 = inner.as_ptr().cast();
        let mut dev: *mut cdev = ptr::null_mut();
        // SAFETY: `args` is initialised, its devsw outlives the device; the name is a C string
        // passed as the "%s" argument.
        let error = unsafe { Kernel::make_dev_s(&mut args, &mut dev, options.name.as_ptr()) };
        if let Err(e) = to_result(error) {
            // SAFETY: no device was made: nothing else saw `inner`; it came from `M_RUST`.
            drop(unsafe { KBox::<Inner<D>>::from_raw(inner.as_ptr(), &M_RUST) });
            return Err(e);
        }
        LIVE.fetch_add(1, Ordering::AcqRel);
        // INVARIANT: made by make_dev_s with si_drv1 == inner; counted in LIVE.
        Ok(Registration { inner, dev })
    }

    /// The device's data (also what its methods see).
    pub fn data(&self) -> &D {
        // SAFETY: `inner` lives until Drop (invariant).
        unsafe { &self.inner.as_ref().data }
    }

    /// Open files of this device whose [`CharDevice::File`] was not yet released: use it to
    /// refuse `MOD_QUIESCE` with `EBUSY` while the device is in use.
    pub fn open_files(&self) -> usize {
        // SAFETY: as above.
        unsafe { self.inner.as_ref().open_files.load(Ordering::Acquire) }
    }
}

impl<D: CharDevice> Drop for Registration<D> {
    fn drop(&mut self) {
        // SAFETY: `dev` is live and destroyed once, here (invariant); the API gives methods no
        // way to reach the registration, so this is not one of its own methods.
        unsafe { Kernel::destroy_dev(self.dev) };
        // SAFETY: destroy_dev returned: no method runs or will run, every cdevpriv
        // destructor ran; `inner` came from M_RUST (invariant).
        drop(unsafe { KBox::<Inner<D>>::from_raw(self.inner.as_ptr(), &M_RUST) });
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The data behind `dev`, or ENXIO once destroy_dev cleared `si_drv1`.
///
/// # Safety
/// `dev` is the device of the current method, made by [`Registration::new`] for `D`.
unsafe fn inner<'a, D: CharDevice>(dev: *mut cdev) -> Result<&'a Inner<D>, Errno> {
    // SAFETY: `dev` is live during its method; si_drv1 is at its cited offset (168).
    let p = unsafe { (*dev).si_drv1 }.cast::<Inner<D>>();
    // SAFETY: a non-null si_drv1 is the Inner the registration keeps alive until
    // destroy_dev has waited for this method.
    unsafe { p.as_ref() }.ok_or(ENXIO)
}

/// The current file's [`CharDevice::File`].
///
/// # Safety
/// Called from a method of a device made by [`Registration::new`] for `D`.
unsafe fn current_file<'a, D: CharDevice>() -> Result<&'a D::File, Errno> {
    if core::mem::size_of::<D::File>() == 0 {
        // A zero-sized File has no data to look up: every file reaching a method was opened
        // by d_open, which created its File (and attached it, for release and counting),
        // so a dangling, aligned reference stands for it without a devfs_get_cdevpriv call.
        // SAFETY: any aligned non-null pointer is a valid reference to a zero-sized value.
        return Ok(unsafe { NonNull::<D::File>::dangling().as_ref() });
    }
    let mut p: *mut c_void = ptr::null_mut();
    // SAFETY: `p` is valid for writes; we are in a device method.
    to_result(unsafe { Kernel::devfs_get_cdevpriv(&mut p) })?;
    // SAFETY: d_open set it to an OpenFile<D> that lives until its destructor, which does
    // not run while a method of this file runs (devfs holds the file).
    let open = unsafe { p.cast::<OpenFile<D>>().as_ref() }.ok_or(ENXIO)?;
    Ok(&open.file)
}

/// cdevpriv destructor: drops the open file's state.
unsafe extern "C" fn release_file<D: CharDevice>(p: *mut c_void) {
    // SAFETY: `p` is the OpenFile<D> d_open boxed from M_RUST; the kernel calls this once.
    let open = unsafe { KBox::<OpenFile<D>>::from_raw(p.cast(), &M_RUST) };
    let OpenFile { file, inner } = KBox::into_inner(open);
    // SAFETY: destructors run before destroy_dev returns, so `inner` is still alive.
    let inner = unsafe { &*inner };
    inner.data.release(file);
    inner.open_files.fetch_sub(1, Ordering::AcqRel);
}

unsafe extern "C" fn d_open<D: CharDevice>(dev: *mut cdev, oflags: c_int, _devtype: c_int, td: *mut thread) -> c_int {
    // SAFETY: devfs calls d_open with its device, made by Registration::new for D.
    let inner = match unsafe { inner::<D>(dev) } {
        Ok(i) => i,
        Err(e) => return e.get(),
    };
    // SAFETY: `td` is the calling thread.
    let caller = unsafe { Caller::<Kernel>::new(td) };
    let file = match inner.data.open(&caller, oflags) {
        Ok(f) => f,
        Err(e) => return e.get(),
    };
    inner.open_files.fetch_add(1, Ordering::AcqRel);
    let open = match KBox::try_new(OpenFile::<D> { file, inner }, Flags::WAITOK) {
        Ok(b) => b,
        Err(e) => {
            inner.open_files.fetch_sub(1, Ordering::AcqRel);
            return e.get();
        }
    };
    let (p, _) = KBox::into_raw(open);
    // SAFETY: in d_open of this file; release_file::<D> frees exactly this box once.
    let error = unsafe { Kernel::devfs_set_cdevpriv(p.cast(), release_file::<D>) };
    if error != 0 {
        // SAFETY: not attached: we still own it.
        unsafe { release_file::<D>(p.cast()) };
    }
    error
}

unsafe extern "C" fn d_close<D: CharDevice>(dev: *mut cdev, fflag: c_int, _devtype: c_int, td: *mut thread) -> c_int {
    // SAFETY: devfs calls d_close with its device, made by Registration::new for D.
    match unsafe { inner::<D>(dev) } {
        Ok(inner) => {
            // SAFETY: `td` is the calling thread.
            let caller = unsafe { Caller::<Kernel>::new(td) };
            from_result(inner.data.close(&caller, fflag))
        }
        Err(e) => e.get(),
    }
}

unsafe extern "C" fn d_read<D: CharDevice>(dev: *mut cdev, uio: *mut raw_uio, ioflag: c_int) -> c_int {
    let run = || -> Result<(), Errno> {
        // SAFETY: devfs calls d_read with its device, made by Registration::new for D.
        let inner = unsafe { inner::<D>(dev)? };
        // SAFETY: in a method of that device.
        let file = unsafe { current_file::<D>()? };
        // SAFETY: the caller's live uio, used by this call only.
        let mut to = unsafe { IoDest::<Kernel>::new(uio)? };
        inner.data.read(file, &mut to, ioflag)
    };
    from_result(run())
}

unsafe extern "C" fn d_write<D: CharDevice>(dev: *mut cdev, uio: *mut raw_uio, ioflag: c_int) -> c_int {
    let run = || -> Result<(), Errno> {
        // SAFETY: devfs calls d_write with its device, made by Registration::new for D.
        let inner = unsafe { inner::<D>(dev)? };
        // SAFETY: in a method of that device.
        let file = unsafe { current_file::<D>()? };
        // SAFETY: the caller's live uio, used by this call only.
        let mut from = unsafe { IoSource::<Kernel>::new(uio)? };
        inner.data.write(file, &mut from, ioflag)
    };
    from_result(run())
}

unsafe extern "C" fn d_ioctl<D: CharDevice>(dev: *mut cdev, cmd: c_ulong, data: *mut c_char, fflag: c_int, td: *mut thread) -> c_int {
    let run = || -> Result<(), Errno> {
        // SAFETY: devfs calls d_ioctl with its device, made by Registration::new for D.
        let inner = unsafe { inner::<D>(dev)? };
        // SAFETY: in a method of that device.
        let file = unsafe { current_file::<D>()? };
        // SAFETY: `td` is the calling thread.
        let caller = unsafe { Caller::<Kernel>::new(td) };
        // SAFETY: `data` is the kernel's copy of the argument for `cmd` (sys_generic.c
        // kern_ioctl: IOCPARM_LEN(cmd) bytes, 8-aligned, initialised), ours for this call.
        let mut request = unsafe { IoctlRequest::new(cmd, data, fflag) };
        inner.data.ioctl(file, &mut request, &caller)
    };
    from_result(run())
}

unsafe extern "C" fn d_poll<D: CharDevice>(dev: *mut cdev, events: c_int, td: *mut thread) -> c_int {
    let run = || -> Result<PollEvents, Errno> {
        // SAFETY: devfs calls d_poll with its device, made by Registration::new for D.
        let inner = unsafe { inner::<D>(dev)? };
        // SAFETY: in a method of that device.
        let file = unsafe { current_file::<D>()? };
        // SAFETY: `td` is the thread of this d_poll call; the context lives for the call.
        let ctx = unsafe { PollContext::new(td) };
        Ok(inner.data.poll(file, PollEvents::from_bits(events), &ctx))
    };
    // d_poll answers events, not an errno: a method of a device always finds its data and
    // file (devfs does not call a destroyed device; d_open attached the file's state), so
    // an error here cannot happen; answer it as invalid, as poll(2) does for a bad descriptor.
    match run() {
        Ok(revents) => revents.bits(),
        Err(_) => PollEvents::NVAL.bits(),
    }
}

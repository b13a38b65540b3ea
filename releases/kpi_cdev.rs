//! [`KpiCdev`]: the character-device, uio, copyin/copyout and privilege services the safe
//! crate's `cdev` module is built on, as a trait implemented once per release (the real
//! functions) and by the facade's mock kernel in its unit tests.
//!
//! Every method calls the function it names (`common/conf.rs`, `common/uio.rs`,
//! `common/priv.rs`, `common/selinfo.rs`); `make_dev_args_init(a)` is the macro's expansion
//! `make_dev_args_init_impl(a, sizeof(struct make_dev_args))`.

use crate::common::conf::{self, cdev, make_dev_args};
use crate::common::kthread::thread;
use crate::common::r#priv;
use crate::common::selinfo::{self as sel, selinfo};
use crate::common::uio::{self as uioh, uio};
use crate::kpi::Kpi;
use core::ffi::{c_int, c_void};

/// Character devices, uio and privileges.
///
/// # Safety
///
/// Implementations behave like the FreeBSD functions each method names: `destroy_dev`
/// returns only when no method of the device runs any more and every cdevpriv destructor
/// has run; `uiomove` moves at most `min(n, uio_resid)` bytes in the uio's direction.
pub unsafe trait KpiCdev: Kpi {
    /// `make_dev_args_init(args)`.
    ///
    /// # Safety
    /// `args` is valid for writes.
    unsafe fn make_dev_args_init(args: *mut make_dev_args) {
        // SAFETY: as documented; the size is the struct's (checked against the headers).
        unsafe { conf::make_dev_args_init_impl(args, core::mem::size_of::<make_dev_args>()) }
    }
    /// `make_dev_s(args, cdev, "%s", name)`: the name is passed as an argument, never as the
    /// format. May sleep unless `MAKEDEV_NOWAIT`.
    ///
    /// # Safety
    /// `args` is initialised and its `mda_devsw` outlives the device; `name` is a C string.
    unsafe fn make_dev_s(args: *mut make_dev_args, out: *mut *mut cdev, name: *const core::ffi::c_char) -> c_int {
        // SAFETY: as documented; "%s" consumes exactly the one string argument.
        unsafe { conf::make_dev_s(args, out, c"%s".as_ptr(), name) }
    }
    /// `destroy_dev(dev)`: sleeps until no method runs.
    ///
    /// # Safety
    /// `dev` is a live device made by `make_dev_s`, destroyed once, not from one of its own
    /// methods, with no lock held.
    unsafe fn destroy_dev(dev: *mut cdev) {
        // SAFETY: as documented.
        unsafe { conf::destroy_dev(dev) }
    }
    /// `devfs_set_cdevpriv(data, dtr)`.
    ///
    /// # Safety
    /// Called from a device method of the current file; `dtr(data)` is sound once.
    unsafe fn devfs_set_cdevpriv(data: *mut c_void, dtr: unsafe extern "C" fn(*mut c_void)) -> c_int {
        // SAFETY: as documented.
        unsafe { conf::devfs_set_cdevpriv(data, Some(dtr)) }
    }
    /// `devfs_get_cdevpriv(&data)`.
    ///
    /// # Safety
    /// `datap` is valid for writes; called from a device method.
    unsafe fn devfs_get_cdevpriv(datap: *mut *mut c_void) -> c_int {
        // SAFETY: as documented.
        unsafe { conf::devfs_get_cdevpriv(datap) }
    }
    /// `uiomove(cp, n, uio)`.
    ///
    /// # Safety
    /// `uio` is the live uio of the current method; `cp` is valid for `n` bytes of reads
    /// (`UIO_READ`) or writes (`UIO_WRITE`), and not otherwise aliased for writes.
    unsafe fn uiomove(cp: *mut c_void, n: c_int, uio: *mut uio) -> c_int {
        // SAFETY: as documented.
        unsafe { uioh::uiomove(cp, n, uio) }
    }
    /// `copyin(uaddr, kaddr, len)`: 0 or EFAULT.
    ///
    /// # Safety
    /// `kaddr` is valid for `len` bytes of writes; called on the thread whose address space
    /// `uaddr` belongs to.
    unsafe fn copyin(uaddr: *const c_void, kaddr: *mut c_void, len: usize) -> c_int {
        // SAFETY: as documented (copyin checks the user range itself).
        unsafe { uioh::copyin(uaddr, kaddr, len) }
    }
    /// `copyout(kaddr, uaddr, len)`: 0 or EFAULT.
    ///
    /// # Safety
    /// `kaddr` is valid for `len` bytes of reads; called on the thread whose address space
    /// `uaddr` belongs to.
    unsafe fn copyout(kaddr: *const c_void, uaddr: *mut c_void, len: usize) -> c_int {
        // SAFETY: as documented.
        unsafe { uioh::copyout(kaddr, uaddr, len) }
    }
    /// `priv_check(td, privilege)`: 0 or EPERM.
    ///
    /// # Safety
    /// `td` is the calling thread.
    unsafe fn priv_check(td: *mut thread, privilege: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { r#priv::priv_check(td, privilege) }
    }
    /// `selrecord(td, sip)`: queues the polling thread `td` on `sip`. Takes a default
    /// mutex; does not sleep.
    ///
    /// # Safety
    /// Called from `d_poll` with its `td`; `sip` is a live selinfo that stays at this
    /// address until `seldrain` ran on it.
    unsafe fn selrecord(td: *mut thread, sip: *mut selinfo) {
        // SAFETY: as documented.
        unsafe { sel::selrecord(td, sip) }
    }
    /// `selwakeup(sip)`: wakes the threads queued on `sip`. Takes a default mutex; does not
    /// sleep.
    ///
    /// # Safety
    /// `sip` is a live selinfo (zeroed or used by `selrecord` only).
    unsafe fn selwakeup(sip: *mut selinfo) {
        // SAFETY: as documented.
        unsafe { sel::selwakeup(sip) }
    }
    /// `seldrain(sip)`: wakes and unlinks every thread queued on `sip`; afterwards no
    /// thread refers to it.
    ///
    /// # Safety
    /// `sip` is a live selinfo.
    unsafe fn seldrain(sip: *mut selinfo) {
        // SAFETY: as documented.
        unsafe { sel::seldrain(sip) }
    }
}

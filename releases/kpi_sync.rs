//! [`KpiSync`]: the lock, sleep and kernel-thread services the safe crate is built on, as a
//! trait implemented once per release (the real functions) and by the facade's mock kernel.
//!
//! Every method calls the function a FreeBSD macro expands to in a module (`KLD_MODULE`,
//! `LOCK_DEBUG` 1), with the caller's file and line where the macro passes them:
//! `mtx_lock(m)` is `__mtx_lock_flags(&m->mtx_lock, 0, __FILE__, __LINE__)`, `msleep` is
//! `_sleep`, `cv_wait` is `_cv_wait(cvp, &lock->lock_object)` (see `common/mutex.rs`,
//! `common/sx.rs`, `common/condvar.rs`, `common/systm.rs`).

use crate::common::condvar::{self, cv};
use crate::common::kthread::{self, thread};
use crate::common::lock::lock_object;
use crate::common::mutex::{self, mtx};
use crate::common::sx::{self as sxh, sx};
use crate::common::time::sbintime_t;
use crate::kpi::Kpi;
use core::ffi::{c_char, c_int, c_void};

/// The thread entry point `kthread_add` runs: `func(arg)`.
pub type KthreadFn = unsafe extern "C" fn(*mut c_void);

/// Locks, sleeps and kernel threads.
///
/// # Safety
///
/// Implementations behave like the FreeBSD functions each method names (lock semantics,
/// sleeps that release and reacquire the interlock, `kthread_exit` never returning).
pub unsafe trait KpiSync: Kpi {
    /// `mtx_init(m, name, type, opts)`.
    ///
    /// # Safety
    /// `m` is valid, not initialised (or `MTX_NEW`), and stays at this address until
    /// `mtx_destroy`; `name` and `type_` (may be null) outlive the mutex.
    unsafe fn mtx_init(m: *mut mtx, name: *const c_char, type_: *const c_char, opts: c_int) {
        // SAFETY: the caller upholds mtx_init's contract; `&raw mut` takes the lock word's
        // address without creating a reference.
        unsafe { mutex::_mtx_init(&raw mut (*m).mtx_lock, name, type_, opts) }
    }
    /// `mtx_destroy(m)`.
    ///
    /// # Safety
    /// `m` is an initialised, unowned (or owned by the caller) mutex nobody waits for.
    unsafe fn mtx_destroy(m: *mut mtx) {
        // SAFETY: as documented.
        unsafe { mutex::_mtx_destroy(&raw mut (*m).mtx_lock) }
    }
    /// `mtx_lock(m)` of an `MTX_DEF` mutex, as called from `file:line` (`file` a static C
    /// string).
    ///
    /// # Safety
    /// `m` is an initialised `MTX_DEF` mutex; the caller may block.
    unsafe fn mtx_lock(m: *mut mtx, file: *const c_char, line: c_int) {
        // SAFETY: as documented.
        unsafe { mutex::__mtx_lock_flags(&raw mut (*m).mtx_lock, 0, file, line) }
    }
    /// `mtx_trylock(m)`: non-zero when acquired.
    ///
    /// # Safety
    /// `m` is an initialised `MTX_DEF` mutex.
    unsafe fn mtx_trylock(m: *mut mtx, file: *const c_char, line: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { mutex::_mtx_trylock_flags_(&raw mut (*m).mtx_lock, 0, file, line) }
    }
    /// `mtx_unlock(m)`.
    ///
    /// # Safety
    /// The calling thread owns the `MTX_DEF` mutex `m`.
    unsafe fn mtx_unlock(m: *mut mtx, file: *const c_char, line: c_int) {
        // SAFETY: as documented.
        unsafe { mutex::__mtx_unlock_flags(&raw mut (*m).mtx_lock, 0, file, line) }
    }
    /// `mtx_lock_spin(m)`.
    ///
    /// # Safety
    /// `m` is an initialised `MTX_SPIN` mutex.
    unsafe fn mtx_lock_spin(m: *mut mtx, file: *const c_char, line: c_int) {
        // SAFETY: as documented.
        unsafe { mutex::__mtx_lock_spin_flags(&raw mut (*m).mtx_lock, 0, file, line) }
    }
    /// `mtx_unlock_spin(m)`.
    ///
    /// # Safety
    /// The calling thread owns the `MTX_SPIN` mutex `m`.
    unsafe fn mtx_unlock_spin(m: *mut mtx, file: *const c_char, line: c_int) {
        // SAFETY: as documented.
        unsafe { mutex::__mtx_unlock_spin_flags(&raw mut (*m).mtx_lock, 0, file, line) }
    }

    /// `sx_init_flags(sx, description, opts)`.
    ///
    /// # Safety
    /// As [`KpiSync::mtx_init`].
    unsafe fn sx_init(s: *mut sx, description: *const c_char, opts: c_int) {
        // SAFETY: as documented.
        unsafe { sxh::sx_init_flags(s, description, opts) }
    }
    /// `sx_destroy(sx)`.
    ///
    /// # Safety
    /// `s` is initialised and unlocked.
    unsafe fn sx_destroy(s: *mut sx) {
        // SAFETY: as documented.
        unsafe { sxh::sx_destroy(s) }
    }
    /// `sx_xlock(sx)` (`opts` 0) or `sx_xlock_sig(sx)` (`SX_INTERRUPTIBLE`): 0 or an errno.
    ///
    /// # Safety
    /// `s` is initialised; the caller may sleep.
    unsafe fn sx_xlock(s: *mut sx, opts: c_int, file: *const c_char, line: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { sxh::_sx_xlock(s, opts, file, line) }
    }
    /// `sx_xunlock(sx)`.
    ///
    /// # Safety
    /// The calling thread holds `s` exclusively.
    unsafe fn sx_xunlock(s: *mut sx, file: *const c_char, line: c_int) {
        // SAFETY: as documented.
        unsafe { sxh::_sx_xunlock(s, file, line) }
    }
    /// `sx_slock(sx)` / `sx_slock_sig(sx)`: 0 or an errno.
    ///
    /// # Safety
    /// `s` is initialised; the caller may sleep.
    unsafe fn sx_slock(s: *mut sx, opts: c_int, file: *const c_char, line: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { sxh::_sx_slock(s, opts, file, line) }
    }
    /// `sx_sunlock(sx)`.
    ///
    /// # Safety
    /// The calling thread holds `s` shared.
    unsafe fn sx_sunlock(s: *mut sx, file: *const c_char, line: c_int) {
        // SAFETY: as documented.
        unsafe { sxh::_sx_sunlock(s, file, line) }
    }

    /// `cv_init(cvp, desc)`.
    ///
    /// # Safety
    /// `c` is valid and stays put until `cv_destroy`; `desc` outlives it.
    unsafe fn cv_init(c: *mut cv, desc: *const c_char) {
        // SAFETY: as documented.
        unsafe { condvar::cv_init(c, desc) }
    }
    /// `cv_destroy(cvp)`.
    ///
    /// # Safety
    /// `c` is initialised and has no waiters.
    unsafe fn cv_destroy(c: *mut cv) {
        // SAFETY: as documented.
        unsafe { condvar::cv_destroy(c) }
    }
    /// `cv_wait(cvp, lock)`.
    ///
    /// # Safety
    /// `c` is initialised; the caller holds the sleepable lock `lock` and may sleep.
    unsafe fn cv_wait(c: *mut cv, lock: *mut lock_object) {
        // SAFETY: as documented.
        unsafe { condvar::_cv_wait(c, lock) }
    }
    /// `cv_wait_sig(cvp, lock)`: 0, EINTR or ERESTART.
    ///
    /// # Safety
    /// As [`KpiSync::cv_wait`].
    unsafe fn cv_wait_sig(c: *mut cv, lock: *mut lock_object) -> c_int {
        // SAFETY: as documented.
        unsafe { condvar::_cv_wait_sig(c, lock) }
    }
    /// `cv_timedwait_sbt(cvp, lock, sbt, pr, flags)`: 0 or EWOULDBLOCK.
    ///
    /// # Safety
    /// As [`KpiSync::cv_wait`].
    unsafe fn cv_timedwait_sbt(c: *mut cv, lock: *mut lock_object, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { condvar::_cv_timedwait_sbt(c, lock, sbt, pr, flags) }
    }
    /// `cv_timedwait_sig_sbt(cvp, lock, sbt, pr, flags)`: 0, EWOULDBLOCK, EINTR or ERESTART.
    ///
    /// # Safety
    /// As [`KpiSync::cv_wait`].
    unsafe fn cv_timedwait_sig_sbt(c: *mut cv, lock: *mut lock_object, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { condvar::_cv_timedwait_sig_sbt(c, lock, sbt, pr, flags) }
    }
    /// `cv_signal(cvp)`.
    ///
    /// # Safety
    /// `c` is initialised.
    unsafe fn cv_signal(c: *mut cv) {
        // SAFETY: as documented.
        unsafe { condvar::cv_signal(c) }
    }
    /// `cv_broadcastpri(cvp, pri)`.
    ///
    /// # Safety
    /// `c` is initialised.
    unsafe fn cv_broadcastpri(c: *mut cv, pri: c_int) {
        // SAFETY: as documented.
        unsafe { condvar::cv_broadcastpri(c, pri) }
    }

    /// `_sleep(chan, lock, pri, wmesg, sbt, pr, flags)` (msleep, sx_sleep, tsleep).
    ///
    /// # Safety
    /// `chan` is non-null; `lock` is null or a sleepable lock the caller holds; `wmesg`
    /// outlives the sleep; the caller may sleep.
    unsafe fn sleep(chan: *const c_void, lock: *mut lock_object, pri: c_int, wmesg: *const c_char, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { crate::common::systm::_sleep(chan, lock, pri, wmesg, sbt, pr, flags) }
    }
    /// `wakeup(chan)`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)] // a wait channel is an address, never read
    fn wakeup(chan: *const c_void) {
        // SAFETY: a channel is only compared, never dereferenced.
        unsafe { crate::common::systm::wakeup(chan) }
    }
    /// `wakeup_one(chan)`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)] // a wait channel is an address, never read
    fn wakeup_one(chan: *const c_void) {
        // SAFETY: a channel is only compared, never dereferenced.
        unsafe { crate::common::systm::wakeup_one(chan) }
    }
    /// `pause_sbt(wmesg, sbt, pr, flags)`.
    ///
    /// # Safety
    /// `wmesg` is a C string; the caller may sleep.
    unsafe fn pause_sbt(wmesg: *const c_char, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int {
        // SAFETY: as documented.
        unsafe { crate::common::systm::pause_sbt(wmesg, sbt, pr, flags) }
    }
    /// `tick_sbt`: the length of a clock tick.
    fn tick_sbt() -> sbintime_t {
        // SAFETY: a kernel variable set at boot; read without creating a reference.
        unsafe { core::ptr::read_volatile(&raw const crate::common::time::tick_sbt) }
    }
    /// `hz`: clock ticks per second.
    fn hz() -> c_int {
        // SAFETY: a kernel variable set at boot; read without creating a reference.
        unsafe { core::ptr::read_volatile(&raw const crate::common::kernel::hz) }
    }
    /// `ticks`: clock ticks since boot (wraps).
    fn ticks() -> c_int {
        // SAFETY: `volatile int ticks`, updated by hardclock: a volatile read.
        unsafe { core::ptr::read_volatile(&raw const crate::common::kernel::ticks) }
    }

    /// `kthread_add(func, arg, NULL, &td, 0, 0, "%s", name)`: a new kernel thread in
    /// `proc0` running `func(arg)`; its `struct thread *`, or an errno.
    ///
    /// # Safety
    /// `func(arg)` is sound to run on another thread and ends with `kthread_exit`; `name`
    /// is a C string (copied).
    unsafe fn kthread_add(func: KthreadFn, arg: *mut c_void, name: *const c_char) -> Result<*mut thread, c_int> {
        let mut td: *mut thread = core::ptr::null_mut();
        // SAFETY: as documented; "%s" with a C string argument.
        let error = unsafe {
            kthread::kthread_add(Some(func), arg, core::ptr::null_mut(), &mut td, 0, 0, c"%s".as_ptr(), name)
        };
        if error == 0 { Ok(td) } else { Err(error) }
    }
    /// `kthread_exit()`.
    ///
    /// # Safety
    /// Called on a kernel thread created by [`KpiSync::kthread_add`], holding no lock.
    unsafe fn kthread_exit() -> ! {
        // SAFETY: as documented.
        unsafe { kthread::kthread_exit() }
    }
}

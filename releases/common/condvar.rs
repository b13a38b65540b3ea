//! condvar(9): `struct cv` and its functions (`sys/sys/condvar.h`). The macros pass the
//! interlock's `lock_object`: `cv_wait(cvp, m)` is `_cv_wait(cvp, &(m)->lock_object)`,
//! `cv_timedwait(cvp, m, timo)` is `_cv_timedwait_sbt(cvp, &(m)->lock_object, tick_sbt *
//! timo, 0, C_HARDCLOCK)`, `cv_broadcast(cvp)` is `cv_broadcastpri(cvp, 0)`.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@5836bb2a `condvar.h`), 14.2 and 15.0
//! (probed).

use super::lock::lock_object;
use super::time::sbintime_t;
use core::ffi::{c_char, c_int};

/// `struct cv` (16 bytes).
#[repr(C)]
pub struct cv {
    /// `cv_description`: the wait message.
    pub cv_description: *const c_char,
    /// `cv_waiters`: protected by the interlock.
    pub cv_waiters: c_int,
}

abi_structs! {
    table CONDVAR_STRUCTS, header "sys/sys/condvar.h";
    cv = "struct cv", size 16, align 8, { cv_description: 0, cv_waiters: 8 };
}

kpi_functions! {
    table CONDVAR_FUNCTIONS, header "sys/sys/condvar.h";
    /// `cv_init(cvp, desc)`: `desc` is the wait message and must outlive the cv.
    pub fn cv_init(cvp: *mut cv, desc: *const c_char);
    /// `cv_destroy(cvp)`.
    pub fn cv_destroy(cvp: *mut cv);
    /// `cv_wait(cvp, lock)`: releases `lock`, sleeps, reacquires it.
    pub fn _cv_wait(cvp: *mut cv, lock: *mut lock_object);
    /// `cv_wait_sig(cvp, lock)`: 0, or EINTR/ERESTART when a signal interrupted the wait.
    pub fn _cv_wait_sig(cvp: *mut cv, lock: *mut lock_object) -> c_int;
    /// `cv_timedwait_sbt(cvp, lock, sbt, pr, flags)`: 0, or EWOULDBLOCK on timeout.
    pub fn _cv_timedwait_sbt(cvp: *mut cv, lock: *mut lock_object, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int;
    /// `cv_timedwait_sig_sbt(cvp, lock, sbt, pr, flags)`: 0, EWOULDBLOCK, EINTR or ERESTART.
    pub fn _cv_timedwait_sig_sbt(cvp: *mut cv, lock: *mut lock_object, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int;
    /// `cv_signal(cvp)`: wakes one waiter.
    pub fn cv_signal(cvp: *mut cv);
    /// `cv_broadcastpri(cvp, pri)` (`cv_broadcast(cvp)` passes 0): wakes every waiter.
    pub fn cv_broadcastpri(cvp: *mut cv, pri: c_int);
}

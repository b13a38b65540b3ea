//! Kernel threads (`sys/sys/kthread.h`). `struct proc` and `struct thread` are opaque to a
//! module (their layouts change between releases: FACTS.md section 4).
//!
//! `kthread_exit` never returns; it calls `wakeup(curthread)` first ("A module may be
//! waiting for us to exit", sys/kern/kern_kthread.c), which is how a module joins a thread
//! without running module code after the join returns.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `kthread.h`), 14.2 and 15.0
//! (probed).

use core::ffi::{c_char, c_int, c_void};

/// `struct proc` (opaque).
#[repr(C)]
pub struct proc {
    _opaque: [u8; 0],
}

/// `struct thread` (opaque).
#[repr(C)]
pub struct thread {
    _opaque: [u8; 0],
}

kpi_functions! {
    table KTHREAD_FUNCTIONS, header "sys/sys/kthread.h";
    /// `kthread_add(func, arg, p, newtdp, flags, pages, fmt, ...)`: a new thread running
    /// `func(arg)` in process `p` (NULL: `proc0`); 0 or an errno.
    pub fn kthread_add(func: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void, p: *mut proc, newtdp: *mut *mut thread, flags: c_int, pages: c_int, fmt: *const c_char, ...) -> c_int;
    /// `kproc_kthread_add(func, arg, procptr, tdptr, flags, pages, procname, fmt, ...)`: a
    /// new thread in `*procptr`, creating the process `procname` when `*procptr` is NULL.
    pub fn kproc_kthread_add(func: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void, procptr: *mut *mut proc, tdptr: *mut *mut thread, flags: c_int, pages: c_int, procname: *const c_char, fmt: *const c_char, ...) -> c_int;
    /// `kthread_exit()`: ends the calling kernel thread (after `wakeup(curthread)`).
    pub fn kthread_exit() -> !;
}

//! Kernel threads and processes (`sys/kern/kern_kthread.c`, `sys/sys/kthread.h`).
//!
//! * `kthread_add(func, arg, p, newtdp, flags, pages, fmt, ...)`: a new thread in process
//!   `p` (proc0 when NULL), named by the format, with a `pages`-page guarded kernel stack
//!   (`KSTACK_PAGES` = 4 when 0); `*newtdp` receives its `struct thread *`. It is put on the
//!   run queue (it runs when the creator blocks, yields or, with a seed, at a preemption
//!   point). `RFSTOPPED` is not supported (no `sched_add` later): the thread starts anyway.
//! * `kproc_kthread_add(func, arg, procptr, tdptr, flags, pages, procname, fmt, ...)`: the
//!   same in process `*procptr`, created (named `procname`) when `*procptr` is NULL.
//! * `kproc_create(func, arg, procptr, flags, pages, fmt, ...)`: a new process with one thread.
//! * `kthread_exit()`: `wakeup(td)` ("A module may be waiting for us to exit"), then the
//!   thread is gone; `kproc_exit(ecode)` also does `wakeup(p)`. WITNESS first checks that
//!   the thread holds no lock (`witness_thread_exit`).
//! * A thread function that returns exits the thread like `kthread_exit()`.
//! * `kthread_suspend_check()`/`kproc_suspend_check(p)` return at once (nothing asks a
//!   simulated thread to suspend; `kthread_suspend`/`kproc_suspend` are not provided).
//!
//! So a module joins a thread on unload by sleeping on it (`msleep(td, &mtx, ...)` with the
//! thread's stop request under `mtx`, or `tsleep(p, ...)` for a process), woken by the exit.
//! A flag or count the thread sets before exiting is not enough: the thread still returns
//! into the module's text and calls `kthread_exit` from it after the flag, and the file may
//! be freed by then. When the file is freed while a thread still has module code to run
//! (not exited, a return address into the file on its stack), the simulator reports it
//! (`kern_linker.rs`).

use super::kern_switch::{TState, exit_current, preempt, sched};
use super::panic::kernel_panic;
use super::printf::format;
use super::subr_witness::{self as witness, sym};
use super::{VaList, cstr, va_shim};
use crate::ksyms::KsymDef;

/// `KSTACK_PAGES` on amd64 (sys/amd64/include/param.h).
pub const KSTACK_PAGES: usize = 4;

fn name_from(fmt: usize, ap: &mut VaList) -> String {
    if fmt == 0 {
        return String::new();
    }
    // SAFETY: fmt is the module's format string; its arguments follow in `ap`.
    let b = unsafe { format(fmt as *const u8, ap) };
    // td_name is MAXCOMLEN + 1 = 20 bytes (sys/sys/proc.h).
    let mut s = String::from_utf8_lossy(&b).into_owned();
    s.truncate(19);
    s
}

fn start(func: usize, arg: usize, proc_addr: usize, proc_name: String, pid: i32, pages: i32, name: String) -> usize {
    let pages = if pages <= 0 { KSTACK_PAGES } else { pages as usize };
    let s = sched();
    let i = s.create(func, arg, name, proc_addr, proc_name, pid, pages);
    s.threads[i].td
}

fn proc_of(p: usize) -> (usize, String, i32) {
    let s = sched();
    if p == 0 || p == s.proc0() {
        return (s.proc0(), "kernel".into(), 0);
    }
    match s.threads.iter().find(|t| t.proc_addr == p) {
        Some(t) => (p, t.proc_name.clone(), t.pid),
        None => (p, "kernel".into(), 0),
    }
}

extern "C" fn kthread_add_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: gp holds the six register arguments, stack the caller's stack arguments
    // (fmt, then the format's arguments); stack[-1] is the return address.
    let (func, arg, p, newtdp, _flags, pages, name, caller) = unsafe {
        let mut ap = VaList::new(gp, 6, stack);
        let fmt = ap.next_u64() as usize;
        (*gp as usize, *gp.add(1) as usize, *gp.add(2) as usize, *gp.add(3) as usize, *gp.add(4) as i32, *gp.add(5) as i32, name_from(fmt, &mut ap), *stack.sub(1) as usize)
    };
    let _ = caller;
    preempt();
    let (pa, pname, pid) = proc_of(p);
    let td = start(func, arg, pa, pname, pid, pages, name);
    if newtdp != 0 {
        // SAFETY: the module's struct thread ** out-parameter.
        unsafe { (newtdp as *mut usize).write(td) };
    }
    preempt();
    0
}

extern "C" fn kproc_kthread_add_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: as in kthread_add_impl; stack[0] = procname, stack[1] = fmt.
    let (func, arg, procptr, tdptr, _flags, pages, procname, name) = unsafe {
        let mut ap = VaList::new(gp, 6, stack);
        let procname = cstr(ap.next_u64() as usize);
        let fmt = ap.next_u64() as usize;
        (*gp as usize, *gp.add(1) as usize, *gp.add(2) as usize, *gp.add(3) as usize, *gp.add(4) as i32, *gp.add(5) as i32, procname, name_from(fmt, &mut ap))
    };
    preempt();
    // SAFETY: procptr is the module's struct proc ** (in/out).
    let existing = if procptr != 0 { unsafe { (procptr as *const usize).read() } } else { 0 };
    let (pa, pname, pid) = if existing == 0 {
        let (pa, pid) = sched().new_proc();
        if procptr != 0 {
            // SAFETY: as above.
            unsafe { (procptr as *mut usize).write(pa) };
        }
        let mut n = procname;
        n.truncate(19);
        (pa, n, pid)
    } else {
        proc_of(existing)
    };
    let td = start(func, arg, pa, pname, pid, pages, name);
    if tdptr != 0 {
        // SAFETY: the module's struct thread ** out-parameter.
        unsafe { (tdptr as *mut usize).write(td) };
    }
    preempt();
    0
}

extern "C" fn kproc_create_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: as in kthread_add_impl; gp[5] = fmt.
    let (func, arg, procptr, _flags, pages, name) = unsafe {
        let mut ap = VaList::new(gp, 5, stack);
        let fmt = ap.next_u64() as usize;
        (*gp as usize, *gp.add(1) as usize, *gp.add(2) as usize, *gp.add(3) as i32, *gp.add(4) as i32, name_from(fmt, &mut ap))
    };
    preempt();
    let (pa, pid) = sched().new_proc();
    if procptr != 0 {
        // SAFETY: the module's struct proc ** out-parameter.
        unsafe { (procptr as *mut usize).write(pa) };
    }
    start(func, arg, pa, name.clone(), pid, pages, name);
    preempt();
    0
}

/// Exit the running kernel thread: WITNESS check, `wakeup(td)` (and `wakeup(p)` for
/// `kproc_exit`), never returns.
pub fn exit(caller: usize, wake_proc: bool) -> ! {
    let s = sched();
    if s.cur == 0 {
        kernel_panic(
            format!("kthread_exit called by a thread that is not a kernel thread (tid {})\n  offending call at {}\n", s.current().tid, sym(caller)),
            caller,
        );
    }
    witness::thread_exit(caller);
    let td = s.curthread();
    let p = s.current().proc_addr;
    s.wake_chan(td, false, false);
    if wake_proc {
        // The process exits with its last thread; kproc_exit() wakes sleepers on it.
        let others = s.threads.iter().enumerate().any(|(i, t)| i != s.cur && t.proc_addr == p && !matches!(t.state, TState::Exited));
        if !others {
            s.wake_chan(p, false, false);
        }
    }
    exit_current()
}

extern "C" fn k_kthread_exit_impl(gp: *const u64, stack: *const u64) -> u64 {
    let _ = gp;
    // SAFETY: stack[-1] is the return address of the module's call.
    let caller = unsafe { *stack.sub(1) as usize };
    exit(caller, false)
}

extern "C" fn k_kproc_exit_impl(gp: *const u64, stack: *const u64) -> u64 {
    let _ = gp;
    // SAFETY: as above.
    let caller = unsafe { *stack.sub(1) as usize };
    exit(caller, true)
}

/// `kthread_suspend_check()` / `kproc_suspend_check(p)`: nobody ever asks a simulated
/// thread to suspend (no `kthread_suspend`), so these only are preemption points.
extern "C" fn k_suspend_check() {
    preempt();
}

/// Called by `sim_thread_start` when a thread function returns.
pub extern "C" fn thread_returned() -> ! {
    exit(0, true)
}

va_shim!(sim_va_kthread_add, kthread_add_impl);
va_shim!(sim_va_kproc_kthread_add, kproc_kthread_add_impl);
va_shim!(sim_va_kproc_create, kproc_create_impl);
va_shim!(sim_kthread_exit, k_kthread_exit_impl);
va_shim!(sim_kproc_exit, k_kproc_exit_impl);

/// Register the kthread KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::variadic("kthread_add", sim_va_kthread_add as *const () as usize));
    v.push(KsymDef::variadic("kproc_kthread_add", sim_va_kproc_kthread_add as *const () as usize));
    v.push(KsymDef::variadic("kproc_create", sim_va_kproc_create as *const () as usize));
    v.push(KsymDef::function("kthread_exit", sim_kthread_exit as *const () as usize));
    v.push(KsymDef::function("kproc_exit", sim_kproc_exit as *const () as usize));
    v.push(KsymDef::function("kthread_suspend_check", k_suspend_check as *const () as usize));
    v.push(KsymDef::function("kproc_suspend_check", k_suspend_check as *const () as usize));
}

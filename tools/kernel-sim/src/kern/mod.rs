//! The simulated kernel programming interface: host implementations of the kernel functions
//! a module calls, plus the state they share.
//!
//! Host stubs run on the kernel stack, called from module code. They never keep a borrow of
//! the shared state across a call back into module code, and never hold a lock while touching
//! module memory: a fault aborts the call and abandons their frames without running
//! destructors (see `exec`).

pub mod devfs_vnops;
pub mod kern_clock;
pub mod kern_conf;
pub mod kern_condvar;
pub mod kern_environment;
pub mod kern_kthread;
pub mod kern_linker;
pub mod kern_mutex;
pub mod kern_priv;
pub mod kern_switch;
pub mod kern_sx;
pub mod kern_sysctl;
pub mod kern_synch;
pub mod kern_timeout;
pub mod libkern;
pub mod malloc;
pub mod module;
pub mod panic;
pub mod printf;
pub mod subr_eventhandler;
pub mod subr_lock;
pub mod subr_taskqueue;
pub mod subr_uio;
pub mod sys_generic;
pub mod subr_witness;
pub mod subr_pcpu;

use std::sync::atomic::{AtomicPtr, Ordering};

use crate::SimRelease;

/// State of the simulated kernel that the KPI stubs reach.
#[derive(Debug)]
pub struct KState {
    /// Everything printed on the console (printf, log, panic).
    pub console: String,
    /// What uprintf(9) wrote to the terminal of the process calling into the kernel
    /// (`kldload`/`kldunload`), kept apart from the console.
    pub terminal: String,
    /// The release being simulated.
    pub release: SimRelease,
    /// malloc(9) accounting.
    pub malloc: malloc::MallocState,
    /// Registered modules (`kern_module.c`).
    pub modules: module::ModuleRegistry,
    /// Panic messages so far.
    pub panics: Vec<String>,
    /// `(module, error)` of every failed `MOD_LOAD` so far (`module_register_init`).
    pub mod_load_errors: Vec<(String, i32)>,
    /// Also copy console output to the host's stderr.
    pub echo: bool,
    /// The callout wheel (`kern_timeout.rs`).
    pub timeout: kern_timeout::State,
    /// Taskqueues (`subr_taskqueue.rs`).
    pub taskq: subr_taskqueue::State,
    /// Event handler lists (`subr_eventhandler.rs`).
    pub evh: subr_eventhandler::State,
    /// devfs nodes (`kern_conf.rs`).
    pub devfs: kern_conf::Devfs,
    /// Simulated user processes (`crate::user`).
    pub user: crate::user::UserState,
    /// Threads in poll(2) and the selinfos they are queued on (`sys_generic.rs`).
    pub sel: sys_generic::SelState,
}

static KSTATE: AtomicPtr<KState> = AtomicPtr::new(std::ptr::null_mut());

/// Install the state of the booted kernel (one per process at a time).
pub(crate) fn install(st: *mut KState) -> bool {
    KSTATE.compare_exchange(std::ptr::null_mut(), st, Ordering::SeqCst, Ordering::SeqCst).is_ok()
}

/// Remove the state of the kernel being shut down.
pub(crate) fn uninstall(st: *mut KState) {
    let _ = KSTATE.compare_exchange(st, std::ptr::null_mut(), Ordering::SeqCst, Ordering::SeqCst);
}

/// Run `f` on the state. Keep the closure short: no calls into module code inside it.
pub(crate) fn with<R>(f: impl FnOnce(&mut KState) -> R) -> R {
    let p = KSTATE.load(Ordering::SeqCst);
    assert!(!p.is_null(), "kernel-sim: KPI called with no booted kernel");
    // SAFETY: p is the live KState owned by the booted Kernel; module code (and therefore the
    // stubs) runs on one thread at a time and never re-enters `with` inside `f`.
    f(unsafe { &mut *p })
}

/// Append text to the console.
pub(crate) fn console_write(bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    with(|k| {
        if k.echo {
            eprint!("{s}");
        }
        k.console.push_str(&s)
    });
}

/// Append text to the calling process's terminal (uprintf).
pub(crate) fn terminal_write(bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    with(|k| k.terminal.push_str(&s));
}

/// Iterator over C variadic arguments: the six integer argument registers spilled by a shim
/// (or a SysV `va_list` register save area), then the caller's stack arguments.
/// Modules are built soft-float (`-mno-sse -msoft-float`), so there are no vector arguments.
#[derive(Debug)]
pub struct VaList {
    gp: *const u64,
    idx: usize,
    stack: *const u64,
}

impl VaList {
    /// Arguments from a shim's register spill area, starting at register `first`.
    ///
    /// # Safety
    /// `gp` must point to 6 saved registers and `stack` to the caller's stack arguments.
    pub unsafe fn new(gp: *const u64, first: usize, stack: *const u64) -> VaList {
        VaList { gp, idx: first, stack }
    }

    /// Arguments from a SysV AMD64 `va_list` (`{u32 gp_offset; u32 fp_offset;
    /// void *overflow_arg_area; void *reg_save_area}`).
    ///
    /// # Safety
    /// `ap` must point to a valid, initialised `va_list`.
    pub unsafe fn from_sysv(ap: *const u8) -> VaList {
        // SAFETY: layout of the SysV va_list structure, guaranteed by the caller.
        unsafe {
            let gp_offset = *(ap as *const u32) as usize;
            let overflow = *(ap.add(8) as *const *const u64);
            let save = *(ap.add(16) as *const *const u64);
            VaList { gp: save, idx: gp_offset / 8, stack: overflow }
        }
    }

    /// Next 8-byte argument.
    pub fn next_u64(&mut self) -> u64 {
        if self.idx < 6 {
            // SAFETY: idx < 6 indexes the spilled register area (see constructors).
            let v = unsafe { *self.gp.add(self.idx) };
            self.idx += 1;
            v
        } else {
            // SAFETY: the caller pushed at least as many stack arguments as the format uses;
            // a wrong format reads garbage like the real kernel would.
            let v = unsafe { *self.stack };
            // SAFETY: advancing within the caller's argument area.
            self.stack = unsafe { self.stack.add(1) };
            v
        }
    }
}

/// Define a variadic shim `$shim` that spills `rdi..r9` and calls
/// `$imp(gp: *const u64, stack: *const u64) -> u64`.
macro_rules! va_shim {
    ($shim:ident, $imp:path) => {
        core::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($shim)),
            concat!(".type ", stringify!($shim), ",@function"),
            concat!(stringify!($shim), ":"),
            "push rbp",
            "mov rbp, rsp",
            "sub rsp, 48",
            "mov [rsp], rdi",
            "mov [rsp + 8], rsi",
            "mov [rsp + 16], rdx",
            "mov [rsp + 24], rcx",
            "mov [rsp + 32], r8",
            "mov [rsp + 40], r9",
            "mov rdi, rsp",
            "lea rsi, [rbp + 16]",
            "call {imp}",
            "leave",
            "ret",
            concat!(".size ", stringify!($shim), ", . - ", stringify!($shim)),
            imp = sym $imp,
        );
        unsafe extern "C" {
            fn $shim();
        }
    };
}
pub(crate) use va_shim;

/// Read a NUL-terminated C string (lossy) from module memory.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string.
pub unsafe fn cstr(p: usize) -> String {
    if p == 0 {
        return "(null)".into();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::ffi::CStr::from_ptr(p as *const libc::c_char) }.to_string_lossy().into_owned()
}

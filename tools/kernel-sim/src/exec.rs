//! Running module code: the call gate, the kernel stack, the `%gs` per-CPU block, signal
//! recovery and the watchdog.
//!
//! * Module code runs on a 16 KiB kernel stack (`KSTACK_PAGES = 4`, `sys/amd64/include/param.h`)
//!   with an unmapped guard page below it, so a stack overflow faults instead of silently
//!   corrupting host memory.
//! * `curthread` is `%gs:0` on amd64 (`offsetof(struct pcpu, pc_curthread) == 0`,
//!   `sys/amd64/include/pcpu_aux.h`); the gate sets the thread's GS base with
//!   `arch_prctl(ARCH_SET_GS)` to a zeroed per-CPU block whose first word points to a zeroed
//!   fake `struct thread`.
//! * SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP raised while a gate call is active are handled on an
//!   alternate signal stack: the handler records the fault and redirects the interrupted
//!   context to [`sim_gate_abort`], which restores the host registers saved by the gate, so
//!   the call returns an error instead of killing the process.
//! * Simulated kernel threads (`kern::kern_switch`) each get a [`KStack`] and a
//!   [`FakeThread`]; [`sim_switch`] switches between them inside a gate call (the per-CPU
//!   block's `pc_curthread` follows), and a fault on any of their stacks still returns
//!   through [`sim_gate_abort`] to the host frame saved by the gate.
//! * A watchdog thread polls the deadline of the active call and sends `SIGUSR2` with
//!   `pthread_kill` when it has passed; the handler aborts the call if the thread is executing
//!   module code (it retries later while the thread is inside simulator code, which may hold
//!   host locks). The deadline restarts at every context switch, so it bounds each thread's
//!   run slice.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Size of the kernel stack: `KSTACK_PAGES` (4) pages.
pub const KSTACK_SIZE: usize = 4 * 4096;
/// Bytes kept free at the top of the kernel stack: on amd64 the top of the thread's kernel
/// stack holds its `struct pcb` and trapframe (`sys/amd64/amd64/vm_machdep.c`), so a module's
/// outermost frame never sits right below the end of the mapping.
const TOP_RESERVE: usize = 1024;
/// Guard pages on each side of the kernel stack.
const GUARD: usize = 4096;
/// Signal used by the watchdog.
pub const WATCHDOG_SIGNAL: i32 = libc::SIGUSR2;

/// State shared between the gate, the signal handler and the aborting code paths.
/// The layout is used from assembly: `saved_rsp` must stay at offset 0.
#[repr(C)]
#[derive(Debug)]
pub struct GateCtx {
    /// Host stack pointer saved by [`sim_gate_enter`] (offset 0, read by the abort stub).
    pub saved_rsp: u64,
    /// Set when the call was aborted.
    pub aborted: u64,
    /// Why it was aborted.
    pub abort: Option<AbortInfo>,
    /// Thread running the call.
    pub thread: libc::pthread_t,
    /// Bounds of the kernel stack `[lo, hi)` and of its guard page.
    pub stack_lo: usize,
    /// Top of the kernel stack.
    pub stack_hi: usize,
    /// Arena bounds: the watchdog aborts only while `rip` is in module code.
    pub code_lo: usize,
    /// End of the arena.
    pub code_hi: usize,
}

/// What stopped a call.
#[derive(Debug, Clone)]
pub enum AbortInfo {
    /// A hardware fault delivered as a signal.
    Signal {
        /// Signal number.
        signo: i32,
        /// `si_code`.
        code: i32,
        /// `si_addr` (faulting data address for SIGSEGV/SIGBUS, instruction for others).
        addr: usize,
        /// Instruction pointer at the fault.
        rip: usize,
        /// Stack pointer at the fault.
        rsp: usize,
    },
    /// The watchdog deadline passed.
    Timeout {
        /// Instruction pointer when the call was stopped.
        rip: usize,
        /// Deadline that passed.
        after: Duration,
    },
    /// `panic(9)` (or a simulator check that the kernel would turn into a panic).
    Panic {
        /// Formatted panic message.
        message: String,
        /// Return address of the panic call (in the caller), if known.
        caller: usize,
    },
}

// The gate and the abort stub.
//
// sim_gate_enter(ctx: *mut GateCtx, f: usize, args: *const u64 /*6*/, stack_top: usize) -> u64
// sim_gate_abort(ctx: *mut GateCtx) -> !   (returns from sim_gate_enter with rax = 0)
core::arch::global_asm!(
    ".text",
    ".globl sim_gate_enter",
    ".type sim_gate_enter,@function",
    "sim_gate_enter:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov r12, rdi",
    "mov rax, rsi",
    "mov r10, rdx",
    "mov rsp, rcx",
    "mov rdi, [r10]",
    "mov rsi, [r10 + 8]",
    "mov rdx, [r10 + 16]",
    "mov rcx, [r10 + 24]",
    "mov r8, [r10 + 32]",
    "mov r9, [r10 + 40]",
    "call rax",
    "mov rsp, [r12]",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size sim_gate_enter, . - sim_gate_enter",
    ".globl sim_gate_abort",
    ".type sim_gate_abort,@function",
    "sim_gate_abort:",
    "mov rsp, [rdi]",
    "mov qword ptr [rdi + 8], 1",
    "xor eax, eax",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size sim_gate_abort, . - sim_gate_abort",
    // sim_switch(save_rsp: *mut usize, new_rsp: usize): cooperative context switch between
    // simulated kernel threads (like cpu_switch() in sys/amd64/amd64/cpu_switch.S, which
    // saves the callee-saved registers and %rsp in the old thread's pcb).
    ".globl sim_switch",
    ".type sim_switch,@function",
    "sim_switch:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size sim_switch, . - sim_switch",
    // First code of a new kernel thread (fork_trampoline/fork_exit in FreeBSD): r12 = the
    // thread function, r13 = its argument; a thread function that returns exits the thread.
    ".globl sim_thread_start",
    ".type sim_thread_start,@function",
    "sim_thread_start:",
    "mov rdi, r13",
    "call r12",
    "call {thread_returned}",
    "ud2",
    ".size sim_thread_start, . - sim_thread_start",
    thread_returned = sym crate::kern::kern_kthread::thread_returned,
);

unsafe extern "C" {
    fn sim_gate_enter(ctx: *mut u8, f: usize, args: *const u64, stack_top: usize) -> u64;
    /// Abandon the current gate call (never returns to its caller); `ctx` is a `*mut GateCtx`.
    pub fn sim_gate_abort(ctx: *mut u8) -> !;
    /// Save the callee-saved registers and `%rsp` into `*save`, continue on `new_rsp`.
    pub fn sim_switch(save: *mut usize, new_rsp: usize);
    /// Entry of a new kernel thread (see [`KStack::initial_rsp`]).
    pub fn sim_thread_start();
}

/// A fake `struct thread` (zeroed). Aligned like the kernel's thread zone guarantees: the
/// lock words keep flags in the low bits of the owner pointer (`MTX_FLAGMASK` = 0x7,
/// `SX_LOCK_FLAGMASK` = 0x1f in `sys/sys/mutex.h` / `sys/sys/sx.h`).
#[repr(C, align(64))]
#[derive(Debug)]
pub struct FakeThread(pub [u64; 1024]);

impl FakeThread {
    /// A zeroed fake thread allocated directly on the heap (host stubs run on the 16 KiB
    /// kernel stack, which must not hold an 8 KiB temporary).
    pub fn new_boxed() -> Box<FakeThread> {
        let layout = std::alloc::Layout::new::<FakeThread>();
        // SAFETY: the layout has a non-zero size; all-zero bytes are a valid FakeThread, and
        // the pointer comes from the global allocator with FakeThread's layout.
        unsafe {
            let p = std::alloc::alloc_zeroed(layout) as *mut FakeThread;
            assert!(!p.is_null(), "out of memory");
            Box::from_raw(p)
        }
    }
}

/// A guarded kernel stack of a simulated thread: `pages` pages with an unmapped guard page on
/// each side (`KSTACK_PAGES` and `KSTACK_GUARD_PAGES`, `sys/amd64/include/param.h`).
#[derive(Debug)]
pub struct KStack {
    map: usize,
    map_len: usize,
    /// Lowest usable address.
    pub lo: usize,
    /// One past the highest usable address.
    pub hi: usize,
}

impl KStack {
    /// Map a stack of `size` bytes (a multiple of the page size) with its guard pages.
    pub fn new(size: usize) -> KStack {
        let len = size + 2 * GUARD;
        // SAFETY: a fresh anonymous mapping; guard pages are made PROT_NONE below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(p != libc::MAP_FAILED, "cannot map a kernel stack");
        let base = p as usize;
        // SAFETY: both guard pages are inside the mapping we just made.
        unsafe {
            libc::mprotect(base as *mut libc::c_void, GUARD, libc::PROT_NONE);
            libc::mprotect((base + GUARD + size) as *mut libc::c_void, GUARD, libc::PROT_NONE);
        }
        KStack { map: base, map_len: len, lo: base + GUARD, hi: base + GUARD + size }
    }

    /// Whether `addr` is in one of the guard pages.
    pub fn in_guard(&self, addr: usize) -> bool {
        (addr >= self.map && addr < self.lo) || (addr >= self.hi && addr < self.map + self.map_len)
    }

    /// Prepare the stack so that [`sim_switch`] to the returned `%rsp` starts
    /// `func(arg)` through [`sim_thread_start`] with the ABI's entry alignment.
    pub fn initial_rsp(&self, func: usize, arg: usize) -> usize {
        let top = (self.hi - TOP_RESERVE) & !15;
        // Popped by sim_switch: r15, r14, r13 (arg), r12 (func), rbx, rbp (0 ends frame-pointer
        // walks), then `ret` to sim_thread_start with %rsp == top (16-byte aligned).
        let rsp = top - 56;
        let words = [0usize, 0, arg, func, 0, 0, sim_thread_start as *const () as usize];
        for (i, w) in words.iter().enumerate() {
            // SAFETY: rsp..top lies inside the writable stack.
            unsafe { ((rsp + 8 * i) as *mut usize).write(*w) };
        }
        rsp
    }
}

impl Drop for KStack {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and no thread runs on it any more (the scheduler frees a
        // stack only when its thread has exited and another thread is running).
        unsafe { libc::munmap(self.map as *mut libc::c_void, self.map_len) };
    }
}

/// Function run by the gate as simulated thread 0 (the thread of the process calling the
/// kernel: kldload, kldunload, a command), and the watchdog deadline of each run slice.
static MAIN_FN: AtomicU64 = AtomicU64::new(0);
static SLICE_NS: AtomicU64 = AtomicU64::new(0);
/// Hard limit of the whole call (threads that keep waking each other never go idle).
static CALL_DEADLINE_NS: AtomicU64 = AtomicU64::new(0);
/// The whole call (all its threads until they are idle) may take this many deadlines.
const CALL_SLICES: u64 = 4;

/// Restart the watchdog deadline: called at every context switch, so that each thread's run
/// slice must end within the deadline (and the whole call within `CALL_SLICES` of them).
pub fn rearm_watchdog() {
    let t = SLICE_NS.load(Ordering::SeqCst);
    if t != 0 && DEADLINE_NS.load(Ordering::SeqCst) != 0 {
        let cap = CALL_DEADLINE_NS.load(Ordering::SeqCst);
        DEADLINE_NS.store((now_ns() + t).min(cap), Ordering::SeqCst);
    }
}

/// Thread 0's code: the requested function, then let the other simulated threads run until
/// all of them wait (the scheduler's idle point), like the CPU does after a syscall returns.
extern "C" fn main_entry(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> u64 {
    let f = MAIN_FN.load(Ordering::SeqCst) as usize;
    // SAFETY: f is the module function (or trampoline) given to Executor::call, called with
    // the SysV integer argument registers like the gate did before threads existed.
    let f: extern "C" fn(u64, u64, u64, u64, u64, u64) -> u64 = unsafe { std::mem::transmute(f) };
    let r = f(a0, a1, a2, a3, a4, a5);
    crate::kern::kern_switch::drain_after_call();
    crate::kern::subr_witness::userret();
    r
}

/// The active call, if any (only one simulated CPU runs module code at a time).
static ACTIVE: AtomicPtr<GateCtx> = AtomicPtr::new(std::ptr::null_mut());
/// Deadline of the active call in nanoseconds since [`epoch`], 0 if none.
static DEADLINE_NS: AtomicU64 = AtomicU64::new(0);
/// Handlers installed (once per process).
static HANDLERS: std::sync::Once = std::sync::Once::new();

fn epoch() -> Instant {
    static E: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *E.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

thread_local! {
    /// Whether this thread has its alternate signal stack.
    static ALTSTACK_READY: Cell<bool> = const { Cell::new(false) };
    /// GS base last installed on this thread.
    static GS_BASE: Cell<usize> = const { Cell::new(0) };
}

/// Abort the active call from simulator code running on the kernel stack (used by `panic`).
///
/// # Safety
/// Must only be called from a host stub invoked by module code during a gate call; every host
/// frame between the gate and the caller is abandoned without running destructors.
pub unsafe fn abort_active(info: AbortInfo) -> ! {
    let ctx = ACTIVE.load(Ordering::SeqCst);
    assert!(!ctx.is_null(), "abort_active outside a module call");
    // SAFETY: ctx is the live GateCtx of the current call (set by Executor::call).
    unsafe {
        (*ctx).abort = Some(info);
        sim_gate_abort(ctx as *mut u8)
    }
}

/// Whether a module call is in progress.
pub fn in_call() -> bool {
    !ACTIVE.load(Ordering::SeqCst).is_null()
}

extern "C" fn on_signal(sig: i32, info: *mut libc::siginfo_t, uctx: *mut libc::c_void) {
    let ctx = ACTIVE.load(Ordering::SeqCst);
    // SAFETY: pthread_self is async-signal-safe.
    let me = unsafe { libc::pthread_self() };
    // SAFETY: ctx, when non-null, points to the GateCtx of the running call; reading `thread`.
    if ctx.is_null() || unsafe { (*ctx).thread } != me {
        if sig == WATCHDOG_SIGNAL {
            return;
        }
        // Not ours: restore the default action and return, so the fault repeats and the
        // process dies the ordinary way.
        // SAFETY: resetting a signal disposition is async-signal-safe.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
        return;
    }
    // SAFETY: the kernel passes a valid ucontext_t for SA_SIGINFO handlers.
    let uc = unsafe { &mut *(uctx as *mut libc::ucontext_t) };
    let rip = uc.uc_mcontext.gregs[libc::REG_RIP as usize] as usize;
    let rsp = uc.uc_mcontext.gregs[libc::REG_RSP as usize] as usize;
    // SAFETY: ctx is valid (see above) and only this thread writes it during the call.
    let c = unsafe { &mut *ctx };
    if sig == WATCHDOG_SIGNAL {
        let dl = DEADLINE_NS.load(Ordering::SeqCst);
        if dl == 0 || now_ns() < dl {
            return;
        }
        if !(rip >= c.code_lo && rip < c.code_hi) {
            // In simulator code: it may hold host locks; let it return to module code first.
            return;
        }
        // The abort record is built without allocating (Duration/usize only).
        c.abort = Some(AbortInfo::Timeout { rip, after: Duration::from_nanos(dl) });
    } else {
        // SAFETY: info is valid for SA_SIGINFO handlers.
        let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
        c.abort = Some(AbortInfo::Signal { signo: sig, code, addr, rip, rsp });
    }
    uc.uc_mcontext.gregs[libc::REG_RIP as usize] = sim_gate_abort as *const () as usize as i64;
    uc.uc_mcontext.gregs[libc::REG_RDI as usize] = ctx as i64;
    uc.uc_mcontext.gregs[libc::REG_RSP as usize] = c.saved_rsp as i64;
}

fn install_handlers() {
    HANDLERS.call_once(|| {
        for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP, WATCHDOG_SIGNAL] {
            // SAFETY: a zeroed sigaction is a valid starting point; we fill handler/flags/mask.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}

/// Per-thread setup: alternate signal stack (once per thread) and `%gs` base.
fn prepare_thread(pcpu: usize) {
    ALTSTACK_READY.with(|r| {
        if r.get() {
            return;
        }
        const ALT: usize = 64 * 1024;
        // Leaked on purpose: the alternate stack must outlive every signal on this thread.
        let mem = Box::leak(vec![0u8; ALT].into_boxed_slice());
        let ss = libc::stack_t { ss_sp: mem.as_mut_ptr() as *mut libc::c_void, ss_flags: 0, ss_size: ALT };
        // SAFETY: ss describes valid, leaked memory.
        unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) };
        r.set(true);
    });
    GS_BASE.with(|g| {
        if g.get() == pcpu {
            return;
        }
        // SAFETY: ARCH_SET_GS only changes this thread's GS base; Rust and glibc on x86-64
        // Linux use %fs for TLS and never read %gs.
        let rc = unsafe { libc::syscall(libc::SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, pcpu) };
        assert_eq!(rc, 0, "arch_prctl(ARCH_SET_GS) failed");
        g.set(pcpu);
    });
}

/// The execution environment of one simulated kernel.
#[derive(Debug)]
pub struct Executor {
    /// The kernel stack of simulated thread 0, with its guard pages.
    stack: KStack,
    /// The per-CPU block (`%gs` base); first word = `curthread`.
    pub pcpu: Box<[u64; 512]>,
    /// The fake `struct thread` of simulated thread 0 (zeroed, 8 KiB: `struct thread` is
    /// < 2 KiB on 14/15).
    pub thread: Box<FakeThread>,
    watchdog_stop: Arc<AtomicBool>,
    watchdog: Option<std::thread::JoinHandle<()>>,
    /// Default deadline of a call.
    pub timeout: Duration,
    code_range: (usize, usize),
}

impl Executor {
    /// Create the kernel stack, per-CPU block and watchdog.
    pub fn new(timeout: Duration, code_range: (usize, usize)) -> Executor {
        install_handlers();
        let stack = KStack::new(KSTACK_SIZE);
        let mut thread = FakeThread::new_boxed();
        let mut pcpu = Box::new([0u64; 512]);
        pcpu[0] = thread.0.as_mut_ptr() as u64;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let watchdog = std::thread::Builder::new()
            .name("kernel-sim-watchdog".into())
            .spawn(move || {
                while !stop2.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                    let dl = DEADLINE_NS.load(Ordering::SeqCst);
                    if dl == 0 || now_ns() < dl {
                        continue;
                    }
                    let ctx = ACTIVE.load(Ordering::SeqCst);
                    if ctx.is_null() {
                        continue;
                    }
                    // SAFETY: ctx stays valid while ACTIVE holds it (cleared before it is
                    // dropped); pthread_kill of a live thread is safe.
                    unsafe { libc::pthread_kill((*ctx).thread, WATCHDOG_SIGNAL) };
                }
            })
            .expect("spawn watchdog");
        Executor {
            stack,
            pcpu,
            thread,
            watchdog_stop: stop,
            watchdog: Some(watchdog),
            timeout,
            code_range,
        }
    }

    /// Whether `addr` is in a guard page of the kernel stack.
    pub fn in_stack_guard(&self, addr: usize) -> bool {
        self.stack.in_guard(addr)
    }

    /// Call `f(args[0..6])` on the kernel stack. Nested calls (from a host stub already on the
    /// kernel stack) must call the function pointer directly instead.
    pub fn call(&mut self, f: usize, args: &[u64], timeout: Option<Duration>) -> Result<u64, AbortInfo> {
        assert!(args.len() <= 6, "at most 6 register arguments are supported");
        assert!(!in_call(), "Executor::call is not re-entrant");
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        prepare_thread(self.pcpu.as_ptr() as usize);
        let mut ctx = GateCtx {
            saved_rsp: 0,
            aborted: 0,
            abort: None,
            // SAFETY: pthread_self has no preconditions.
            thread: unsafe { libc::pthread_self() },
            stack_lo: self.stack.lo,
            stack_hi: self.stack.hi,
            code_lo: self.code_range.0,
            code_hi: self.code_range.1,
        };
        let t = timeout.unwrap_or(self.timeout);
        SLICE_NS.store(t.as_nanos() as u64, Ordering::SeqCst);
        MAIN_FN.store(f as u64, Ordering::SeqCst);
        crate::kern::kern_switch::begin_call(self.pcpu.as_mut_ptr() as usize, self.thread.0.as_mut_ptr() as usize);
        let start = now_ns();
        CALL_DEADLINE_NS.store(start.saturating_add((t.as_nanos() as u64).saturating_mul(CALL_SLICES)), Ordering::SeqCst);
        DEADLINE_NS.store(start + t.as_nanos() as u64, Ordering::SeqCst);
        ACTIVE.store(&mut ctx, Ordering::SeqCst);
        // SAFETY: main_entry runs f (module or trampoline code in the arena) as thread 0; the
        // stack top is 16-byte aligned so the callee sees (rsp+8) % 16 == 0; faults return
        // through sim_gate_abort from whichever simulated thread's stack they happen on.
        let r = unsafe {
            sim_gate_enter(
                &mut ctx as *mut GateCtx as *mut u8,
                main_entry as *const () as usize,
                a.as_ptr(),
                self.stack.hi - TOP_RESERVE,
            )
        };
        ACTIVE.store(std::ptr::null_mut(), Ordering::SeqCst);
        DEADLINE_NS.store(0, Ordering::SeqCst);
        crate::kern::kern_switch::end_call(ctx.aborted != 0);
        if ctx.aborted != 0 {
            let info = ctx.abort.take().unwrap_or(AbortInfo::Panic { message: "unknown abort".into(), caller: 0 });
            return Err(match info {
                AbortInfo::Timeout { rip, .. } => AbortInfo::Timeout { rip, after: t },
                other => other,
            });
        }
        Ok(r)
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.watchdog_stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.watchdog.take() {
            let _ = h.join();
        }
        // The stack is unmapped when the field drops: no call is active (calls are
        // synchronous).
        GS_BASE.with(|g| g.set(0));
    }
}

//! Simulated kernel threads and their scheduler: one simulated CPU, threads switched
//! cooperatively on the host thread that runs the gate.
//!
//! * Every thread has its own guarded kernel stack ([`KStack`]) and its own zeroed fake
//!   `struct thread`; `curthread` (`%gs:0`, `pc_curthread` of `struct pcpu`,
//!   `sys/amd64/include/pcpu_aux.h`) is switched with the thread, like `cpu_switch()`
//!   (`sys/amd64/amd64/cpu_switch.S`) does on a real CPU.
//! * Thread 0 is the thread of the user process that entered the kernel (kldload,
//!   kldunload, a command). Each gate call runs its function on thread 0, then lets the
//!   other threads run until all of them wait (`drain`): the simulated CPU goes idle.
//! * The run queue is FIFO (`sys/kern/kern_switch.c` `runq_add`/`runq_choose` within one
//!   priority). Deterministic by default: a thread runs until it blocks, yields or exits.
//!   With a seed ([`crate::SimOptions::sched_seed`]), every lock, sleep, wakeup and thread
//!   KPI call is a preemption point where a seeded PRNG picks the next thread among the
//!   runnable ones (the current one included), so each seed is one reproducible
//!   interleaving. Nothing is preempted inside a spin-mutex section (spinlock_enter()).
//! * Sleeps (`mi_switch()` in `sys/kern/kern_synch.c`, sleep queues of
//!   `sys/kern/subr_sleepqueue.c`) record the wait channel, wmesg and deadline. When no
//!   thread can run, the simulated clock jumps to the earliest deadline (kern_clock.rs);
//!   when no deadline is pending either, every thread is blocked for good: a deadlock,
//!   reported like `procstat -kk` and turned into a panic.
//! * Each context switch restarts the watchdog deadline, so a thread that spins is stopped
//!   and named, whichever thread it is.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicPtr, Ordering};

use super::panic::kernel_panic;
use crate::exec::{KStack, rearm_watchdog, sim_switch};

/// First thread id handed out to kernel threads (thread 0 is `TID0`).
pub const TID0: u32 = 100000;

/// Offsets the simulator fills in its fake `struct thread` / `struct proc`, so that module
/// code reading `curthread->td_proc`, `td_tid`, `td_name`, `p_pid` or `p_comm` sees this
/// thread's values. `struct thread` is not KBI-stable (FACTS.md): the offsets come from an
/// `offsetof` probe compiled against each release's headers (14.2 and 15.0 ziglang
/// sysroots: `td_proc` 8/8, `td_tid` 160/160, `td_name` 724/732, `p_pid` 196/196,
/// `p_comm` 992/992; `sizeof(struct thread)` 1776/1824, `sizeof(struct proc)` 1376/1368).
/// No 13.x headers are available: on 13.1 the fake structures stay zeroed.
#[derive(Debug, Clone, Copy)]
pub struct TdLayout {
    /// `offsetof(struct thread, td_proc)`.
    pub td_proc: usize,
    /// `offsetof(struct thread, td_tid)` (`lwpid_t`, 32 bits).
    pub td_tid: usize,
    /// `offsetof(struct thread, td_name)` (`char[MAXCOMLEN + 1]`, 20 bytes).
    pub td_name: usize,
    /// `offsetof(struct proc, p_pid)`.
    pub p_pid: usize,
    /// `offsetof(struct proc, p_comm)` (`char[MAXCOMLEN + 1]`).
    pub p_comm: usize,
}

impl TdLayout {
    /// The layout of a release's headers (by `__FreeBSD_version` major), if probed.
    pub fn of(freebsd_version: u32) -> Option<TdLayout> {
        match freebsd_version / 100_000 {
            14 => Some(TdLayout { td_proc: 8, td_tid: 160, td_name: 724, p_pid: 196, p_comm: 992 }),
            15 => Some(TdLayout { td_proc: 8, td_tid: 160, td_name: 732, p_pid: 196, p_comm: 992 }),
            _ => None,
        }
    }

    fn write_name(at: usize, name: &str) {
        let b = name.as_bytes();
        let n = b.len().min(19);
        // SAFETY: `at` is a 20-byte char array inside a fake thread/proc owned by the
        // scheduler (8 KiB / 4 KiB, larger than the structures).
        unsafe {
            std::ptr::copy_nonoverlapping(b.as_ptr(), at as *mut u8, n);
            (at as *mut u8).add(n).write(0);
        }
    }

    /// Fill the fake thread `td` (and its fake proc `p`).
    pub fn fill(&self, td: usize, tid: u32, name: &str, p: usize, pid: i32, comm: &str) {
        // SAFETY: td and p are the scheduler's zero-initialised fake structures, larger
        // than the probed structures.
        unsafe {
            ((td + self.td_proc) as *mut usize).write(p);
            ((td + self.td_tid) as *mut i32).write(tid as i32);
            if p != 0 {
                ((p + self.p_pid) as *mut i32).write(pid);
            }
        }
        Self::write_name(td + self.td_name, name);
        if p != 0 {
            Self::write_name(p + self.p_comm, comm);
        }
    }
}

/// Why a blocked thread became runnable again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Not woken yet.
    None,
    /// `wakeup`, `cv_signal`, a released lock.
    Woken,
    /// Its deadline passed.
    Timeout,
}

/// What a blocked thread waits for.
#[derive(Debug, Clone)]
pub struct Wait {
    /// Wait channel (sleep) or `struct lock_object *` (lock).
    pub chan: usize,
    /// wmesg (sleep) or lock name.
    pub wmesg: String,
    /// Absolute deadline (sbinuptime), if timed.
    pub deadline: Option<i64>,
    /// Return address of the module's blocking call.
    pub caller: usize,
    /// Blocked on a lock (turnstile) rather than asleep (sleep queue).
    pub on_lock: bool,
    /// Order of blocking (FIFO among equals).
    pub seq: u64,
    /// Sleeping priority (`td_priority`: lower is better); `wakeup_one`/`cv_signal` wake
    /// the best one, the longest sleeper among equals (`sleepq_signal()` in
    /// `sys/kern/subr_sleepqueue.c`).
    pub pri: i32,
}

/// Run state of a simulated thread.
#[derive(Debug, Clone)]
pub enum TState {
    /// On the CPU.
    Running,
    /// On the run queue.
    Runnable,
    /// Asleep or blocked on a lock.
    Blocked(Wait),
    /// Exited (its stack is freed once another thread runs).
    Exited,
}

/// A lock held by a thread (WITNESS's `struct lock_instance`).
#[derive(Debug, Clone)]
pub struct Held {
    /// `struct lock_object *`.
    pub lock: usize,
    /// Exclusive (or shared).
    pub exclusive: bool,
    /// Recursion depth.
    pub recursed: u32,
    /// `file` passed by the module (LOCK_FILE).
    pub file: String,
    /// `line` passed by the module.
    pub line: i32,
    /// Return address of the acquiring call.
    pub caller: usize,
}

/// One simulated thread.
#[derive(Debug)]
pub struct KThread {
    /// Thread id.
    pub tid: u32,
    /// `td_name`.
    pub name: String,
    /// Name of its process (`p_comm`).
    pub proc_name: String,
    /// Its process id.
    pub pid: i32,
    /// Address of its fake `struct thread`.
    pub td: usize,
    td_box: Option<Box<crate::exec::FakeThread>>,
    /// Address of its fake `struct proc`.
    pub proc_addr: usize,
    stack: Option<KStack>,
    /// Saved `%rsp` while switched out.
    pub rsp: usize,
    /// Run state.
    pub state: TState,
    /// Thread function (0 for thread 0).
    pub func: usize,
    /// Locks held (WITNESS lock list), oldest first.
    pub held: Vec<Held>,
    /// Why it was last woken.
    pub wake: Wake,
    /// Spin mutexes held (`td_critnest` of spinlock_enter()).
    pub crit: u32,
    /// Priority (`td_priority`), set by sleeps with a priority (`pri & PRIMASK`); starts at
    /// `PRI_MAX` (255).
    pub prio: i32,
}

impl KThread {
    /// The live part of its kernel stack while it is switched out: `[saved %rsp, top)`
    /// (None for thread 0, whose stack is the executor's, and for exited threads).
    pub fn saved_stack(&self) -> Option<(usize, usize)> {
        let s = self.stack.as_ref()?;
        (!matches!(self.state, TState::Exited | TState::Running) && self.rsp >= s.lo && self.rsp < s.hi).then_some((self.rsp, s.hi))
    }
}

/// The scheduler state of the simulated kernel.
#[derive(Debug)]
pub struct Sched {
    /// Fake-structure layout of the simulated release (None: leave them zeroed).
    pub layout: Option<TdLayout>,
    proc_main: Box<[u64]>,
    /// Every thread ever created (indices are stable; exited threads stay as tombstones).
    pub threads: Vec<Box<KThread>>,
    /// Index of the running thread.
    pub cur: usize,
    runq: VecDeque<usize>,
    rng: Option<u64>,
    /// Seed of this kernel's interleaving, if any.
    pub seed: Option<u64>,
    /// Simulated `sbinuptime()`.
    pub now: i64,
    pcpu: usize,
    in_call: bool,
    /// Preemption is off (between queueing a sleeper and releasing its interlock).
    pub no_preempt: u32,
    seq: u64,
    /// Context switches so far.
    pub switches: u64,
    /// Addresses of the `ticks`/`ticksl` data symbols (updated when the clock moves).
    pub ticks_addrs: Vec<usize>,
    procs: Vec<Box<[u64]>>,
    next_pid: i32,
    next_tid: u32,
    /// Locks known to the kernel (`lock_init`ed and not destroyed).
    pub locks: std::collections::HashMap<usize, super::subr_lock::LockRec>,
    /// Thread 0 does not let the other threads run after its function returns (kldunload's
    /// `MOD_QUIESCE`/`MOD_UNLOAD`/SYSUNINIT calls): on a real kernel they run on other CPUs
    /// while `linker_file_unload` goes on and frees the file, so the simulator checks what
    /// they still have to execute instead of letting them finish first.
    pub defer_drain: bool,
    /// `(tid, name)` of the kernel thread that was running when the last call aborted.
    pub aborted_thread: Option<(u32, String)>,
    /// WITNESS lock-order graph: `(first, second)` witness names -> where the order was
    /// first seen (acquisition of the first, acquisition of the second).
    pub order: std::collections::HashMap<(String, String), (usize, usize)>,
}

static SCHED: AtomicPtr<Sched> = AtomicPtr::new(std::ptr::null_mut());

/// Install the scheduler of a booted kernel.
pub(crate) fn install(seed: Option<u64>, now: i64, freebsd_version: u32) {
    let t0 = Box::new(KThread {
        tid: TID0,
        name: "kldload".into(),
        proc_name: "kldload".into(),
        pid: 2,
        td: 0,
        td_box: None,
        proc_addr: 0,
        stack: None,
        rsp: 0,
        state: TState::Running,
        func: 0,
        held: Vec::new(),
        wake: Wake::None,
        crit: 0,
        prio: 255,
    });
    let s = Box::new(Sched {
        layout: TdLayout::of(freebsd_version),
        proc_main: vec![0u64; 512].into_boxed_slice(),
        threads: vec![t0],
        cur: 0,
        runq: VecDeque::new(),
        // splitmix64 of the seed: nearby seeds give unrelated sequences.
        rng: seed.map(|x| x ^ 0x9e37_79b9_7f4a_7c15),
        seed,
        now,
        pcpu: 0,
        in_call: false,
        no_preempt: 0,
        seq: 0,
        switches: 0,
        ticks_addrs: Vec::new(),
        procs: Vec::new(),
        next_pid: 10,
        next_tid: TID0 + 1,
        locks: Default::default(),
        aborted_thread: None,
        defer_drain: false,
        order: Default::default(),
    });
    let old = SCHED.swap(Box::into_raw(s), Ordering::SeqCst);
    if !old.is_null() {
        // SAFETY: a previous kernel's scheduler that was not uninstalled (boot failed midway).
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Remove the scheduler (kernel shutdown).
pub(crate) fn uninstall() {
    let p = SCHED.swap(std::ptr::null_mut(), Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: no module code runs any more; the pointer came from Box::into_raw.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// The scheduler, if a kernel is booted.
///
/// Module code runs on one host thread and host stubs never keep this reference across a
/// context switch (they re-fetch it after [`block`], [`preempt`] and friends).
#[allow(clippy::mut_from_ref)]
pub fn sched() -> &'static mut Sched {
    let p = SCHED.load(Ordering::SeqCst);
    assert!(!p.is_null(), "kernel-sim: thread KPI called with no booted kernel");
    // SAFETY: installed by Kernel::boot and only used from the thread running module code
    // (see above).
    unsafe { &mut *p }
}

/// The scheduler, or `None` when no kernel is booted.
#[allow(clippy::mut_from_ref)]
pub fn try_sched() -> Option<&'static mut Sched> {
    let p = SCHED.load(Ordering::SeqCst);
    // SAFETY: as in sched().
    (!p.is_null()).then(|| unsafe { &mut *p })
}

impl Sched {
    fn rand(&mut self) -> u64 {
        // splitmix64
        let s = self.rng.as_mut().expect("seeded");
        *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The running thread.
    pub fn current(&self) -> &KThread {
        &self.threads[self.cur]
    }

    /// The running thread, mutably.
    pub fn current_mut(&mut self) -> &mut KThread {
        let c = self.cur;
        &mut self.threads[c]
    }

    /// `curthread` of the running thread.
    pub fn curthread(&self) -> usize {
        self.threads[self.cur].td
    }

    /// Index of the thread whose `struct thread` is at `td`.
    pub fn by_td(&self, td: usize) -> Option<usize> {
        self.threads.iter().position(|t| t.td == td && !matches!(t.state, TState::Exited))
    }

    /// `(tid, name)` of the running thread.
    pub fn current_name(&self) -> (u32, String) {
        let t = &self.threads[self.cur];
        (t.tid, t.name.clone())
    }

    fn make_runnable(&mut self, i: usize, why: Wake) {
        let t = &mut self.threads[i];
        if matches!(t.state, TState::Blocked(_)) {
            t.state = TState::Runnable;
            t.wake = why;
            self.runq.push_back(i);
        }
    }

    /// Wake the threads blocked on `chan` (sleepers, or lock waiters when `on_lock`); all of
    /// them, or the one that has waited longest. Returns how many were woken.
    pub fn wake_chan(&mut self, chan: usize, on_lock: bool, one: bool) -> usize {
        let mut v: Vec<(i32, u64, usize)> = self
            .threads
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match &t.state {
                TState::Blocked(w) if w.chan == chan && w.on_lock == on_lock => Some((w.pri, w.seq, i)),
                _ => None,
            })
            .collect();
        v.sort();
        if one {
            v.truncate(1);
        }
        for &(_, _, i) in &v {
            self.make_runnable(i, Wake::Woken);
        }
        v.len()
    }

    /// Whether another thread could still run: one is runnable or a timed wait is pending.
    pub fn could_progress(&self) -> bool {
        !self.runq.is_empty() || self.earliest_deadline().is_some()
    }

    /// Whether some thread is blocked on `chan`.
    pub fn has_waiters(&self, chan: usize, on_lock: bool) -> bool {
        self.threads.iter().any(|t| matches!(&t.state, TState::Blocked(w) if w.chan == chan && w.on_lock == on_lock))
    }

    /// Move the clock to `t` (never backwards), updating `ticks`, and wake the threads whose
    /// deadline has passed.
    pub fn advance_to(&mut self, t: i64) {
        if t > self.now {
            self.now = t;
        }
        let ticks = super::kern_clock::ticks_at(self.now);
        for &a in &self.ticks_addrs {
            // SAFETY: the `ticks`/`ticksl` data objects of the kernel symbol table (8 bytes
            // each, in the arena).
            unsafe { (a as *mut i64).write_volatile(ticks) };
        }
        let due: Vec<usize> = self
            .threads
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match &t.state {
                TState::Blocked(w) if w.deadline.is_some_and(|d| d <= self.now) => Some(i),
                _ => None,
            })
            .collect();
        for i in due {
            self.make_runnable(i, Wake::Timeout);
        }
    }

    fn earliest_deadline(&self) -> Option<i64> {
        self.threads
            .iter()
            .filter_map(|t| match &t.state {
                TState::Blocked(w) => w.deadline,
                _ => None,
            })
            .min()
    }

    fn pick(&mut self) -> Option<usize> {
        if self.runq.is_empty() {
            return None;
        }
        if self.rng.is_some() {
            let n = self.runq.len() as u64;
            let i = (self.rand() % n) as usize;
            self.runq.remove(i)
        } else {
            self.runq.pop_front()
        }
    }

    /// Create a runnable kernel thread running `func(arg)`.
    #[allow(clippy::too_many_arguments)]
    pub fn create(&mut self, func: usize, arg: usize, name: String, proc_addr: usize, proc_name: String, pid: i32, pages: usize) -> usize {
        let stack = KStack::new(pages.max(1) * 4096);
        let rsp = stack.initial_rsp(func, arg);
        let mut td_box = crate::exec::FakeThread::new_boxed();
        let td = td_box.0.as_mut_ptr() as usize;
        let tid = self.next_tid;
        self.next_tid += 1;
        self.threads.push(Box::new(KThread {
            tid,
            name,
            proc_name,
            pid,
            td,
            td_box: Some(td_box),
            proc_addr,
            stack: Some(stack),
            rsp,
            state: TState::Runnable,
            func,
            held: Vec::new(),
            wake: Wake::None,
            crit: 0,
            prio: 255,
        }));
        let i = self.threads.len() - 1;
        if let Some(l) = self.layout {
            let t = &self.threads[i];
            l.fill(t.td, t.tid, &t.name, t.proc_addr, t.pid, &t.proc_name);
        }
        self.runq.push_back(i);
        i
    }

    /// A new fake `struct proc` (zeroed) and its pid.
    pub fn new_proc(&mut self) -> (usize, i32) {
        let mut p = vec![0u64; 512].into_boxed_slice();
        let a = p.as_mut_ptr() as usize;
        self.procs.push(p);
        self.next_pid += 1;
        (a, self.next_pid)
    }

    /// proc0 (`kernel`, pid 0): the process of `kthread_add(..., NULL, ...)`.
    pub fn proc0(&mut self) -> usize {
        if self.procs.is_empty() {
            self.procs.push(vec![0u64; 512].into_boxed_slice());
            if let Some(l) = self.layout {
                let p = self.procs[0].as_mut_ptr() as usize;
                TdLayout::write_name(p + l.p_comm, "kernel");
            }
        }
        self.procs[0].as_mut_ptr() as usize
    }

    /// Whether `addr` is in the guard page of some thread's stack.
    pub fn in_stack_guard(&self, addr: usize) -> bool {
        self.threads.iter().any(|t| t.stack.as_ref().is_some_and(|s| s.in_guard(addr)))
    }

    fn free_exited_stacks(&mut self) {
        let cur = self.cur;
        for (i, t) in self.threads.iter_mut().enumerate() {
            if i != cur && matches!(t.state, TState::Exited) {
                t.stack = None;
                t.td_box = None;
            }
        }
    }

    /// Live kernel threads (not exited, not thread 0) whose function lies in `[lo, hi)`.
    pub fn threads_in(&self, lo: usize, hi: usize) -> Vec<(u32, String)> {
        self.threads
            .iter()
            .skip(1)
            .filter(|t| !matches!(t.state, TState::Exited) && t.func >= lo && t.func < hi)
            .map(|t| (t.tid, t.name.clone()))
            .collect()
    }

    /// Forget threads (they are never run again).
    pub fn kill(&mut self, tids: &[u32]) {
        for t in self.threads.iter_mut() {
            if tids.contains(&t.tid) {
                t.state = TState::Exited;
                t.held.clear();
            }
        }
        let threads = &self.threads;
        self.runq.retain(|&i| !matches!(threads[i].state, TState::Exited));
    }

    /// Name the process of thread 0 (`kldload`, `kldunload`, a command).
    pub fn set_main_name(&mut self, name: &str) {
        self.threads[0].name = name.into();
        self.threads[0].proc_name = name.into();
    }
}

/// Start of a gate call: thread 0 runs; `curthread` is thread 0's `struct thread`.
pub(crate) fn begin_call(pcpu: usize, td0: usize) {
    let Some(s) = try_sched() else { return };
    s.pcpu = pcpu;
    s.threads[0].td = td0;
    s.threads[0].proc_addr = s.proc_main.as_mut_ptr() as usize;
    if let Some(l) = s.layout {
        let t = &s.threads[0];
        l.fill(td0, t.tid, &t.name, t.proc_addr, t.pid, &t.proc_name);
    }
    s.threads[0].state = TState::Running;
    s.cur = 0;
    s.in_call = true;
    // SAFETY: pcpu is the executor's per-CPU block; word 0 is pc_curthread.
    unsafe { (pcpu as *mut usize).write(td0) };
}

/// End of a gate call. After an abort (fault, panic, watchdog) the simulated kernel is
/// dead: every kernel thread is abandoned (with the locks it held), so later calls (the
/// simulator's teardown of the crashed module, other modules) start from a clean CPU.
pub(crate) fn end_call(aborted: bool) {
    let Some(s) = try_sched() else { return };
    s.in_call = false;
    if aborted {
        s.aborted_thread = (s.cur != 0).then(|| (s.threads[s.cur].tid, s.threads[s.cur].name.clone()));
        for t in s.threads.iter_mut().skip(1) {
            t.state = TState::Exited;
        }
        for t in s.threads.iter_mut() {
            t.held.clear();
            t.crit = 0;
        }
        s.runq.clear();
        s.no_preempt = 0;
        s.threads[0].state = TState::Running;
        // Lock records stay: other loaded modules keep using their locks.
    }
    s.cur = 0;
    if s.pcpu != 0 {
        // SAFETY: as in begin_call.
        unsafe { (s.pcpu as *mut usize).write(s.threads[0].td) };
    }
    // After an abort the stacks stay until the next call: the fault report still needs to
    // know whether the faulting address was a guard page.
    if !aborted {
        s.free_exited_stacks();
        // Forget exited threads (the run queue is empty here: thread 0 drained it), so
        // that long runs (`--cycles 1000`) do not accumulate tombstones.
        if s.runq.is_empty() {
            s.threads.retain(|t| t.tid == TID0 || !matches!(t.state, TState::Exited));
        }
    }
}

/// Switch to thread `n` (the caller has already queued or blocked the current thread).
fn switch_to(n: usize) {
    let s = sched();
    let old = s.cur;
    s.threads[n].state = TState::Running;
    if n == old {
        return;
    }
    s.cur = n;
    s.switches += 1;
    let td = s.threads[n].td;
    // SAFETY: pcpu word 0 is pc_curthread (see begin_call).
    unsafe { (s.pcpu as *mut usize).write(td) };
    rearm_watchdog();
    let save: *mut usize = &mut s.threads[old].rsp;
    let to = s.threads[n].rsp;
    // SAFETY: `save` points into a boxed KThread (stable address); `to` is the saved (or
    // initial) stack pointer of a thread that is not running. No Rust reference to the
    // scheduler is used across the switch: callers re-fetch it afterwards.
    unsafe { sim_switch(save, to) };
    // Running again (someone switched back to us).
    sched().free_exited_stacks();
}

/// Give the CPU to the next thread; the current one must not be `Running` any more
/// (blocked, queued or exited). Advances the clock when every thread waits on a deadline;
/// panics with a deadlock report when nothing can ever run again.
fn switch_next() {
    loop {
        let s = sched();
        if let Some(n) = s.pick() {
            switch_to(n);
            return;
        }
        if let Some(d) = s.earliest_deadline() {
            s.advance_to(d);
            continue;
        }
        deadlock();
    }
}

/// Block the running thread on `w` until woken or timed out.
pub fn block(w: Wait) -> Wake {
    prepare_block(w);
    commit_block()
}

/// Put the running thread on the sleep queue of `w` without switching yet (`sleepq_add`
/// before the interlock is released, so a wakeup between the release and the switch is not
/// lost): preemption stays off until [`commit_block`].
pub fn prepare_block(mut w: Wait) {
    if !w.on_lock {
        // sleepq_add(): KASSERT(td->td_no_sleeping == 0, ...) (callout handlers).
        super::kern_timeout::check_can_sleep(w.chan, w.caller);
    }
    let s = sched();
    s.seq += 1;
    w.seq = s.seq;
    let c = s.cur;
    w.pri = s.threads[c].prio;
    s.threads[c].wake = Wake::None;
    s.threads[c].state = TState::Blocked(w);
    s.no_preempt += 1;
}

/// Switch away after [`prepare_block`] (unless already woken) and return why it woke.
pub fn commit_block() -> Wake {
    let s = sched();
    s.no_preempt -= 1;
    let c = s.cur;
    // mi_switch() (sys/kern/kern_synch.c): `KASSERT(td->td_critnest == 1 ||
    // KERNEL_PANICKED(), ("mi_switch: switch in a critical section"))` (the 1 is
    // thread_lock()'s own spinlock_enter()): a thread in a module's critical_enter() section
    // cannot sleep or block. (With a spin mutex held, WITNESS has complained already.)
    if s.threads[c].crit > 0
        && let TState::Blocked(w) = &s.threads[c].state
    {
        let caller = w.caller;
        kernel_panic("mi_switch: switch in a critical section".into(), caller);
    }
    if matches!(s.threads[c].state, TState::Blocked(_)) {
        switch_next();
    } else {
        // Woken before it switched: it was queued by the waker; take it off the run queue.
        s.runq.retain(|&i| i != c);
        s.threads[c].state = TState::Running;
    }
    let s = sched();
    let c = s.cur;
    std::mem::replace(&mut s.threads[c].wake, Wake::None)
}

/// Yield the CPU to the next runnable thread (the current one is queued behind them).
pub fn yield_now() {
    let s = sched();
    let c = s.cur;
    s.threads[c].state = TState::Runnable;
    s.runq.push_back(c);
    switch_next();
}

/// A preemption point (every lock, sleep, wakeup and thread KPI call): with a seed, switch
/// to a randomly chosen runnable thread (possibly staying on this one).
pub fn preempt() {
    let Some(s) = try_sched() else { return };
    if s.rng.is_none() || !s.in_call || s.no_preempt > 0 || s.runq.is_empty() || s.current().crit > 0 {
        return;
    }
    let n = s.runq.len() as u64 + 1;
    let r = (s.rand() % n) as usize;
    if r == 0 {
        return;
    }
    let next = s.runq.remove(r - 1).expect("index in range");
    let c = s.cur;
    s.threads[c].state = TState::Runnable;
    s.runq.push_back(c);
    switch_to(next);
}

/// End the running kernel thread (kthread_exit): never returns.
pub fn exit_current() -> ! {
    let s = sched();
    let c = s.cur;
    s.threads[c].state = TState::Exited;
    switch_next();
    unreachable!("an exited thread was switched back to");
}

/// Thread 0 after its function returned: the CPU runs the other threads until it is idle,
/// unless kldunload defers that ([`Sched::defer_drain`]).
pub(crate) fn drain_after_call() {
    if try_sched().is_some_and(|s| s.defer_drain) {
        return;
    }
    drain();
}

/// Whether some thread is on the run queue.
pub fn has_runnable() -> bool {
    try_sched().is_some_and(|s| !s.runq.is_empty())
}

/// Thread 0 at the end of its work: run the other threads until none is runnable.
pub(crate) fn drain() {
    while try_sched().is_some_and(|s| !s.runq.is_empty()) {
        yield_now();
    }
}

/// Thread 0 sleeping in the user process (the `sleep SECONDS` command): the clock moves to
/// `until`, deadline by deadline, running the threads each deadline wakes.
pub(crate) extern "C" fn sleep_until(until: u64) -> u64 {
    let until = until as i64;
    loop {
        drain();
        let s = sched();
        match s.earliest_deadline() {
            Some(d) if d <= until => s.advance_to(d),
            _ => {
                s.advance_to(until);
                drain();
                return 0;
            }
        }
    }
}

fn deadlock() -> ! {
    let s = sched();
    let mut out = String::from(
        "deadlock: every thread is blocked and no timeout is pending (kernel-sim)\n  PID    TID COMM             TDNAME           KSTACK\n",
    );
    let caller = s
        .threads
        .iter()
        .find_map(|t| match &t.state {
            TState::Blocked(w) => Some(w.caller),
            _ => None,
        })
        .unwrap_or(0);
    for t in s.threads.iter() {
        let TState::Blocked(w) = &t.state else { continue };
        let how = if w.on_lock {
            let owner = super::subr_lock::owner_of(w.chan)
                .and_then(|td| s.threads.iter().find(|x| x.td == td))
                .map(|o| format!(" owned by tid {}", o.tid))
                .unwrap_or_default();
            format!("turnstile_wait on lock \"{}\" ({:#x}){owner}", w.wmesg, w.chan)
        } else {
            format!("sleepq_wait on wchan {:#x} wmesg \"{}\"", w.chan, w.wmesg)
        };
        out.push_str(&format!(
            "{:5} {:6} {:<16} {:<16} mi_switch {how} <- {}\n",
            t.pid,
            t.tid,
            t.proc_name,
            t.name,
            super::subr_witness::sym(w.caller)
        ));
    }
    kernel_panic(out, caller)
}

/// `critical_enter_KBI()` (`sys/kern/kern_switch.c`): a module's `critical_enter()` (in a
/// `KLD_MODULE` not `KLD_TIED`, `sys/sys/systm.h` maps it to the KBI function):
/// `td_critnest++`. No preemption happens inside, and sleeping, sleep locks and malloc(9)
/// are refused like in a spin-mutex section (the same count, as in the kernel).
extern "C" fn k_critical_enter() {
    if let Some(s) = try_sched() {
        s.current_mut().crit += 1;
    }
}

/// `critical_exit_KBI()`: `critical_exit()`'s `KASSERT(td->td_critnest != 0,
/// ("critical_exit: td_critnest == 0"))` (`sys/sys/systm.h`), then `td_critnest--`.
extern "C" fn k_critical_exit() {
    let caller = super::subr_witness::caller();
    let Some(s) = try_sched() else { return };
    let cur = s.current_mut();
    if cur.crit == 0 {
        kernel_panic("critical_exit: td_critnest == 0".into(), caller);
    }
    cur.crit -= 1;
    preempt();
}

super::subr_witness::caller_shim!(sim_critical_exit, k_critical_exit);

/// Register `critical_enter_KBI`/`critical_exit_KBI`.
pub fn symbols(v: &mut Vec<crate::ksyms::KsymDef>) {
    v.push(crate::ksyms::KsymDef::function("critical_enter_KBI", k_critical_enter as *const () as usize));
    v.push(crate::ksyms::KsymDef::function("critical_exit_KBI", sim_critical_exit as *const () as usize));
}

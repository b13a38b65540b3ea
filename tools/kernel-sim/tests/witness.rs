//! Every WITNESS rule of the simulator has a fixture (examples/c-twins/witness.c, built from
//! the real 14.2 headers with FreeBSD's own macros) that trips it: the run fails with a
//! panic in WITNESS's words naming the module locations.
mod common;
use kernel_sim::{Fault, FaultKind, Kernel, SimOptions, SimRelease};

fn call(func: &str) -> (Result<u64, Fault>, String) {
    call_opts(func, SimOptions::default())
}

fn fixture() -> std::path::PathBuf {
    static KO: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    KO.get_or_init(|| common::build("witnessfx", &["witness.c"], common::Target::Fbsd14)).clone()
}

fn call_opts(func: &str, opts: SimOptions) -> (Result<u64, Fault>, String) {
    let ko = fixture();
    let mut k = Kernel::boot(SimRelease::V14_0, opts).expect("boot");
    let id = k.load(&ko).expect("load");
    let addr = k.lookup_symbol(id, func).expect("symbol");
    let r = k.call(addr, &[]);
    (r, k.take_console())
}

fn panic_of(func: &str) -> (Fault, String) {
    let (r, console) = call(func);
    let f = r.expect_err(&format!("{func} must fail"));
    assert!(matches!(f.kind, FaultKind::Panic(_)), "{f}");
    (f, console)
}

#[test]
fn sleeping_with_a_mutex_held() {
    let _g = common::lock();
    let (f, console) = panic_of("sleep_with_mutex");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("Sleeping on \"fxpause\" with the following non-sleepable locks held:\nexclusive sleep mutex fx a r = 0 ("), "{m}");
    assert!(m.contains("locked @ "), "{m}");
    assert!(m.contains("witness.c:"), "{m}");
    assert!(m.contains("acquired at sleep_with_mutex+0x"), "{m}");
    assert!(m.contains("offending call at sleep_with_mutex+0x"), "{m}");
    assert_eq!(f.symbol.as_deref(), Some("sleep_with_mutex"));
    assert!(console.contains("panic: Sleeping on \"fxpause\""), "{console}");
    // msleep's interlock is released while asleep; another mutex is not.
    let (f, _) = panic_of("msleep_with_other_mutex");
    let m = f.panic_message().unwrap();
    assert!(m.contains("Sleeping on \"fxsleep\" with the following non-sleepable locks held:\nexclusive sleep mutex fx a "), "{m}");
    assert!(!m.contains("fx b"), "{m}");
    let (f, _) = panic_of("cv_wait_with_other_mutex");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("Waiting on \"fxcv\" with the following non-sleepable locks held:\nexclusive sleep mutex fx b "), "{m}");
    let (f, _) = panic_of("malloc_waitok_with_mutex");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("uma_zalloc_debug: zone \"malloc-128\" with the following non-sleepable locks held:\nexclusive sleep mutex fx a "), "{m}");
    let (f, _) = panic_of("cv_wait_with_spin");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("acquiring blockable sleep lock with spinlock or critical section held (sleep mutex) fx a @ "), "{m}");
}

#[test]
fn sx_may_be_held_across_sleeps_and_timeouts_return_ewouldblock() {
    let _g = common::lock();
    let (r, console) = call("sleep_with_sx_is_fine");
    assert_eq!(r.expect("sx is sleepable"), 35, "{console}");
    let (r, console) = call("timed_wait");
    assert_eq!(r.expect("timed wait"), 35, "EWOULDBLOCK after hz/10 ticks: {console}");
}

#[test]
fn recursion_rules_and_mtx_owned() {
    let _g = common::lock();
    let (f, _) = panic_of("recurse");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("recursed on non-recursive lock (sleep mutex) fx a @ "), "{m}");
    assert!(m.contains("\nfirst acquired @ "), "{m}");
    assert!(m.contains("recursed at recurse+0x"), "{m}");
    // owned=1, recursed=1 while recursed, 0 after one unlock, not owned at the end.
    let (r, console) = call("recurse_allowed");
    assert_eq!(r.expect("MTX_RECURSE"), 11, "{console}");
}

#[test]
fn unlocking_and_destroying() {
    let _g = common::lock();
    let (f, _) = panic_of("unlock_not_owned");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("lock (sleep mutex) fx a not locked @ "), "{m}");
    assert!(m.contains("offending call at unlock_not_owned+0x"), "{m}");
    let (f, _) = panic_of("destroy_recursed");
    assert!(f.panic_message().unwrap().starts_with("Assertion (m->mtx_lock & (MTX_RECURSED|MTX_CONTESTED)) == 0 failed"), "{f}");
    let (f, _) = panic_of("destroy_held_sx");
    assert!(f.panic_message().unwrap().starts_with("sx lock still held"), "{f}");
    let (f, _) = panic_of("destroy_cv_with_waiters");
    assert!(f.panic_message().unwrap().starts_with("cv_destroy: associated sleep queue non-empty"), "{f}");
}

#[test]
fn lock_order_reversal_reports_both_orders() {
    let _g = common::lock();
    let (f, _) = panic_of("lor");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("lock order reversal:\n 1st 0x"), "{m}");
    assert!(m.contains(" fx b (fx b) @ "), "{m}");
    assert!(m.contains("\n 2nd 0x"), "{m}");
    assert!(m.contains("lock order fx a -> fx b established at:\n  lor+0x"), "{m}");
    assert!(m.contains("lock order fx b -> fx a attempted at:\n  lor+0x"), "{m}");
}

#[test]
fn thread_exiting_with_a_lock_held() {
    let _g = common::lock();
    let (f, _) = panic_of("thread_exits_with_lock");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("Thread 0x"), "{m}");
    assert!(m.contains(" exiting with the following locks held:\nexclusive sleep mutex fx a "), "{m}");
    assert!(m.contains("cannot exit while holding sleeplocks"), "{m}");
    assert!(m.contains("acquired at exit_with_lock+0x"), "{m}");
    assert_eq!(f.thread.as_ref().map(|t| t.1.as_str()), Some("fxexiter"), "{f}");
}

#[test]
fn deadlocks_are_reported_like_procstat() {
    let _g = common::lock();
    let (f, _) = panic_of("deadlock");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("deadlock: every thread is blocked and no timeout is pending"), "{m}");
    assert!(m.contains("sleepq_wait on wchan 0x"), "{m}");
    assert!(m.contains("wmesg \"fxnever\" <- deadlock+0x"), "{m}");
    let (f, _) = panic_of("deadlock_abba");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("deadlock: every thread is blocked"), "{m}");
    assert!(m.contains("kldload          kldload          mi_switch turnstile_wait on lock \"fx nw b\""), "{m}");
    assert!(m.contains("owned by tid 100001"), "{m}");
    assert!(m.contains("fxabba           mi_switch turnstile_wait on lock \"fx nw a\""), "{m}");
    assert!(m.contains("owned by tid 100000"), "{m}");
}

#[test]
fn a_spinning_kernel_thread_is_stopped_and_named() {
    let _g = common::lock();
    let opts = SimOptions { timeout: std::time::Duration::from_millis(300), ..SimOptions::default() };
    let (r, _) = call_opts("spin_in_thread", opts);
    let f = r.expect_err("watchdog");
    assert!(matches!(f.kind, FaultKind::Timeout(_)), "{f}");
    assert_eq!(f.symbol.as_deref(), Some("spinner"), "{f}");
    assert_eq!(f.thread.as_ref().map(|t| t.1.as_str()), Some("fxspinner"), "{f}");
    assert!(f.to_string().contains("current thread\t\t= tid 100001 (\"fxspinner\")"), "{f}");
}

/// The clock moves only when every thread waits on a deadline or on request
/// (`Kernel::sleep`, the `sleep SECONDS` command); a module unloaded while its thread still
/// exists is reported.
#[test]
fn simulated_clock_and_threads_left_at_unload() {
    let _g = common::lock();
    let ko = fixture();
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).expect("load");
    let t0 = k.ticks();
    assert_eq!(t0, 1000, "ticks start at hz (one second of uptime)");
    let start = k.lookup_symbol(id, "start_timer").unwrap();
    assert_eq!(k.call(start, &[]).expect("start"), 0);
    assert_eq!(k.ticks(), t0, "thread 0 was not blocked: time did not move");
    assert_eq!(k.threads(), vec![(100001, "fxtimer".to_string(), "sleeping on \"fxtimer\"".to_string())]);
    let read = |k: &Kernel, name: &str| {
        let a = k.lookup_symbol(id, name).unwrap();
        // SAFETY: an int of the loaded module.
        unsafe { (a as *const i32).read() }
    };
    k.sleep(std::time::Duration::from_millis(499)).expect("sleep");
    assert_eq!(read(&k, "timer_result"), -1, "not yet");
    k.sleep(std::time::Duration::from_millis(1)).expect("sleep");
    assert_eq!(read(&k, "timer_result"), 35, "EWOULDBLOCK");
    assert_eq!(read(&k, "timer_ticks"), 500);
    assert_eq!(k.ticks(), t0 + 500);
    assert!(k.threads().is_empty());
    // A thread left behind at unload.
    assert_eq!(k.call(start, &[]).expect("start"), 0);
    k.unload(id).expect("the unload itself succeeds");
    assert!(k.panics().iter().any(|p| p.contains("thread 100002 (fxtimer) still executing in unloaded module")), "{:?}", k.panics());
    assert!(k.threads().is_empty());
}

/// MTX_SYSINIT/SX_SYSINIT, sx_sleep, msleep_spin, trylock and the owner macros, on the 14.2
/// and 15.0 headers.
#[test]
fn kpi_mix_on_both_releases() {
    let _g = common::lock();
    for (target, rel) in [(common::Target::Fbsd14, SimRelease::V14_0), (common::Target::Fbsd15, SimRelease::V15_0)] {
        let ko = common::build(&format!("witnessfx-{target:?}"), &["witness.c"], target);
        let mut k = Kernel::boot(rel, SimOptions::default()).expect("boot");
        let id = k.load(&ko).expect("load");
        let f = k.lookup_symbol(id, "kpi_mix").unwrap();
        let r = k.call(f, &[]).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
        assert_eq!(r, 1_111_101, "{target:?}");
        k.unload(id).expect("unload");
        assert!(k.panics().is_empty(), "{:?}", k.panics());
    }
}

/// Threads that keep waking each other never let the call return: the watchdog stops the
/// whole call after a few deadlines and names the thread it caught.
#[test]
fn a_livelock_is_stopped_by_the_watchdog() {
    let _g = common::lock();
    let opts = SimOptions { timeout: std::time::Duration::from_millis(200), ..SimOptions::default() };
    let started = std::time::Instant::now();
    let (r, _) = call_opts("livelock", opts);
    let f = r.expect_err("watchdog");
    assert!(matches!(f.kind, FaultKind::Timeout(_)), "{f}");
    assert!(f.thread.as_ref().is_some_and(|t| t.1 == "fxping" || t.1 == "fxpong"), "{f}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

/// `mtx_assert`/`sx_assert` of a module built with INVARIANTS, in the kernel's words.
#[test]
fn invariants_assertions() {
    let _g = common::lock();
    let ko = common::build_with("witnessfx-invariants", &["witness.c"], common::Target::Fbsd14, &["-DINVARIANTS", "-DINVARIANT_SUPPORT"]);
    let run = |what: u64| {
        let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
        let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
        let f = k.lookup_symbol(id, "asserts").unwrap();
        k.call(f, &[what])
    };
    assert_eq!(run(0).expect("all assertions hold"), 0);
    let msg = |what| run(what).expect_err("assertion").panic_message().unwrap().to_string();
    assert!(msg(1).starts_with("mutex fx r owned at "), "{}", msg(1));
    assert!(msg(2).starts_with("mutex fx r unrecursed at "), "{}", msg(2));
    assert!(msg(3).starts_with("mutex fx a not owned at "), "{}", msg(3));
    assert!(msg(4).starts_with("Lock fx sx not exclusively locked @ "), "{}", msg(4));
    assert!(msg(3).contains("witness.c:"), "{}", msg(3));
}

/// Sleep priorities: `wakeup_one` wakes the best-priority sleeper first.
#[test]
fn wakeup_one_follows_sleep_priorities() {
    let _g = common::lock();
    let (r, console) = call("prio_order");
    assert_eq!(r.expect("prio_order"), 21, "{console}");
}

/// Returning to user space with a lock held (`userret: returning with the following locks
/// held:`), and a kernel thread overflowing its own guarded stack.
#[test]
fn userret_with_a_lock_and_thread_stack_overflow() {
    let _g = common::lock();
    let (f, _) = panic_of("return_with_lock");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("userret: returning with the following locks held:\nexclusive sleep mutex fx b "), "{m}");
    assert!(m.contains("acquired at return_with_lock+0x"), "{m}");
    let (r, _) = call("overflow_in_thread");
    let f = r.expect_err("overflow");
    assert!(matches!(f.kind, FaultKind::StackOverflow { .. }), "{f}");
    assert_eq!(f.thread.as_ref().map(|t| t.1.as_str()), Some("fxoverflow"), "{f}");
}

/// kproc_create/kproc_exit and the join on the process, under many interleavings.
#[test]
fn kproc_join_under_seeds() {
    let _g = common::lock();
    for seed in [None].into_iter().chain((1..=20).map(Some)) {
        let (r, console) = call_opts("kproc_start_stop", SimOptions { sched_seed: seed, ..SimOptions::default() });
        assert_eq!(r.unwrap_or_else(|e| panic!("seed {seed:?}: {e}\n{console}")), 1, "seed {seed:?}");
    }
}

/// Destroying a mutex another thread holds or waits for; an sx taken under a mutex.
#[test]
fn destroy_held_or_contested_mutex_and_sleepable_after_non_sleepable() {
    let _g = common::lock();
    let (f, _) = panic_of("destroy_held_by_other");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("Assertion mtx_unowned(m) failed at kern/kern_mutex.c"), "{m}");
    assert!(m.contains("offending call at destroy_held_by_other+0x"), "{m}");
    let (f, _) = panic_of("destroy_with_waiters");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("Assertion (m->mtx_lock & (MTX_RECURSED|MTX_CONTESTED)) == 0 failed"), "{m}");
    assert!(m.contains("with waiters"), "{m}");
    let (f, _) = panic_of("sx_after_mutex");
    let m = f.panic_message().unwrap();
    assert!(m.starts_with("lock order reversal: (sleepable after non-sleepable)\n 1st 0x"), "{m}");
    assert!(m.contains(" fx a (fx a) @ "), "{m}");
    assert!(m.contains(" fx sx (fx sx) @ "), "{m}");
}

/// `curthread` of each thread is its own: `td_tid`, `td_name`, `td_proc->p_pid`, `p_comm`
/// read by C code from the 14.2 and 15.0 headers.
#[test]
fn curthread_fields_on_both_releases() {
    let _g = common::lock();
    for (target, rel) in [(common::Target::Fbsd14, SimRelease::V14_0), (common::Target::Fbsd15, SimRelease::V15_0)] {
        let ko = common::build(&format!("witnessfx-{target:?}"), &["witness.c"], target);
        let mut k = Kernel::boot(rel, SimOptions::default()).expect("boot");
        let id = k.load(&ko).expect("load");
        let f = k.lookup_symbol(id, "whoami").unwrap();
        assert_eq!(k.call(f, &[]).expect("whoami"), 100000, "thread 0's tid");
        let int = |n: &str| {
            // SAFETY: an int of the loaded module.
            unsafe { (k.lookup_symbol(id, n).unwrap() as *const i32).read() }
        };
        let s = |n: &str| {
            // SAFETY: a NUL-terminated char[20] of the loaded module.
            unsafe { std::ffi::CStr::from_ptr(k.lookup_symbol(id, n).unwrap() as *const libc::c_char) }.to_string_lossy().into_owned()
        };
        assert_eq!(int("who_tid"), 100001, "{target:?}");
        assert_eq!(s("who_name"), "fxwho3", "{target:?}");
        assert_eq!(s("who_comm"), "fxproc", "{target:?}");
        assert!(int("who_pid") > 0, "{target:?}");
    }
}

/// `DELAY` advances the simulated clock (a busy-wait on `ticks` terminates).
#[test]
fn delay_moves_the_clock() {
    let _g = common::lock();
    let (r, console) = call("delay_loop");
    assert_eq!(r.expect("delay_loop"), 5, "{console}");
}

/// An `M_WAITOK` malloc that does not fit in the kmem arena sleeps ("vmwait") until another
/// thread frees memory.
#[test]
fn m_waitok_sleeps_until_memory_is_freed() {
    let _g = common::lock();
    let opts = SimOptions { kmem: 2 << 20, ..SimOptions::default() };
    let (r, console) = call_opts("kmem_wait", opts);
    let waited = r.unwrap_or_else(|e| panic!("{e}\n{console}"));
    assert_eq!(waited, 9, "the hog frees its memory 10 ticks after it started, 1 tick before: {console}");
}

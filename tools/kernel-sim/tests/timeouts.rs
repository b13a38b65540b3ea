//! Callouts, taskqueues and event handlers (kern_timeout.rs, subr_taskqueue.rs,
//! subr_eventhandler.rs) driven by `examples/c-twins/timeouts.c`, built from the real 14.2
//! and 15.0 headers: the counts and return values are what kern_timeout.c and
//! subr_taskqueue.c give.
mod common;
use std::time::Duration;

use kernel_sim::{Kernel, ModuleId, SimOptions, SimRelease};

struct T {
    k: Kernel,
    id: ModuleId,
}

impl T {
    fn new(target: common::Target, release: SimRelease) -> T {
        let ko = common::build(&format!("timeouts-{target:?}"), &["timeouts.c"], target);
        let mut k = Kernel::boot(release, SimOptions::default()).expect("boot");
        let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
        T { k, id }
    }
    fn call(&mut self, f: &str, args: &[u64]) -> i64 {
        let a = self.k.lookup_symbol(self.id, f).unwrap_or_else(|| panic!("no {f}"));
        let r = self.k.call(a, args).unwrap_or_else(|e| panic!("{f}: {e}\n{}", self.k.console()));
        r as u32 as i32 as i64
    }
    fn ms(&mut self, ms: u64) {
        self.k.sleep(Duration::from_millis(ms)).unwrap_or_else(|e| panic!("sleep: {e}\n{}", self.k.console()));
    }
}

fn both() -> [(common::Target, SimRelease); 2] {
    [(common::Target::Fbsd14, SimRelease::V14_0), (common::Target::Fbsd15, SimRelease::V15_0)]
}

#[test]
fn callout_fires_once_with_its_mutex_held_and_stop_drain_results() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        assert_eq!(m.call("to_arm", &[100]), 0, "not pending before");
        assert_eq!(m.call("to_pending", &[]), 1);
        m.ms(50);
        assert_eq!(m.call("to_fired_count", &[]), 0, "{r:?}: fired early");
        assert_eq!(m.call("to_arm", &[100]), 1, "reset of a pending callout returns 1");
        m.ms(99);
        assert_eq!(m.call("to_fired_count", &[]), 0, "{r:?}: the reset moved the deadline");
        m.ms(1);
        assert_eq!(m.call("to_fired_count", &[]), 1);
        assert_eq!(m.call("to_locked_count", &[]), 1, "callout_init_mtx: the handler runs with the mutex");
        assert_eq!(m.call("to_pending", &[]), 0);
        assert_eq!(m.call("to_active", &[]), 1, "CALLOUT_ACTIVE stays after it fired");
        assert_eq!(m.call("to_stop", &[]), -1, "stop of a callout neither pending nor running");
        // kern_timeout.c clears CALLOUT_ACTIVE only for a running or pending callout.
        assert_eq!(m.call("to_active", &[]), 1);
        assert_eq!(m.call("to_arm", &[10]), 0);
        assert_eq!(m.call("to_stop", &[]), 1, "stop of a pending callout");
        m.ms(100);
        assert_eq!(m.call("to_fired_count", &[]), 1, "a stopped callout does not fire");
        assert_eq!(m.call("to_arm", &[10]), 0);
        assert_eq!(m.call("to_drain", &[]), 1, "drain of a pending callout");
        assert_eq!(m.call("to_drain", &[]), -1);
        m.k.unload(m.id).expect("unload");
        assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
    }
}

#[test]
fn callouts_rearming_themselves_and_time_order() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        assert_eq!(m.call("to_arm_rearming", &[10, 4]), 0);
        m.ms(1000);
        assert_eq!(m.call("to_fired_count", &[]), 5, "{r:?}: first run + 4 re-arms");
        assert_eq!(m.call("to_rearm_result", &[]), 0, "re-arming from the handler: not pending");
        m.k.unload(m.id).expect("unload");
    }
}

#[test]
fn a_locked_callout_waiting_for_its_mutex_is_cancelled_by_stop() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        // reset -> 0, stop while softclock waits for the mutex -> 1 (cc_exec_cancel).
        assert_eq!(m.call("to_stop_while_due", &[]), 1);
        m.ms(100);
        assert_eq!(m.call("to_fired_count", &[]), 0, "{r:?}: the cancelled callout ran");
        m.k.unload(m.id).expect("unload");
        assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
    }
}

#[test]
fn a_callout_rearming_itself_while_drained_stops() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        // Re-arms forever; the drain lands while it runs (seeded schedules) or while it is
        // pending: either way it ends with the callout neither pending nor running.
        assert_eq!(m.call("to_arm_rearming", &[10, 1_000_000]), 0);
        m.ms(55);
        let fired = m.call("to_fired_count", &[]);
        assert_eq!(fired, 5, "{r:?}");
        let d = m.call("to_drain", &[]);
        assert_eq!(d, 1, "{r:?}: drain took the pending callout off");
        m.ms(200);
        assert_eq!(m.call("to_fired_count", &[]), fired, "{r:?}: fired after the drain");
        assert_eq!(m.call("to_pending", &[]), 0);
        m.k.unload(m.id).expect("unload");
        assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
    }
}

#[test]
fn drain_waits_for_a_running_callout_that_rearms_and_it_is_not_rescheduled() {
    let _g = common::lock();
    for seed in 1..=20u64 {
        let ko = common::build("timeouts-Fbsd15", &["timeouts.c"], common::Target::Fbsd15);
        let mut k = Kernel::boot(SimRelease::V15_0, SimOptions { sched_seed: Some(seed), ..SimOptions::default() }).expect("boot");
        let id = k.load(&ko).expect("load");
        let f = |k: &Kernel, n: &str| k.lookup_symbol(id, n).unwrap();
        let arm = f(&k, "to_arm_rearming");
        k.call(arm, &[10, 1_000_000]).unwrap();
        k.sleep(Duration::from_millis(30)).unwrap();
        let drain = f(&k, "to_drain");
        let d = k.call(drain, &[]).unwrap() as u32 as i32;
        assert!(d == 1 || d == -1, "seed {seed}: drain returned {d}");
        let fired = k.call(f(&k, "to_fired_count"), &[]).unwrap();
        k.sleep(Duration::from_millis(200)).unwrap();
        assert_eq!(k.call(f(&k, "to_fired_count"), &[]).unwrap(), fired, "seed {seed}: fired after the drain");
        k.unload(id).expect("unload");
        assert!(k.panics().is_empty(), "seed {seed}: {:?}", k.panics());
    }
}

#[test]
fn unload_with_a_callout_pending_is_reported() {
    let _g = common::lock();
    let mut m = T::new(common::Target::Fbsd14, SimRelease::V14_0);
    m.call("to_arm", &[1000]);
    m.k.unload(m.id).expect("unload");
    let p = m.k.panics().join("\n");
    assert!(p.contains("still armed after the module was unloaded: callout"), "{p}");
    assert!(p.contains("to_callout"), "names the function: {p}");
}

#[test]
fn a_callout_that_sleeps_is_reported() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        m.call("to_arm_sleeping", &[10]);
        let e = m.k.sleep(Duration::from_millis(20)).expect_err("the handler sleeps");
        let s = e.to_string();
        assert!(s.contains("with sleeping prohibited"), "{r:?}: {s}");
        assert!(s.contains("to_callout"), "{s}");
    }
}

#[test]
fn callout_stop_without_the_callout_mutex_panics() {
    let _g = common::lock();
    let mut m = T::new(common::Target::Fbsd15, SimRelease::V15_0);
    let a = m.k.lookup_symbol(m.id, "to_stop_unlocked").unwrap();
    let e = m.k.call(a, &[]).expect_err("lc_assert");
    assert!(e.to_string().contains("mutex to_mtx not owned"), "{e}");
}

#[test]
fn tasks_coalesce_with_a_pending_count_and_drain() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        // The system queue thread only runs when thread 0 gives the CPU up: the 3 enqueues
        // of one call coalesce into one run with pending 3.
        assert_eq!(m.call("to_enqueue", &[3]), 0);
        assert_eq!(m.call("to_task_runs_count", &[]), 1, "{r:?}");
        assert_eq!(m.call("to_task_last", &[]), 3);
        assert_eq!(m.call("to_enqueue", &[1]), 0);
        m.call("to_task_drain", &[]);
        assert_eq!(m.call("to_task_runs_count", &[]), 2);
        assert_eq!(m.call("to_task_pending_total", &[]), 4);
        assert_eq!(m.call("to_task_cancel", &[]), 0, "cancel of an idle task: 0, pending 0");
        m.k.unload(m.id).expect("unload");
        assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
    }
}

#[test]
fn enqueue_flags_fail_if_pending_on_14_and_15() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        // First enqueue 0, second EEXIST (17); the task runs once.
        assert_eq!(m.call("to_enqueue_fail_if_pending", &[]), 17, "{r:?}");
        assert_eq!(m.call("to_task_runs_count", &[]), 1);
        assert_eq!(m.call("to_task_last", &[]), 1);
        m.k.unload(m.id).expect("unload");
    }
}

#[test]
fn private_queue_timeout_task_and_free() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        assert_eq!(m.call("to_private_start", &[]), 0);
        assert!(m.k.threads().iter().any(|(_, n, _)| n == "to taskq"), "{:?}", m.k.threads());
        assert_eq!(m.call("to_private_enqueue", &[2]), 0);
        assert_eq!(m.call("to_task_runs_count", &[]), 1);
        assert_eq!(m.call("to_task_last", &[]), 2);
        // Timeout task: armed 100 ticks, re-armed (returns pending 0 + armed 1).
        assert_eq!(m.call("to_timeout_arm", &[100]), 0);
        assert_eq!(m.call("to_timeout_rearm", &[100]), 1);
        m.ms(99);
        assert_eq!(m.call("to_task_runs_count", &[]), 1, "{r:?}: early");
        m.ms(1);
        assert_eq!(m.call("to_task_runs_count", &[]), 2, "{r:?}: the timeout task ran");
        assert_eq!(m.call("to_timeout_arm", &[100]), 0);
        assert_eq!(m.call("to_timeout_cancel", &[]), 1, "cancel: 0 error, 1 pending (the stopped callout)");
        m.ms(200);
        assert_eq!(m.call("to_task_runs_count", &[]), 2);
        // taskqueue_drain_timeout alone leaves an armed timeout task armed (DT_CALLOUT_ARMED,
        // tq_callouts): cancel first, then drain.
        assert_eq!(m.call("to_timeout_arm", &[10]), 0);
        assert_eq!(m.call("to_timeout_cancel", &[]), 1);
        m.call("to_timeout_drain", &[]);
        m.call("to_private_free", &[]);
        assert!(!m.k.threads().iter().any(|(_, n, _)| n == "to taskq"), "{:?}", m.k.threads());
        m.k.unload(m.id).expect("unload");
        assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
    }
}

#[test]
fn taskqueue_free_with_an_armed_timeout_task_is_reported() {
    let _g = common::lock();
    let mut m = T::new(common::Target::Fbsd15, SimRelease::V15_0);
    assert_eq!(m.call("to_private_start", &[]), 0);
    assert_eq!(m.call("to_timeout_arm", &[10]), 0);
    m.call("to_timeout_drain", &[]);
    let a = m.k.lookup_symbol(m.id, "to_private_free").unwrap();
    let e = m.k.call(a, &[]).expect_err("armed timeout task");
    assert!(e.to_string().contains("Armed timeout tasks"), "{e}");
}

#[test]
fn event_handlers_run_on_shutdown_and_lowmem_and_deregister() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        let var = |m: &T, n: &str| {
            let a = m.k.lookup_symbol(m.id, n).unwrap();
            // SAFETY: a 4-byte int of the loaded module.
            unsafe { (a as *const i32).read() }
        };
        m.call("to_ev_register", &[]);
        m.k.lowmem().unwrap();
        assert_eq!(var(&m, "to_ev_low"), 1);
        assert_eq!(var(&m, "to_ev_low_flags"), 2, "VM_LOW_PAGES");
        m.k.shutdown().unwrap();
        assert_eq!((var(&m, "to_ev_pre"), var(&m, "to_ev_final")), (1, 1), "{r:?}");
        m.call("to_ev_deregister", &[]);
        m.k.lowmem().unwrap();
        assert_eq!(var(&m, "to_ev_low"), 1, "deregistered");
        m.k.unload(m.id).expect("unload");
        assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
    }
}

#[test]
fn unload_with_an_event_handler_registered_is_reported() {
    let _g = common::lock();
    let mut m = T::new(common::Target::Fbsd15, SimRelease::V15_0);
    m.call("to_ev_register", &[]);
    m.k.unload(m.id).expect("unload");
    let p = m.k.panics().join("\n");
    assert!(p.contains("event handler") && p.contains("to_on_pre"), "{p}");
}

/// The C twin of examples/ticker: 10 ticks and 1 task in one simulated second, shown by
/// `sysctl`, the same console lines as the Rust module, everything drained on unload.
#[test]
fn ticker_twin_ticks_ten_times_a_second() {
    let _g = common::lock();
    for (t, r) in both() {
        let ko = common::build(&format!("ticker-{t:?}"), &["ticker.c"], t);
        let mut k = Kernel::boot(r, SimOptions::default()).expect("boot");
        let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
        k.sleep(Duration::from_secs(1)).expect("sleep");
        let o = kernel_sim::user::sysctl::run(&mut k, &["debug.ticker"], kernel_sim::kern::kern_sysctl::SysctlCred::ROOT).expect("sysctl");
        assert_eq!(o.stdout, "debug.ticker.tasks: 1\ndebug.ticker.ticks: 10\n", "{r:?}");
        k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
        assert!(k.panics().is_empty(), "{:?}", k.panics());
        assert_eq!(k.console(), "ticker: ticking every 100 ms\nticker: stopped after 10 ticks, 1 tasks\n", "{r:?}");
    }
}

/// 14.x: `_callout_stop_safe` has the async-drain argument (callout_async_drain): the
/// handler waiting for the held mutex still runs, then the drain function.
#[test]
fn callout_async_drain_on_14_calls_the_drain_function_after_the_handler() {
    let _g = common::lock();
    let mut m = T::new(common::Target::Fbsd14, SimRelease::V14_0);
    assert_eq!(m.call("to_async_drain_while_due", &[]), 0, "running, not stopped");
    m.ms(10);
    assert_eq!(m.call("to_fired_count", &[]), 1);
    assert_eq!(m.call("to_drained_count", &[]), 1);
    m.k.unload(m.id).expect("unload");
    assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
}

/// The arity per release: a 2-argument-style call with garbage in %rdx is caught on 14.x
/// (the kernel would call it), and harmless on 15.0 (the register is never read: the
/// running callout waiting for the mutex is cancelled, stop returns 1).
#[test]
fn a_garbage_third_argument_matters_on_14_only() {
    let _g = common::lock();
    let mut m = T::new(common::Target::Fbsd14, SimRelease::V14_0);
    let a = m.k.lookup_symbol(m.id, "to_stop_with_garbage_drain").unwrap();
    let e = m.k.call(a, &[]).expect_err("garbage drain function on 14");
    assert!(e.to_string().contains("async-drain function 0x1234 is not kernel or module code"), "{e}");
    let mut m15 = {
        drop(m);
        T::new(common::Target::Fbsd15, SimRelease::V15_0)
    };
    assert_eq!(m15.call("to_stop_with_garbage_drain", &[]), 1);
    m15.ms(10);
    assert_eq!(m15.call("to_fired_count", &[]), 0, "cancelled");
    m15.k.unload(m15.id).expect("unload");
    assert!(m15.k.panics().is_empty(), "{:?}", m15.k.panics());
}

/// The case: a callout that re-arms itself while it is being drained. The handler
/// is running (waiting for its mutex, held by another thread) when `callout_drain` starts;
/// drain waits ("codrain"), the handler's `callout_reset` does not reschedule it (and
/// returns 0), and drain returns -1 (neither pending nor running any more).
#[test]
fn a_callout_rearming_itself_while_being_drained_is_not_rescheduled() {
    let _g = common::lock();
    for (t, r) in both() {
        let mut m = T::new(t, r);
        assert_eq!(m.call("to_drain_while_running", &[]), -1, "{r:?}");
        assert_eq!(m.call("to_fired_count", &[]), 1);
        assert_eq!(m.call("to_rearm_result", &[]), 0, "the re-arm inside the drain");
        assert_eq!(m.call("to_pending", &[]), 0, "not rescheduled");
        m.ms(100);
        assert_eq!(m.call("to_fired_count", &[]), 1);
        m.k.unload(m.id).expect("unload");
        assert!(m.k.panics().is_empty(), "{:?}", m.k.panics());
    }
}

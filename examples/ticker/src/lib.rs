//! `ticker.ko`: a [`Callout`] ticks every 100 ms, counting under its mutex; every 10th tick
//! it queues a [`Task`] on the system taskqueue that does sleepable work (an `M_WAITOK`
//! allocation and its free), which a callout handler may not do itself.
//!
//! - `debug.ticker.ticks` and `debug.ticker.tasks` are read-only sysctls (a [`SysctlCtx`]).
//! - On unload the state is dropped in field order: the sysctls (waiting for running
//!   handlers), then the callout (drained: no tick runs or re-arms afterwards), whose value
//!   holds the task (drained: a queued run finishes first). Then the counts are printed.
//!
//! Safe Rust only. Its C twin is `examples/c-twins/ticker.c`; both print the same lines and
//! show `debug.ticker.ticks: 10` under `cargo kmod run ticker --exec 'sleep 1' --exec
//! 'sysctl debug.ticker.ticks'`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use freebsd_kmi::callout::{After, Callout, Rearm};
use freebsd_kmi::errno::Errno;
use freebsd_kmi::heap::KBox;
use freebsd_kmi::kprintln;
use freebsd_kmi::malloc::Flags as MallocFlags;
use freebsd_kmi::module::Module;
use freebsd_kmi::sysctl::{Flags, Root, SysctlCtx};
use freebsd_kmi::taskqueue::{Task, TaskQueue};

freebsd_kmi::malloc_define!(M_TICKER, "ticker_work", "Work buffers of the ticker example module");

/// The tick period.
const PERIOD: Duration = Duration::from_millis(100);
/// A task every this many ticks.
const TASK_EVERY: u64 = 10;

/// Counters the sysctls read.
struct Stats {
    ticks: AtomicU64,
    tasks: AtomicU64,
}

/// The callout's value: touched only with the callout's mutex held.
struct Ticking {
    ticks: u64,
    stats: Arc<Stats>,
    work: Task<Arc<Stats>>,
}

/// The callout handler: the mutex is held, no sleeping.
fn tick(t: &mut Ticking, rearm: &mut Rearm) {
    t.ticks += 1;
    t.stats.ticks.store(t.ticks, Ordering::Relaxed);
    if t.ticks % TASK_EVERY == 0 {
        t.work.enqueue(); // never sleeps
    }
    rearm.reset(After::duration(PERIOD));
}

/// The task handler: thread context, may sleep.
fn work(stats: &Arc<Stats>, _pending: u32) {
    if let Ok(buf) = KBox::<[u8; 512]>::try_new_in([0u8; 512], MallocFlags::WAITOK, &M_TICKER) {
        drop(buf);
    }
    stats.tasks.fetch_add(1, Ordering::Relaxed);
}

/// The module's state.
struct Ticker {
    /// Dropped first on unload, in tuple order: the sysctls, then the callout (and its task).
    running: Option<(SysctlCtx<Arc<Stats>>, Callout<Ticking>)>,
    stats: Arc<Stats>,
}

impl Module for Ticker {
    fn load() -> Result<Self, Errno> {
        let stats = Arc::new(Stats { ticks: AtomicU64::new(0), tasks: AtomicU64::new(0) });
        let work = Task::new(&TaskQueue::system()?, stats.clone(), work)?;
        let callout = Callout::new(Ticking { ticks: 0, stats: stats.clone(), work }, tick)?;
        let mut sysctl = SysctlCtx::new(stats.clone())?;
        let node = sysctl.add_node(Root::DEBUG, c"ticker", c"ticker example")?;
        sysctl.add_ro(node, c"ticks", Flags::empty(), c"callout runs", |s: &Arc<Stats>, _| s.ticks.load(Ordering::Relaxed))?;
        sysctl.add_ro(node, c"tasks", Flags::empty(), c"task runs", |s: &Arc<Stats>, _| s.tasks.load(Ordering::Relaxed))?;
        callout.reset(After::duration(PERIOD));
        kprintln!("ticker: ticking every 100 ms");
        Ok(Ticker { running: Some((sysctl, callout)), stats })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        // Remove the sysctls, drain the callout and the task: nothing counts any more.
        drop(self.running.take());
        kprintln!(
            "ticker: stopped after {} ticks, {} tasks",
            self.stats.ticks.load(Ordering::Relaxed),
            self.stats.tasks.load(Ordering::Relaxed)
        );
    }
}

freebsd_kmi::module! {
    type: Ticker,
    name: "ticker",
    version: 1,
}

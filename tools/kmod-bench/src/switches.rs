//! Simulator throughput: context switches per second between simulated kernel threads.
//!
//! The C twin of the `workers` example (two kernel threads, a mutex and a condition
//! variable; `examples/c-twins/workers.c`) is loaded and unloaded in one simulated kernel
//! whose scheduler is seeded (every lock, sleep and wakeup is a preemption point), natively
//! (not under callgrind), and the simulator's context-switch counter is divided by the wall
//! time. A number to watch, not a pass/fail test.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use kernel_sim::{Kernel, SimOptions, SimRelease};

/// One measurement.
#[derive(Debug, Clone, Copy)]
pub struct Switches {
    /// Load + unload cycles run.
    pub cycles: u64,
    /// Context switches counted by the simulator.
    pub switches: u64,
    /// Wall time of the cycles, seconds.
    pub secs: f64,
}

impl Switches {
    /// Context switches per second.
    pub fn per_sec(&self) -> f64 {
        self.switches as f64 / self.secs.max(1e-9)
    }
}

/// Loads and unloads `ko` (a 14.0 module) `cycles` times with scheduler seed 1.
pub fn measure(ko: &Path, cycles: u64) -> anyhow::Result<Switches> {
    let opts = SimOptions {
        sched_seed: Some(1),
        ..SimOptions::default()
    };
    let mut k = Kernel::boot(SimRelease::V14_0, opts).context("boot the simulated kernel")?;
    let t0 = Instant::now();
    for _ in 0..cycles {
        let id = k
            .load(ko)
            .map_err(|e| anyhow::anyhow!("kldload {}: {e}\n{}", ko.display(), k.console()))?;
        k.unload(id)
            .map_err(|e| anyhow::anyhow!("kldunload {}: {e}\n{}", ko.display(), k.console()))?;
        k.take_console();
    }
    let secs = t0.elapsed().as_secs_f64();
    Ok(Switches {
        cycles,
        switches: k.context_switches(),
        secs,
    })
}

/// The report section.
pub fn render(s: &Switches) -> String {
    format!(
        "### Simulator: context switches\n\n\
         workers.c (C twin of examples/workers: 2 kernel threads, mutex + condvar), {} load + unload \
         cycles with scheduler seed 1, natively: {} context switches in {:.3} s = **{:.0} switches/s** \
         (each switch: callee-saved registers + `%rsp` on the thread's own stack, `curthread` \
         update, watchdog re-arm, the scheduler's bookkeeping; the wall time also includes linking, loading and unloading the module, so this is a lower bound).\n",
        s.cycles,
        s.switches,
        s.secs,
        s.per_sec()
    )
}

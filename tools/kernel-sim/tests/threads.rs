//! Kernel threads, the scheduler and locks: the `workers` C twin (two kthreads, a mutex, a
//! condition variable, join on unload) under the deterministic scheduler and many seeds.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

fn run_workers(target: common::Target, release: SimRelease, seed: Option<u64>) -> String {
    let ko = common::build(&format!("workers-{target:?}"), &["workers.c"], target);
    let opts = SimOptions { sched_seed: seed, ..SimOptions::default() };
    let mut k = Kernel::boot(release, opts).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load (seed {seed:?}): {e}\n{}", k.console()));
    k.unload(id).unwrap_or_else(|e| panic!("unload (seed {seed:?}): {e}\n{}", k.console()));
    assert!(k.panics().is_empty(), "seed {seed:?}: {:?}\n{}", k.panics(), k.console());
    assert!(k.threads().is_empty(), "threads left: {:?}", k.threads());
    k.take_console()
}

const EXPECTED: &str = "workers: started 2 threads, handed out 10 work items\nworkers: stopped 2 threads, total 10\n";

#[test]
fn workers_deterministic_14_and_15() {
    let _g = common::lock();
    assert_eq!(run_workers(common::Target::Fbsd14, SimRelease::V14_0, None), EXPECTED);
    assert_eq!(run_workers(common::Target::Fbsd15, SimRelease::V15_0, None), EXPECTED);
}

#[test]
fn workers_every_seed_gives_the_same_lines() {
    let _g = common::lock();
    for seed in 1..=30 {
        assert_eq!(run_workers(common::Target::Fbsd14, SimRelease::V14_0, Some(seed)), EXPECTED, "seed {seed}");
    }
}

#[test]
fn seeded_schedules_switch_threads_and_replay_exactly() {
    let _g = common::lock();
    let ko = common::build("workers-Fbsd14", &["workers.c"], common::Target::Fbsd14);
    let switches = |seed| {
        let mut k = Kernel::boot(SimRelease::V14_0, SimOptions { sched_seed: seed, ..SimOptions::default() }).expect("boot");
        let id = k.load(&ko).expect("load");
        k.unload(id).expect("unload");
        k.context_switches()
    };
    let det = switches(None);
    assert!(det > 0, "threads never ran");
    assert_eq!(switches(Some(7)), switches(Some(7)), "a seed replays exactly");
    let distinct: std::collections::BTreeSet<u64> = (1..=10).map(|s| switches(Some(s))).collect();
    assert!(distinct.len() > 1, "seeds should give different interleavings: {distinct:?}");
}

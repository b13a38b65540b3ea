//! Use after unload: a thread that still has to execute a module's text (or return into it)
//! when kldunload frees the file is reported (`src/kern/kern_linker.rs`), under the seeded
//! schedules that expose the race; the joined-on-`td` idiom of `workers.c` never is.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

/// Load and unload `ko` with `seed`; the panics the simulator reported.
fn cycle(ko: &std::path::Path, seed: Option<u64>) -> (Vec<String>, String) {
    let opts = SimOptions { sched_seed: seed, ..SimOptions::default() };
    let mut k = Kernel::boot(SimRelease::V14_0, opts).expect("boot");
    let id = k.load(ko).unwrap_or_else(|e| panic!("load (seed {seed:?}): {e}\n{}", k.console()));
    k.unload(id).unwrap_or_else(|e| panic!("unload (seed {seed:?}): {e}\n{}", k.console()));
    assert!(k.threads().is_empty(), "threads left: {:?}", k.threads());
    (k.panics().to_vec(), k.take_console())
}

#[test]
fn thread_returning_into_freed_text_is_reported_under_some_seed() {
    let _g = common::lock();
    let ko = common::build("unload_race-Fbsd14", &["unload_race.c"], common::Target::Fbsd14);
    let mut found = None;
    for seed in 1..=50 {
        let (panics, console) = cycle(&ko, Some(seed));
        if let Some(p) = panics.first() {
            found = Some((seed, p.clone(), console));
            break;
        }
    }
    let (seed, p, console) = found.expect("no seed in 1..=50 exposed the unload race of unload_race.c");
    assert!(p.contains("still executing in unloaded module unload_race-Fbsd14.ko at unload_race_thread+"), "seed {seed}: {p}");
    assert!(p.starts_with("kldunload: thread 1000"), "seed {seed}: {p}");
    assert!(console.contains("panic: kldunload: thread"), "{console}");
    // The same seed replays the same report.
    assert_eq!(cycle(&ko, Some(seed)).0.first(), Some(&p));
}

#[test]
fn workers_joined_on_their_thread_pass_every_seed() {
    let _g = common::lock();
    let ko = common::build("workers-Fbsd14", &["workers.c"], common::Target::Fbsd14);
    for seed in [None].into_iter().chain((1..=50).map(Some)) {
        let (panics, _) = cycle(&ko, seed);
        assert!(panics.is_empty(), "seed {seed:?}: {panics:?}");
    }
}

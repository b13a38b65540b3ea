//! printf(9) is a preemption point under seeded schedules: two threads that only print get
//! their lines interleaved by some seeds (examples/c-twins/printers.c), each line whole.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

fn console(seed: Option<u64>) -> String {
    let ko = common::build("printers-Fbsd14", &["printers.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions { sched_seed: seed, ..SimOptions::default() }).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load (seed {seed:?}): {e}\n{}", k.console()));
    k.unload(id).expect("unload");
    assert!(k.panics().is_empty(), "{:?}", k.panics());
    k.take_console()
}

/// Whether the lines of the two threads alternate at least twice (not one block each).
fn interleaved(c: &str) -> bool {
    let ids: Vec<char> = c.lines().filter_map(|l| l.strip_prefix("printers: thread ")).filter_map(|l| l.chars().next()).collect();
    assert_eq!(ids.len(), 8, "{c}");
    ids.windows(2).filter(|w| w[0] != w[1]).count() >= 2
}

#[test]
fn printf_lets_a_seeded_schedule_switch_threads() {
    let _g = common::lock();
    assert!(!interleaved(&console(None)), "the FIFO scheduler runs each thread until it blocks");
    let seeds: Vec<u64> = (1..=20).filter(|&s| interleaved(&console(Some(s)))).collect();
    assert!(!seeds.is_empty(), "no seed in 1..=20 preempted a thread inside its printf loop");
    for c in (1..=20).map(|s| console(Some(s))) {
        for l in c.lines() {
            assert!(l.starts_with("printers: thread ") && l.contains(" line "), "each line whole: {l:?}");
        }
    }
}

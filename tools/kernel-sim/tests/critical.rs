//! malloc(9), free(9) and realloc(9) with a spin mutex or a critical section held panic with
//! kern_malloc.c's INVARIANTS messages at the module's call; critical_enter()/critical_exit()
//! from a module (`critical_enter_KBI`) count like spin mutexes do.
//! Fixture: examples/c-twins/critical.c (real 14.2 and 15.0 headers).
mod common;
use kernel_sim::{Fault, FaultKind, Kernel, SimOptions, SimRelease};

fn call(target: common::Target, release: SimRelease, func: &str) -> Result<u64, Fault> {
    let ko = common::build(&format!("critfx-{target:?}"), &["critical.c"], target);
    let mut k = Kernel::boot(release, SimOptions::default()).expect("boot");
    let id = k.load(&ko).expect("load");
    let addr = k.lookup_symbol(id, func).expect("symbol");
    k.call(addr, &[])
}

fn panic_of(target: common::Target, release: SimRelease, func: &str) -> (String, Option<String>) {
    let f = call(target, release, func).expect_err(&format!("{func} must panic"));
    assert!(matches!(f.kind, FaultKind::Panic(_)), "{f}");
    (f.panic_message().unwrap().to_string(), f.symbol.clone())
}

#[test]
fn allocator_calls_in_a_critical_section_panic_like_invariants() {
    let _g = common::lock();
    for (target, release) in [(common::Target::Fbsd14, SimRelease::V14_0), (common::Target::Fbsd15, SimRelease::V15_0)] {
        for (func, msg) in [
            ("malloc_nowait_with_spin", "malloc: called with spinlock or critical section held"),
            ("malloc_waitok_in_critical", "malloc: called with spinlock or critical section held"),
            ("free_in_critical", "free: called with spinlock or critical section held"),
            ("free_null_with_spin", "free: called with spinlock or critical section held"),
            ("realloc_with_spin", "realloc: called with spinlock or critical section held"),
            ("critical_exit_unbalanced", "critical_exit: td_critnest == 0"),
            ("pause_in_critical", "mi_switch: switch in a critical section"),
        ] {
            let (m, sym) = panic_of(target, release, func);
            assert!(m.starts_with(msg), "{func}: {m}");
            assert_eq!(sym.as_deref(), Some(func), "{func}: the panic names the module's call");
        }
        assert_eq!(call(target, release, "malloc_outside_critical").expect("allowed"), 0);
        let f = call(target, release, "return_in_critical").expect_err("returning to user space in a critical section");
        assert_eq!(f.panic_message(), Some("userret: Returning in a critical section"), "{f}");
    }
}

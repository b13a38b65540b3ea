//! A leaked allocation is reported by malloc_uninit at unload, like the kernel does.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

#[test]
fn leak_is_reported_at_unload() {
    let _g = common::lock();
    let ko = common::build("leak", &["leak.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    k.unload(id).expect("unload");
    // kern_malloc.c malloc_uninit(); 100 bytes come from the 128-byte zone.
    assert!(
        k.console().contains("Warning: memory type leaky leaked memory on destroy (1 allocations, 128 bytes leaked).\n"),
        "console: {}",
        k.console()
    );
    let t = k.malloc_type("leaky").expect("type");
    assert_eq!((t.live_allocs, t.live_bytes, t.total_allocs, t.total_frees), (1, 128, 1, 0));
}

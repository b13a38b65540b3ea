//! 1000 kldload/kldunload cycles of the hello twin leave nothing behind.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

#[test]
fn thousand_load_unload_cycles_are_leak_free() {
    let _g = common::lock();
    let ko = common::build("hello-cycles", &["hello.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    for i in 0..1000 {
        let id = k.load(&ko).unwrap_or_else(|e| panic!("cycle {i}: {e}\n{}", k.console()));
        k.unload(id).unwrap_or_else(|e| panic!("cycle {i}: {e}"));
        let c = k.take_console();
        assert_eq!(c, "Hello, world! 40+2=42\nGoodbye, world!\n", "cycle {i}");
    }
    let t = k.malloc_type("hello").expect("type");
    assert_eq!((t.total_allocs, t.total_frees, t.live_allocs, t.live_bytes), (1000, 1000, 0, 0));
    assert!(k.files().is_empty() && k.modules().is_empty());
    drop(k);
    // A second kernel can be booted in the same process after the first is gone.
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("second boot");
    let id = k.load(&ko).expect("load in second kernel");
    k.unload(id).expect("unload in second kernel");
}

//! MDT_DEPEND on "kernel" is checked against the simulated release's __FreeBSD_version, and
//! 13.1 modules (24-byte sysinit) run on the simulated 13.1 kernel.
mod common;
use kernel_sim::{Kernel, LoadError, SimOptions, SimRelease};

#[test]
fn a_14_0_module_is_rejected_by_13_1_and_15_0() {
    let _g = common::lock();
    let ko = common::build("hello-rel", &["hello.c"], common::Target::Fbsd14);
    for rel in [SimRelease::V13_1, SimRelease::V15_0] {
        let mut k = Kernel::boot(rel, SimOptions::default()).expect("boot");
        let e = k.load(&ko).expect_err("version mismatch");
        assert_eq!(e, LoadError::Dependency { file: "hello-rel.ko".into(), module: "kernel".into() });
        assert!(
            k.console().contains("KLD hello-rel.ko: depends on kernel - not available or version mismatch\n"),
            "{}",
            k.console()
        );
        assert!(k.files().is_empty() && k.modules().is_empty());
    }
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).expect("loads on 14.0");
    k.unload(id).expect("unload");
}

#[test]
fn a_13_1_module_runs_on_13_1_only() {
    let _g = common::lock();
    // Hand-built 13.x layouts (no 13.x headers exist here; see examples/c-twins/hello13.c).
    let ko = common::build("hello13", &["hello13.c"], common::Target::Bare);
    let mut k = Kernel::boot(SimRelease::V13_1, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    assert!(k.console().contains("hello13: loaded on a 13.x kernel\n"));
    k.unload(id).expect("unload");
    assert!(k.console().ends_with("hello13: unloaded\n"), "{}", k.console());
    let t = k.malloc_type("hello13").expect("type");
    assert_eq!((t.total_allocs, t.live_allocs, t.initialized), (1, 0, false));
    drop(k);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let e = k.load(&ko).expect_err("13.1 module on 14.0");
    assert!(matches!(e, LoadError::Dependency { ref module, .. } if module == "kernel"), "{e:?}");
}

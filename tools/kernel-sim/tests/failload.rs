//! A failing MOD_LOAD: module_register_init sends MOD_UNLOAD and prints the kernel's message;
//! the file, left without modules, is unloaded (ENOEXEC) and its SYSUNINITs run.
mod common;
use kernel_sim::{Kernel, LoadError, SimOptions, SimRelease};

#[test]
fn failed_mod_load_unloads_the_file() {
    let _g = common::lock();
    let ko = common::build("failload", &["failload.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let e = k.load(&ko).expect_err("MOD_LOAD fails");
    assert_eq!(e, LoadError::ModulesFailed { file: "failload.ko".into() });
    assert_eq!(e.errno(), 8);
    let c = k.console().to_string();
    assert!(c.contains("failload: MOD_UNLOAD cleans up\nmodule_register_init: MOD_LOAD (failload, 0x"), "{c}");
    assert!(c.contains(") error 6\n"), "{c}");
    assert!(k.files().is_empty() && k.modules().is_empty());
    // The handler's own errno (ENXIO) is kept for tools, although kldload returns ENOEXEC.
    assert_eq!(k.mod_load_errors(), &[("failload".to_string(), 6)]);
    let t = k.malloc_type("failload").expect("type");
    assert_eq!((t.live_allocs, t.total_allocs, t.initialized), (0, 1, false), "SYSUNINIT malloc_uninit ran");
}

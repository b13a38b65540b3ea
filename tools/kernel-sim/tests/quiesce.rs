//! A module refusing MOD_QUIESCE stays loaded; kldunload returns its error.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease, UnloadError};

#[test]
fn refused_quiesce_keeps_the_module_loaded() {
    let _g = common::lock();
    let ko = common::build("busy", &["busy.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    let e = k.unload(id).expect_err("EBUSY");
    assert_eq!(e, UnloadError::Quiesce { module: "busy".into(), error: 16 });
    assert_eq!(e.errno(), 16);
    assert!(k.is_loaded(id));
    assert_eq!(k.modules(), ["busy".to_string()]);
    assert!(k.console().contains("busy: still in use\n"));
    assert!(!k.console().contains("busy: unloaded"));
    let release = k.lookup_symbol(id, "busy_release").expect("busy_release");
    k.call(release, &[]).expect("call");
    k.unload(id).expect("unload after release");
    assert!(k.console().ends_with("busy: unloaded\n"), "{}", k.console());
    assert!(!k.is_loaded(id));
}

#[test]
fn shutdown_event_reaches_modules() {
    let _g = common::lock();
    let ko = common::build("busy-shutdown", &["busy.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    k.load(&ko).expect("load");
    // busy returns EOPNOTSUPP for MOD_SHUTDOWN.
    assert_eq!(k.shutdown().expect("shutdown"), vec![("busy".to_string(), 45)]);
}

/// `kldunload -f`: MOD_QUIESCE's refusal is ignored and MOD_UNLOAD sent (kern_linker.c
/// `linker_file_unload` with `LINKER_UNLOAD_FORCE`).
#[test]
fn forced_unload_ignores_a_refused_quiesce() {
    let _g = common::lock();
    let ko = common::build("busy-force", &["busy.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    k.unload_force(id).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    assert!(k.console().ends_with("busy: still in use\nbusy: unloaded\n"), "{}", k.console());
    assert!(!k.is_loaded(id));
    assert!(k.modules().is_empty());
}

/// A module that refuses MOD_UNLOAD stays loaded even on a forced unload, as on a kernel.
#[test]
fn forced_unload_still_honours_a_refused_mod_unload() {
    let _g = common::lock();
    let ko = common::build("unload-veto", &["unload_veto.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    let e = k.unload(id).expect_err("quiesce refuses");
    assert_eq!(e, UnloadError::Quiesce { module: "unload_veto".into(), error: 16 });
    let e = k.unload_force(id).expect_err("MOD_UNLOAD refuses");
    assert_eq!(e, UnloadError::Unload { module: "unload_veto".into(), error: 16 });
    assert!(k.is_loaded(id));
    assert_eq!(k.modules(), ["unload_veto".to_string()]);
    let release = k.lookup_symbol(id, "unload_veto_release").expect("unload_veto_release");
    k.call(release, &[]).expect("call");
    k.unload_force(id).expect("forced unload after release");
    assert!(k.console().ends_with("unload_veto: quiesce refused\nunload_veto: unloaded\n"), "{}", k.console());
    assert!(!k.is_loaded(id));
}

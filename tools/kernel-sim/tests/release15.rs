//! A module built from the FreeBSD 15.0 headers (M_VERSION 2024073001, kernel 1500068) loads
//! on the simulated 15.0 kernel; a malloc type with the wrong M_VERSION panics in malloc_init.
mod common;
use kernel_sim::{FaultKind, Kernel, LoadError, SimOptions, SimRelease};

#[test]
fn hello_from_15_headers_runs_on_15_0() {
    let _g = common::lock();
    let ko = common::build("hello15", &["hello.c"], common::Target::Fbsd15);
    let mut k = Kernel::boot(SimRelease::V15_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    assert!(k.console().contains("Hello, world! 40+2=42\n"));
    k.unload(id).expect("unload");
    assert!(!k.console().contains("leaked"));
    drop(k);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    assert!(matches!(k.load(&ko), Err(LoadError::Dependency { .. })));
}

#[test]
fn malloc_init_refuses_a_foreign_m_version() {
    let _g = common::lock();
    // 15.0 headers (ks_version 2024073001) but the 14.0 kernel dependency: passes the
    // MDT_DEPEND check on 14.0 and then hits malloc_init's version check.
    let ko = common::build_with("hello15-as-14", &["hello.c"], common::Target::Fbsd15, &["-U__FreeBSD_version", "-D__FreeBSD_version=1400097"]);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let e = k.load(&ko).expect_err("malloc_init panics");
    let LoadError::Crashed(f) = e else { panic!("{e:?}") };
    assert_eq!(f.kind, FaultKind::Panic("malloc_init: type hello with unsupported version 2024073001".into()));
}

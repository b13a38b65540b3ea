//! panic(9) during MOD_LOAD is reported with its formatted message and the calling symbol;
//! the simulator survives and loads other modules afterwards.
mod common;
use kernel_sim::{FaultKind, Kernel, LoadError, SimOptions, SimRelease};

#[test]
fn panic_on_load_is_reported_with_its_message() {
    let _g = common::lock();
    let ko = common::build("panic_load", &["panic_load.c"], common::Target::Fbsd14);
    let hello = common::build("hello-after-panic", &["hello.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let err = k.load(&ko).expect_err("must panic");
    let LoadError::Crashed(f) = err else { panic!("unexpected error {err:?}") };
    assert_eq!(f.kind, FaultKind::Panic("panic_load: deliberate panic, code 7 (on load)".into()));
    assert_eq!(f.symbol.as_deref(), Some("panic_modevent"), "location: {}", f.location);
    assert!(k.console().contains("panic: panic_load: deliberate panic, code 7 (on load)\n"), "{}", k.console());
    assert_eq!(k.panics(), ["panic_load: deliberate panic, code 7 (on load)".to_string()]);
    assert!(k.files().is_empty());
    let id = k.load(&hello).expect("kernel-sim goes on after a module panic");
    k.unload(id).expect("unload");
}

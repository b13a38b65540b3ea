//! MODULE_DEPEND between modules: resolved against loaded MODULE_VERSIONs, refused when the
//! dependency is missing; symbols resolve into the dependency; unload order follows refs.
mod common;
use kernel_sim::{Kernel, LoadError, SimOptions, SimRelease};

#[test]
fn dependency_resolved_and_refused_when_missing() {
    let _g = common::lock();
    let provider = common::build("provider", &["provider.c"], common::Target::Fbsd14);
    let consumer = common::build("consumer", &["consumer.c"], common::Target::Fbsd14);
    let missing = common::build("missingdep", &["missingdep.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");

    let e = k.load(&consumer).expect_err("provider not loaded");
    assert_eq!(e, LoadError::Dependency { file: "consumer.ko".into(), module: "provider".into() });
    assert!(k.console().contains("KLD consumer.ko: depends on provider - not available or version mismatch\n"));
    let e = k.load(&missing).expect_err("nobody provides it");
    assert!(e.to_string().contains("depends on nonexistent_module"), "{e}");

    let p = k.load(&provider).expect("provider");
    let c = k.load(&consumer).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    assert!(k.console().contains("consumer: provider_value() = 42\n"), "{}", k.console());
    assert_eq!(k.modules().len(), 2);

    // Unloading the provider first only drops the user reference (linker_file_unload with
    // refs > 1): it stays while consumer needs it.
    k.unload(p).expect("drop user ref");
    assert!(k.is_loaded(p));
    assert!(!k.console().contains("provider: unloaded"));
    k.unload(c).expect("unload consumer");
    assert!(!k.is_loaded(c) && !k.is_loaded(p), "provider goes with its last dependent");
    assert!(k.console().contains("consumer: unloaded\nprovider: unloaded\n"), "{}", k.console());
}

#[test]
fn same_module_twice_is_eexist() {
    let _g = common::lock();
    let a = common::build("provider-a", &["provider.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&a).expect("first");
    let b = a.with_file_name("provider-b.ko");
    std::fs::copy(&a, &b).expect("copy");
    let e = k.load(&b).expect_err("second copy");
    assert_eq!(e.errno(), 17, "{e}");
    assert!(e.to_string().contains("interface provider.1 already present in the KLD 'provider-a.ko'!"), "{e}");
    let e = k.load(&a).expect_err("same file");
    assert_eq!(e.errno(), 17);
    k.unload(id).expect("unload");
}

//! The hello C twin loads, prints, allocates from its own malloc type, and unloads leak-free.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

#[test]
fn hello_loads_prints_and_unloads_without_leaks() {
    let _g = common::lock();
    let ko = common::build("hello", &["hello.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load failed: {e}\nconsole:\n{}", k.console()));
    assert!(k.console().contains("Hello, world! 40+2=42\n"), "console: {}", k.console());
    assert_eq!(k.modules(), vec!["hello".to_string()]);
    let add = k.lookup_symbol(id, "hello_add").expect("hello_add");
    assert_eq!(k.call(add, &[40, 2]).expect("call") as u32, 42);
    let t = k.malloc_type("hello").expect("hello malloc type");
    assert!(t.initialized);
    assert_eq!((t.total_allocs, t.total_frees, t.live_allocs, t.live_bytes), (1, 1, 0, 0));
    k.unload(id).expect("unload");
    assert!(k.console().ends_with("Goodbye, world!\n"), "console: {}", k.console());
    assert!(!k.console().contains("leaked"));
    let t = k.malloc_type("hello").expect("hello malloc type");
    assert!(!t.initialized, "malloc_uninit ran");
    assert!(!k.is_loaded(id));
}

//! What a dependency exports (issue 9 item 7): link_elf_obj.c `link_elf_lookup_symbol1`
//! answers with the first defined symbol of the name whatever its binding, since
//! `debug.link_elf_obj_leak_locals` defaults to true: a weak definition and a local
//! (static) one are both reached by a dependent module.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

#[test]
fn weak_and_local_definitions_of_a_dependency_resolve() {
    let _g = common::lock();
    let prov = common::build("leakprov", &["leakprov.c"], common::Target::Fbsd14);
    let cons = common::build("leakcons", &["leakcons.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let p = k.load(&prov).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    let c = k.load(&cons).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    let f = k.lookup_symbol(c, "leakcons_sum").expect("leakcons_sum");
    assert_eq!(k.call(f, &[]).expect("call"), 7 + 11);
    k.unload(c).expect("unload consumer");
    k.unload(p).expect("unload provider");
}

//! Symbols in zero-size sections keep their `st_value` (link_elf_obj.c never relocates them:
//! the section is skipped, and elf_obj_lookup() answers with the symbol's st_value). Fixture:
//! examples/c-twins/empty_sections.c.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

#[test]
fn symbols_of_empty_sections_resolve_to_their_st_value() {
    let _g = common::lock();
    let ko = common::build("empty_sections-Fbsd14", &["empty_sections.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    let read = |name: &str| {
        let a = k.lookup_symbol(id, name).unwrap_or_else(|| panic!("{name}"));
        // SAFETY: a pointer-sized global of the loaded module.
        unsafe { (a as *const usize).read() }
    };
    assert_eq!(read("empty_ptr"), 0, "empty_obj: st_value 0");
    assert_eq!(read("empty_ptr4"), 4, "empty_obj + 4");
    assert_eq!(read("empty_end_ptr"), 16, "empty_end: st_value 16, not relocated");
    assert_eq!(read("loaded_ptr"), k.lookup_symbol(id, "empty_loaded").unwrap(), "a loaded section's symbol is relocated");
    k.unload(id).expect("unload");
}

#[test]
fn a_dependency_exports_an_empty_section_symbol_at_its_st_value_unless_0() {
    let _g = common::lock();
    let prov = common::build("empty_sections-Fbsd14", &["empty_sections.c"], common::Target::Fbsd14);
    let cons = common::build("emptycons", &["emptycons.c"], common::Target::Fbsd14);
    let cons0 = common::build_with("emptycons0", &["emptycons.c"], common::Target::Fbsd14, &["-DEMPTYCONS_ZERO"]);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let p = k.load(&prov).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    let c = k.load(&cons).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    let a = k.lookup_symbol(c, "emptycons_ptr").expect("emptycons_ptr");
    // SAFETY: a pointer-sized global of the loaded consumer.
    assert_eq!(unsafe { (a as *const usize).read() }, 16, "empty_end's st_value");
    k.unload(c).expect("unload consumer");
    let e = k.load(&cons0).expect_err("empty_obj (st_value 0) is not found in the dependency");
    assert!(matches!(&e, kernel_sim::LoadError::UndefinedSymbols(v) if v == &vec!["empty_obj".to_string()]), "{e}");
    k.unload(p).expect("unload provider");
}

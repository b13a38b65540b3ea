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

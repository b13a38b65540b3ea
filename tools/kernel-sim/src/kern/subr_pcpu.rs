//! The kernel's own dynamic per-CPU set (`sys/kern/subr_pcpu.c`, `sys/sys/pcpu.h`).
//!
//! The kernel links its `set_pcpu` section like any linker set, so its symbol table holds
//! `__start_set_pcpu` / `__stop_set_pcpu`; `sys/sys/pcpu.h` declares both (`extern uintptr_t
//! *__start_set_pcpu; __GLOBL(__start_set_pcpu);`) under `_KERNEL`, and a module compiled from
//! the headers references them (`DPCPU_START`, `DPCPU_STOP`). link_elf_obj.c resolves a
//! module's `__start_set_pcpu` to the module's own `set_pcpu` section if it has one
//! (`link_elf_fix_link_set`), otherwise to the kernel's symbol.

use crate::ksyms::KsymDef;

/// Size of the simulated kernel's static per-CPU area (`DPCPU_SIZE` is a few pages on a
/// real kernel; nothing in the simulator reads it).
const KERNEL_DPCPU_SIZE: usize = 4096;

/// Register the bounds of the kernel's `set_pcpu`: `__stop_set_pcpu` follows
/// `__start_set_pcpu`'s object directly (data objects are laid out in order).
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::data("__start_set_pcpu", vec![0u8; KERNEL_DPCPU_SIZE], 4096));
    v.push(KsymDef::data("__stop_set_pcpu", Vec::new(), 1));
}

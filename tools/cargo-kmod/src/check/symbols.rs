//! Undefined symbols: the kernel linker resolves each against the kernel's symbol table
//! (and the module's dependencies) and fails the load with "link_elf_obj: symbol %s
//! undefined" for any global it cannot resolve (link_elf_obj.c `relocate_file` ->
//! `elf_obj_lookup` -> `linker_file_lookup_symbol`). What the kernel of a release exports is
//! the release folder's `kernel-exports.txt`, generated from the real headers
//! (`ci/kernel-exports.py`); the simulator exports from the same list
//! (`kernel_sim::ksyms::kernel_exports`), so `check` and `run` agree.
//!
//! * A symbol the kernel exports is an import. If the freebsd-kpi-rs bindings do not bind it
//!   (a C module calling `devctl_notify`), that is a note, not a problem.
//! * `__start_<sec>` / `__stop_<sec>` resolve to the module's own section `<sec>` first
//!   (`link_elf_fix_link_set`); otherwise they are looked up like any symbol, in the kernel's
//!   table: the kernel defines them for its own sets (`__start_set_pcpu`, declared in
//!   sys/sys/pcpu.h). A set neither has is an unknown symbol.
//! * Weak undefined symbols the kernel does not export resolve to 0 (`elf_obj_lookup`:
//!   "STB_WEAK ... *res = 0"), so they are not problems either.
//! * Symbols a module dependency (`MODULE_DEPEND` on another module) exports cannot be known
//!   here: when the module depends on other modules, what the kernel does not export is a
//!   note naming the dependencies, and `cargo kmod run` loads them and decides.
//!
//! The module must not define (as a global) a symbol with a name the bindings call: the
//! kernel linker resolves a module's references to its own definitions first
//! (link_elf_obj.c `elf_obj_lookup`, "Quick answer if there is a definition included"), so
//! such a definition silently replaces the kernel function for the module (as
//! `compiler_builtins`' math `log(double)` would replace log(9)). Local symbols are private
//! to their object file and never capture such references, so they are not reported.

use std::collections::HashMap;

use freebsd_kpi::kpi::KernelExport;
use freebsd_kpi::release::Release;
use object::{Object, ObjectSymbol};

use super::{Module, Problem};

/// The release's kernel export list, by name (the one table shared with the simulator).
pub fn kernel_exports(release: &Release) -> HashMap<&'static str, KernelExport> {
    release.kernel_exports().map(|e| (e.name, e)).collect()
}

/// What the undefined symbols of a module resolve to.
pub(super) struct Imports {
    /// Kernel exports the module imports (sorted).
    pub imports: Vec<String>,
    /// Imports the kernel exports but the freebsd-kpi-rs bindings do not bind (sorted).
    pub unbound: Vec<String>,
    /// Symbols the kernel does not export, left to the module's dependencies (sorted).
    pub from_dependencies: Vec<String>,
}

/// Returns the imported kernel symbols; reports the unknown and shadowing ones.
/// `dependencies`: the modules (other than `kernel`) the module's `MODULE_DEPEND`s name.
pub(super) fn check(m: &Module<'_>, release: &Release, dependencies: &[String], problems: &mut Vec<Problem>) -> Imports {
    let exports = kernel_exports(release);
    let mut imports = Vec::new();
    let mut unbound = Vec::new();
    let mut unknown = Vec::new();
    let mut shadowing = Vec::new();
    let section_names: Vec<&str> = m.elf.sections().filter_map(|s| object::ObjectSection::name(&s).ok()).collect();
    for sym in m.elf.symbols() {
        if !sym.is_undefined() {
            let is_object = matches!(
                sym.kind(),
                object::SymbolKind::Text | object::SymbolKind::Data | object::SymbolKind::Unknown
            );
            if let Ok(name) = sym.name()
                && is_object
                && sym.is_definition()
                && !sym.is_local()
                && release.symbol(name).is_some()
                && !shadowing.iter().any(|n| n == name)
            {
                shadowing.push(name.to_owned());
            }
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if name.is_empty() {
            continue;
        }
        // link_elf_fix_link_set: the module's own section first.
        if let Some(sec) = name.strip_prefix("__start_").or_else(|| name.strip_prefix("__stop_"))
            && section_names.contains(&sec)
        {
            continue;
        }
        let list = if exports.contains_key(name) {
            let set_bound = name.starts_with("__start_set_") || name.starts_with("__stop_set_");
            if !set_bound && release.symbol(name).is_none() && !unbound.iter().any(|n| n == name) {
                unbound.push(name.to_owned());
            }
            &mut imports
        } else if sym.is_weak() {
            continue;
        } else {
            &mut unknown
        };
        if !list.iter().any(|n| n == name) {
            list.push(name.to_owned());
        }
    }
    imports.sort();
    unbound.sort();
    unknown.sort();
    shadowing.sort();
    if !shadowing.is_empty() {
        problems.push(Problem::ShadowedKpi {
            release: release.identity.name.to_owned(),
            symbols: shadowing,
        });
    }
    if !dependencies.is_empty() {
        return Imports { imports, unbound, from_dependencies: unknown };
    }
    if !unknown.is_empty() {
        problems.push(Problem::UnknownSymbols {
            release: release.identity.name.to_owned(),
            symbols: unknown,
        });
    }
    Imports { imports, unbound, from_dependencies: Vec::new() }
}

//! Undefined symbols: each must be bound by the release's KPI (the freebsd-kpi-rs symbol
//! tables), since the kernel linker fails the load with "symbol %s undefined" for any
//! global it cannot resolve (link_elf_obj.c `elf_obj_lookup`). `__start_set_*` /
//! `__stop_set_*` are resolved by `link_elf_fix_link_set()` to the set bounds.
//!
//! The module must not define a symbol with a KPI name either: the kernel linker resolves a
//! module's references to its own definitions first (link_elf_obj.c), so such a
//! definition silently replaces the kernel function for the module (as `compiler_builtins`'
//! math `log(double)` would replace log(9)).

use freebsd_kpi::release::Release;
use object::{Object, ObjectSymbol};

use super::{Module, Problem};

/// Returns the imported KPI symbols (sorted); reports the unknown ones.
pub(super) fn check(m: &Module<'_>, release: &Release, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut imports = Vec::new();
    let mut unknown = Vec::new();
    let mut shadowing = Vec::new();
    for sym in m.elf.symbols() {
        if !sym.is_undefined() {
            let is_object = matches!(sym.kind(), object::SymbolKind::Text | object::SymbolKind::Data | object::SymbolKind::Unknown);
            if let Ok(name) = sym.name()
                && is_object
                && sym.is_definition()
                && release.symbol(name).is_some()
                && !shadowing.iter().any(|n| n == name)
            {
                shadowing.push(name.to_owned());
            }
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if name.is_empty() || name.starts_with("__start_set_") || name.starts_with("__stop_set_") {
            continue;
        }
        let list = if release.symbol(name).is_some() {
            &mut imports
        } else {
            &mut unknown
        };
        if !list.iter().any(|n| n == name) {
            list.push(name.to_owned());
        }
    }
    imports.sort();
    unknown.sort();
    shadowing.sort();
    if !shadowing.is_empty() {
        problems.push(Problem::ShadowedKpi {
            release: release.identity.name.to_owned(),
            symbols: shadowing,
        });
    }
    if !unknown.is_empty() {
        problems.push(Problem::UnknownSymbols {
            release: release.identity.name.to_owned(),
            symbols: unknown,
        });
    }
    imports
}

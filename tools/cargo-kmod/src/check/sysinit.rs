//! SYSINIT/SYSUNINIT sets in the release's `struct sysinit` layout (sys/sys/kernel.h).
//!
//! * 13.x: `{ enum sysinit_sub_id subsystem@0; enum sysinit_elem_order order@4;
//!   sysinit_cfunc_t func@8; const void *udata@16 }`, 24 bytes.
//! * 14.0 and later: `{ subsystem@0; order@4; STAILQ_ENTRY(sysinit) next@8; func@16;
//!   udata@24 }`, 32 bytes; `next` is written by the kernel at run time, so it must be
//!   zero (no relocation) and the object writable.
//!
//! The sets themselves are `DATA_WSET` (writable): 13.x `linker_file_sysinit()` sorts the
//! pointer array in place, and `link_elf_protect()` makes non-`SHF_WRITE` sections
//! read-only.

use freebsd_kpi::release::Release;
use object::elf::SHF_WRITE;
use object::{Object, ObjectSection, ObjectSymbol, SectionIndex, SymbolKind, SymbolSection};

use super::{Module, Pointer, Problem};

/// The sets checked, and whether the set is required.
const SETS: [(&str, bool); 2] = [("set_sysinit_set", true), ("set_sysuninit_set", false)];

/// The release's `struct sysinit` layout.
struct Layout {
    size: u64,
    next: Option<u64>,
    func: u64,
    udata: u64,
}

fn layout(release: &Release) -> Layout {
    if release.sysinit_size == 24 {
        Layout {
            size: 24,
            next: None,
            func: 8,
            udata: 16,
        }
    } else {
        Layout {
            size: release.sysinit_size as u64,
            next: Some(8),
            func: 16,
            udata: 24,
        }
    }
}

/// The sized data symbol defined exactly at `offset` of a section.
fn object_symbol(m: &Module<'_>, section: SectionIndex, offset: u64) -> Option<(String, u64)> {
    m.elf
        .symbols()
        .filter(|s| {
            s.section() == SymbolSection::Section(section) && s.address() == offset && s.size() > 0
        })
        .filter(|s| {
            !matches!(
                s.kind(),
                SymbolKind::Section | SymbolKind::File | SymbolKind::Text
            )
        })
        .map(|s| {
            (
                format!("{:#}", rustc_demangle::demangle(s.name().unwrap_or("?"))),
                s.size(),
            )
        })
        .next()
}

/// Checks one sysinit object; returns the problems' messages.
fn entry(
    m: &Module<'_>,
    release: &Release,
    l: &Layout,
    sec: SectionIndex,
    off: u64,
) -> Vec<String> {
    let mut errs = Vec::new();
    let name = release.identity.name;
    let object = object_symbol(m, sec, off);
    let what = match &object {
        Some((sym, _)) => format!("sysinit `{sym}` (`{}`+{off:#x})", m.section_name(sec)),
        None => format!("sysinit at `{}`+{off:#x}", m.section_name(sec)),
    };
    if let Some((_, size)) = &object {
        if *size != l.size {
            errs.push(format!(
                "{what} is {size} bytes; FreeBSD {name}'s struct sysinit is {} bytes (sys/sys/kernel.h{})",
                l.size,
                if l.next.is_some() { ", with a `next` link at offset 8" } else { ", without a `next` link" }
            ));
        }
    }
    if m.section_flags(sec) & u64::from(SHF_WRITE) == 0 && l.next.is_some() {
        errs.push(format!(
            "{what} is in the read-only section `{}`; the {name} kernel writes its `next` link",
            m.section_name(sec)
        ));
    }
    let section_size = m.elf.section_by_index(sec).map(|s| s.size()).unwrap_or(0);
    let available = section_size.saturating_sub(off).min(l.size);
    let fits = |field: u64| field + 8 <= available;
    if available < l.size && object.as_ref().is_none_or(|(_, size)| *size >= l.size) {
        errs.push(format!(
            "{what}: only {available} bytes before the end of `{}`; FreeBSD {name}'s struct sysinit is {} bytes",
            m.section_name(sec),
            l.size
        ));
    }
    if let Some(next) = l.next.filter(|&n| fits(n)) {
        let zero = m
            .bytes(sec, off + next, 8)
            .is_ok_and(|b| b.iter().all(|&x| x == 0));
        if m.relocation_at(sec, off + next).is_some() || !zero {
            errs.push(format!(
                "{what} has a non-zero value or a relocation at offset {next}, where FreeBSD {name} keeps the \
                 zero `next` link (STAILQ_ENTRY); the object looks like a 13.x sysinit (func at 8)"
            ));
        }
    }
    let func = if fits(l.func) {
        m.pointer_at(sec, off + l.func)
    } else {
        Ok(Pointer::Null)
    };
    match func {
        Ok(Pointer::Target { .. } | Pointer::Undefined(_)) => {}
        Ok(Pointer::Null) => errs.push(format!(
            "{what} has no function pointer relocation at offset {} (FreeBSD {name} layout: func at {}, udata at {}{})",
            l.func,
            l.func,
            l.udata,
            if l.next.is_none() { "; a 14.x sysinit has its `next` link here" } else { "" }
        )),
        Ok(Pointer::Other(why)) => errs.push(format!("{what}: the function pointer at offset {} is {why}", l.func)),
        Err(e) => errs.push(format!("{what}: {e}")),
    }
    if let (true, Ok(Pointer::Other(why))) = (fits(l.udata), m.pointer_at(sec, off + l.udata)) {
        errs.push(format!("{what}: udata at offset {} is {why}", l.udata));
    }
    for (roff, r) in m.relocations(sec) {
        if roff < off || roff >= off + l.size {
            continue;
        }
        let field = roff - off;
        if field != l.func && field != l.udata && Some(field) != l.next {
            errs.push(format!(
                "{what} has a relocation against `{}` at offset {field}, which is no pointer field of FreeBSD {name}'s \
                 struct sysinit (func at {}, udata at {})",
                m.reloc_target_name(r),
                l.func,
                l.udata
            ));
        }
    }
    errs
}

/// Checks both sets; returns the entry counts.
pub(super) fn check(
    m: &Module<'_>,
    release: &Release,
    problems: &mut Vec<Problem>,
) -> (usize, usize) {
    let l = layout(release);
    let mut counts = [0usize; 2];
    for (i, (set, required)) in SETS.iter().enumerate() {
        let sections = m.sections_named(set);
        let Some(&sec) = sections.first() else {
            if *required {
                problems.push(Problem::Set {
                    set: (*set).to_owned(),
                    message: "missing: DECLARE_MODULE's SYSINIT(module_register_init) is absent, so the module's \
                              event handler would never run"
                        .into(),
                });
            }
            continue;
        };
        let set_problem = |message: String| Problem::Set {
            set: (*set).to_owned(),
            message,
        };
        if sections.len() > 1 {
            problems.push(set_problem(format!(
                "{} sections with this name; the kernel linker (link_elf_lookup_set) uses only the first",
                sections.len()
            )));
        }
        if m.section_flags(sec) & u64::from(SHF_WRITE) == 0 {
            problems.push(set_problem(
                "the set is not writable (SHF_WRITE): SYSINIT sets are DATA_WSET, the kernel sorts them in place \
                 (sys/sys/kernel.h, kern_linker.c linker_file_sysinit)"
                    .into(),
            ));
        }
        let size = m.elf.section_by_index(sec).map(|s| s.size()).unwrap_or(0);
        if size % 8 != 0 {
            problems.push(set_problem(format!(
                "{size} bytes, not a whole number of pointers"
            )));
        }
        counts[i] = (size / 8) as usize;
        for index in 0..counts[i] {
            let errs = match m.pointer_at(sec, index as u64 * 8) {
                Ok(Pointer::Target { section, offset }) => entry(m, release, &l, section, offset),
                Ok(Pointer::Null) => vec!["NULL entry".to_owned()],
                Ok(Pointer::Undefined(name)) => {
                    vec![format!("points to the undefined symbol `{name}`")]
                }
                Ok(Pointer::Other(why)) => vec![format!("the entry is {why}")],
                Err(e) => vec![e],
            };
            for message in errs {
                problems.push(Problem::Sysinit {
                    set: (*set).to_owned(),
                    index,
                    message,
                });
            }
        }
    }
    (counts[0], counts[1])
}

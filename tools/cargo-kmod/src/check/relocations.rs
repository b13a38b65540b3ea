//! Relocation types: what `elf_reloc_internal()` in sys/amd64/amd64/elf_machdep.c
//! accepts for modules.
//!
//! It handles R_X86_64_NONE, 64, PC32, PLT32 (as PC32), 32S (plus GLOB_DAT, JMP_SLOT,
//! RELATIVE and IRELATIVE, which only appear in linked images, never in an `ld -r`
//! module); anything else fails `kldload` with "unexpected relocation type". Notably
//! rejected: R_X86_64_32 (10), GOTPCREL (9), GOTPCRELX (41), REX_GOTPCRELX (42), PC64 (24)
//! and every TLS relocation. Relocations of sections that are not loaded (debug info) are
//! skipped by link_elf_obj.c and are not checked here.

use object::elf::{
    R_X86_64_32S, R_X86_64_64, R_X86_64_NONE, R_X86_64_PC32, R_X86_64_PLT32, SHF_ALLOC,
};
use object::{Object, ObjectSection};

use super::{Module, Problem};

/// The relocation types a module may carry.
pub const ACCEPTED: [u32; 5] = [
    R_X86_64_NONE,
    R_X86_64_64,
    R_X86_64_PC32,
    R_X86_64_PLT32,
    R_X86_64_32S,
];

/// `R_X86_64_...` name of a relocation type (psABI numbering).
pub fn relocation_type_name(r_type: u32) -> String {
    const NAMES: [&str; 43] = [
        "NONE",
        "64",
        "PC32",
        "GOT32",
        "PLT32",
        "COPY",
        "GLOB_DAT",
        "JUMP_SLOT",
        "RELATIVE",
        "GOTPCREL",
        "32",
        "32S",
        "16",
        "PC16",
        "8",
        "PC8",
        "DTPMOD64",
        "DTPOFF64",
        "TPOFF64",
        "TLSGD",
        "TLSLD",
        "DTPOFF32",
        "GOTTPOFF",
        "TPOFF32",
        "PC64",
        "GOTOFF64",
        "GOTPC32",
        "GOT64",
        "GOTPCREL64",
        "GOTPC64",
        "GOTPLT64",
        "PLTOFF64",
        "SIZE32",
        "SIZE64",
        "GOTPC32_TLSDESC",
        "TLSDESC_CALL",
        "TLSDESC",
        "IRELATIVE",
        "RELATIVE64",
        "PC32_BND",
        "PLT32_BND",
        "GOTPCRELX",
        "REX_GOTPCRELX",
    ];
    NAMES
        .get(r_type as usize)
        .map_or_else(|| format!("type {r_type}"), |n| format!("R_X86_64_{n}"))
}

/// Checks every relocation of every loaded section.
pub(super) fn check(m: &Module<'_>, problems: &mut Vec<Problem>) {
    for section in m.elf.sections() {
        if m.section_flags(section.index()) & u64::from(SHF_ALLOC) == 0 {
            continue;
        }
        for (offset, r) in m.relocations(section.index()) {
            if ACCEPTED.contains(&r.r_type) {
                continue;
            }
            problems.push(Problem::Relocation {
                section: section.name().unwrap_or("?").to_owned(),
                offset,
                r_type: r.r_type,
                type_name: relocation_type_name(r.r_type),
                symbol: m.reloc_target_name(r),
            });
        }
    }
}

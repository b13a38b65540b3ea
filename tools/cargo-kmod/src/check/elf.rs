//! File-level rules: ELF class/endianness/machine/type, the symbol table, sections and
//! symbols the amd64 kernel linker does not support.
//!
//! Sources: sys/kern/link_elf_obj.c (`link_elf_load_file`: ET_REL only, "file must have
//! exactly one symbol table", only PROGBITS/NOBITS/X86_64_UNWIND sections are loaded, no
//! COMMON symbols); FACTS.md section 8 for `.init_array` ("lost base for reltab" on 13.x).

use object::elf::{
    ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_CORE, ET_DYN, ET_EXEC, ET_NONE, ET_REL, EV_CURRENT,
    SHF_TLS, SHT_FINI_ARRAY, SHT_INIT_ARRAY, SHT_PREINIT_ARRAY, SHT_SYMTAB,
};
use object::read::elf::SectionHeader;
use object::{LittleEndian, Object, ObjectSection, ObjectSymbol, SymbolKind, SymbolSection};

use super::{Module, Problem};

/// Checks the ELF identification and header before parsing anything else.
pub(super) fn header(data: &[u8]) -> Result<(), Problem> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err(Problem::NotElf(
            "no ELF magic (or shorter than an ELF64 header)".into(),
        ));
    }
    if data[4] != ELFCLASS64 {
        return Err(Problem::NotElf(format!(
            "EI_CLASS is {}, not ELFCLASS64",
            data[4]
        )));
    }
    if data[5] != ELFDATA2LSB {
        return Err(Problem::NotElf(format!(
            "EI_DATA is {}, not ELFDATA2LSB (little-endian)",
            data[5]
        )));
    }
    // link_elf_obj.c link_elf_load_file: `hdr->e_ident[EI_VERSION] != EV_CURRENT ||
    // hdr->e_version != EV_CURRENT` -> "Unsupported file version" (ENOEXEC).
    let e_version = u32::from_le_bytes([data[20], data[21], data[22], data[23]]);
    if data[6] != EV_CURRENT || e_version != u32::from(EV_CURRENT) {
        return Err(Problem::NotElf(format!(
            "EI_VERSION is {} and e_version is {e_version}, both must be EV_CURRENT ({EV_CURRENT}); the kernel \
             linker (link_elf_obj.c) refuses the file: \"Unsupported file version\"",
            data[6]
        )));
    }
    let e_type = u16::from_le_bytes([data[16], data[17]]);
    let e_machine = u16::from_le_bytes([data[18], data[19]]);
    if e_machine != EM_X86_64 {
        return Err(Problem::NotElf(format!(
            "e_machine is {e_machine}, not EM_X86_64 ({EM_X86_64})"
        )));
    }
    if e_type != ET_REL {
        let found = match e_type {
            ET_NONE => "ET_NONE".to_owned(),
            ET_EXEC => "ET_EXEC".to_owned(),
            ET_DYN => "ET_DYN".to_owned(),
            ET_CORE => "ET_CORE".to_owned(),
            other => format!("{other:#x}"),
        };
        return Err(Problem::NotRelocatable { found });
    }
    Ok(())
}

/// Section and symbol rules.
pub(super) fn check(m: &Module<'_>, problems: &mut Vec<Problem>) {
    let endian = LittleEndian;
    let mut symtabs = 0;
    for section in m.elf.sections() {
        let header = section.elf_section_header();
        let sh_type = header.sh_type(endian);
        let sh_flags = header.sh_flags(endian);
        let name = section.name().unwrap_or("?").to_owned();
        if sh_type == SHT_SYMTAB {
            symtabs += 1;
        }
        let forbidden = |reason: &str| Problem::ForbiddenSection {
            section: name.clone(),
            reason: reason.to_owned(),
        };
        if matches!(sh_type, SHT_INIT_ARRAY | SHT_FINI_ARRAY | SHT_PREINIT_ARRAY)
            || [".init_array", ".fini_array", ".preinit_array"]
                .iter()
                .any(|p| name.starts_with(p))
        {
            problems.push(forbidden(
                "constructor/destructor arrays are not run by the 13.x/14.0 kernel linker (link_elf_obj.c loads only \
                 PROGBITS/NOBITS sections; the relocations of an unloaded .init_array fail with \"lost base for \
                 reltab\"); use SYSINIT/SYSUNINIT",
            ));
        } else if name.starts_with(".ctors") || name.starts_with(".dtors") {
            problems.push(forbidden(
                "constructor sections (.ctors/.dtors) are not part of the module ABI this crate targets; use \
                 SYSINIT/SYSUNINIT",
            ));
        }
        if sh_flags & u64::from(SHF_TLS) != 0
            || name.starts_with(".tdata")
            || name.starts_with(".tbss")
        {
            problems.push(forbidden(
                "thread-local storage: the kernel linker has no TLS support",
            ));
        }
    }
    if symtabs != 1 {
        problems.push(Problem::SymbolTables { count: symtabs });
    }
    for sym in m.elf.symbols() {
        let name = || m.symbol_name(sym.index());
        if sym.kind() == SymbolKind::Tls {
            problems.push(Problem::ForbiddenSymbol {
                symbol: name(),
                reason: "thread-local (STT_TLS) symbol: the kernel linker has no TLS support"
                    .into(),
            });
        }
        if sym.section() == SymbolSection::Common {
            problems.push(Problem::ForbiddenSymbol {
                symbol: name(),
                reason: "COMMON symbol: link_elf_obj.c cannot allocate commons (kmod.mk builds with -fno-common)".into(),
            });
        }
    }
}

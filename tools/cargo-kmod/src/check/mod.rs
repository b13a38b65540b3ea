//! The `.ko` checker: everything the FreeBSD amd64 kernel linker (`link_elf_obj.c`,
//! `elf_machdep.c`, `kern_linker.c`) would refuse or mis-handle, found before `kldload`.
//!
//! [`check`] runs every rule and collects every problem; each [`Problem`] names the
//! offending section, symbol, offset or instruction.
//!
//! | rule | module |
//! |---|---|
//! | ELF64 LE x86-64 `ET_REL`, exactly one `SHT_SYMTAB`, no TLS / `.init_array` / `.ctors` sections, no TLS or COMMON symbols | `elf` |
//! | no FPU/MMX/SSE/AVX/x87 instruction in executable sections | `instructions` |
//! | only relocation types `elf_machdep.c` accepts | `relocations` |
//! | `set_modmetadata_set`: an `MDT_MODULE` and `MDT_DEPEND(kernel)` with the release's range | `metadata` |
//! | `set_sysinit_set` / `set_sysuninit_set` entries in the release's `struct sysinit` layout | `sysinit` |
//! | undefined symbols are exported by the release's kernel (`kernel-exports.txt`, shared with the simulator) or are the bounds of the module's own linker sets | `symbols` |

mod elf;
mod instructions;
mod metadata;
mod relocations;
mod symbols;
mod sysinit;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use freebsd_kpi::release::Release;
use object::elf::R_X86_64_64;
use object::read::elf::ElfFile64;
use object::{
    LittleEndian, Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget,
    SectionIndex, SectionKind, SymbolIndex, SymbolKind, SymbolSection,
};

pub use relocations::relocation_type_name;
pub use symbols::kernel_exports;

/// A `MODULE_DEPEND` version triple (`struct mod_depend`, sys/sys/module.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRange {
    /// `md_ver_minimum`.
    pub min: i32,
    /// `md_ver_preferred`.
    pub pref: i32,
    /// `md_ver_maximum`.
    pub max: i32,
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "min {} / pref {} / max {}",
            self.min, self.pref, self.max
        )
    }
}

/// One reason the kernel linker would refuse (or mis-run) a module.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not ELF64, little-endian, x86-64.
    #[error("not an ELF64 little-endian x86-64 object: {0}")]
    NotElf(String),
    /// Not `ET_REL` (link_elf_obj.c returns ENOSYS for anything else).
    #[error(
        "not a relocatable object: e_type is {found}; the amd64 kernel linker (link_elf_obj.c) loads only ET_REL modules"
    )]
    NotRelocatable {
        /// The `e_type` found, by name.
        found: String,
    },
    /// The ELF structure could not be read.
    #[error("malformed ELF: {0}")]
    Malformed(String),
    /// Not exactly one `SHT_SYMTAB` (link_elf_obj.c: "file must have exactly one symbol table").
    #[error(
        "{count} SHT_SYMTAB sections: the kernel linker (link_elf_obj.c) requires exactly one symbol table"
    )]
    SymbolTables {
        /// How many were found.
        count: usize,
    },
    /// A section the kernel linker does not support.
    #[error("section `{section}`: {reason}")]
    ForbiddenSection {
        /// Section name.
        section: String,
        /// Why.
        reason: String,
    },
    /// A TLS or COMMON symbol.
    #[error("symbol `{symbol}`: {reason}")]
    ForbiddenSymbol {
        /// Symbol name.
        symbol: String,
        /// Why.
        reason: String,
    },
    /// An instruction that touches FPU/MMX/SSE/AVX state.
    #[error(
        "floating-point/SIMD instruction in `{section}` at {location}: `{disassembly}` ({what}); \
         kernel code must not touch FPU/SIMD state (kern.mk: -mno-mmx -mno-sse -msoft-float)"
    )]
    FpuInstruction {
        /// Section name.
        section: String,
        /// `symbol+0xOFF (section offset 0xOFF)`.
        location: String,
        /// Intel-syntax disassembly.
        disassembly: String,
        /// The registers or CPUID features that make it a problem.
        what: String,
    },
    /// A relocation type the amd64 kernel linker rejects.
    #[error(
        "relocation {type_name} ({r_type}) in `{section}` at offset {offset:#x} against `{symbol}`: the amd64 kernel \
         linker (elf_machdep.c elf_reloc_internal) accepts only R_X86_64_NONE, 64, PC32, PLT32 and 32S in modules"
    )]
    Relocation {
        /// The section the relocation applies to.
        section: String,
        /// Offset in that section.
        offset: u64,
        /// `r_type`.
        r_type: u32,
        /// `R_X86_64_...`.
        type_name: String,
        /// Target symbol (with addend).
        symbol: String,
    },
    /// Missing or malformed module metadata.
    #[error("module metadata: {0}")]
    Metadata(String),
    /// `MODULE_DEPEND(kernel, ...)` does not match the release.
    #[error(
        "wrong kernel version range in MDT_DEPEND on `kernel`: found {found}, FreeBSD {release} needs {expected} \
         (MODULE_DEPEND(kernel, __FreeBSD_version, __FreeBSD_version, MODULE_KERNEL_MAXVER), sys/sys/module.h)"
    )]
    VersionRange {
        /// Release checked against.
        release: String,
        /// The triple in the module.
        found: VersionRange,
        /// The triple the release wants.
        expected: VersionRange,
    },
    /// A SYSINIT/SYSUNINIT set entry that does not match the release's `struct sysinit`.
    #[error("`{set}` entry {index}: {message}")]
    Sysinit {
        /// `set_sysinit_set` or `set_sysuninit_set`.
        set: String,
        /// Index of the entry in the set.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A SYSINIT/SYSUNINIT set that is malformed as a whole.
    #[error("`{set}`: {message}")]
    Set {
        /// Section name.
        set: String,
        /// What is wrong.
        message: String,
    },
    /// Undefined symbols that the release's kernel does not export: the kernel linker
    /// refuses the load ("link_elf_obj: symbol %s undefined").
    #[error(
        "{} undefined symbol(s) not in the FreeBSD {release} KPI (no symbol the kernel exports; the kernel linker \
         refuses the load with \"link_elf_obj: symbol {} undefined\"): {}",
        symbols.len(),
        symbols.first().map(String::as_str).unwrap_or(""),
        symbols.join(", ")
    )]
    UnknownSymbols {
        /// Release checked against.
        release: String,
        /// Every unknown symbol.
        symbols: Vec<String>,
    },
    /// The module defines symbols named like kernel functions of the release: its calls
    /// would bind to them instead of the kernel's.
    #[error(
        "the module defines {} FreeBSD {release} KPI name(s), which would replace the kernel's for the module: {} \
         (cargo kmod build makes such definitions local before linking)",
        symbols.len(),
        symbols.join(", ")
    )]
    ShadowedKpi {
        /// Release checked against.
        release: String,
        /// Every KPI name the module defines.
        symbols: Vec<String>,
    },
}

/// One loaded (`SHF_ALLOC`) section of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionSummary {
    /// Name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// `"AX"`, `"WA"`, `"A"`.
    pub flags: String,
}

/// What a module that passed the check contains.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// Release checked against (`"14.0"`).
    pub release: &'static str,
    /// Module names (`MDT_MODULE` entries).
    pub modules: Vec<String>,
    /// The `MODULE_DEPEND(kernel, ...)` triple.
    pub kernel_range: Option<VersionRange>,
    /// Other `MDT_DEPEND` entries (module name, range).
    pub dependencies: Vec<(String, VersionRange)>,
    /// `MDT_VERSION` entries (module name, version).
    pub versions: Vec<(String, i32)>,
    /// Loaded sections.
    pub sections: Vec<SectionSummary>,
    /// Imported kernel symbols (all exported by the release's kernel).
    pub imports: Vec<String>,
    /// Imports the kernel exports but the freebsd-kpi-rs bindings do not bind (a note:
    /// fine for a C module, the simulator may not implement them).
    pub unbound: Vec<String>,
    /// Undefined symbols the kernel does not export, left to the module's `MODULE_DEPEND`
    /// dependencies (the kernel linker looks them up there; `cargo kmod run` decides).
    pub from_dependencies: Vec<String>,
    /// Entries of `set_sysinit_set`.
    pub sysinits: usize,
    /// Entries of `set_sysuninit_set`.
    pub sysuninits: usize,
    /// Instructions decoded in executable sections.
    pub instructions: usize,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "module {} for FreeBSD {}: ok",
            self.modules.join(", "),
            self.release
        )?;
        if let Some(r) = self.kernel_range {
            writeln!(
                f,
                "  kernel versions: {} .. {} (preferred {})",
                r.min, r.max, r.pref
            )?;
        }
        for (name, r) in &self.dependencies {
            writeln!(f, "  depends on {name}: {r}")?;
        }
        for (name, v) in &self.versions {
            writeln!(f, "  provides {name} version {v}")?;
        }
        let total: u64 = self.sections.iter().map(|s| s.size).sum();
        writeln!(f, "  sections ({total} bytes loaded):")?;
        for s in &self.sections {
            writeln!(f, "    {:<24} {:>8} {}", s.name, s.size, s.flags)?;
        }
        writeln!(
            f,
            "  sysinit entries: {}, sysuninit entries: {}",
            self.sysinits, self.sysuninits
        )?;
        writeln!(
            f,
            "  {} instructions scanned, no FPU/SIMD use",
            self.instructions
        )?;
        write!(
            f,
            "  imported KPI symbols ({}): {}",
            self.imports.len(),
            self.imports.join(", ")
        )?;
        if !self.from_dependencies.is_empty() {
            write!(
                f,
                "\n  note: {} symbol(s) the kernel does not export, to come from the dependencies: {}",
                self.from_dependencies.len(),
                self.from_dependencies.join(", ")
            )?;
        }
        if !self.unbound.is_empty() {
            write!(
                f,
                "\n  note: {} kernel export(s) the freebsd-kpi-rs bindings do not bind: {}",
                self.unbound.len(),
                self.unbound.join(", ")
            )?;
        }
        Ok(())
    }
}

/// The check failed: every problem found.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{} problem(s) for FreeBSD {release}:\n{}", problems.len(), problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct CheckError {
    /// Release checked against.
    pub release: &'static str,
    /// Every problem, in rule order.
    pub problems: Vec<Problem>,
}

/// Checks a module image against `release` (a kernel at the release's own
/// `__FreeBSD_version`).
pub fn check(data: &[u8], release: &'static Release) -> Result<CheckReport, CheckError> {
    check_for_kernel(data, release, release.identity.freebsd_version)
}

/// Checks a module image against `release` running as the minor release whose
/// `__FreeBSD_version` is `kernel` (`check --freebsd 14.2`: the 14.0 bindings' rules, and
/// modules built for 14.0 up to 14.2 pass).
pub fn check_for_kernel(data: &[u8], release: &'static Release, kernel: u32) -> Result<CheckReport, CheckError> {
    let fail = |problems| CheckError {
        release: release.identity.name,
        problems,
    };
    elf::header(data).map_err(|p| fail(vec![p]))?;
    let module = Module::parse(data).map_err(|p| fail(vec![p]))?;
    let mut problems = Vec::new();
    elf::check(&module, &mut problems);
    relocations::check(&module, &mut problems);
    let instructions = instructions::check(&module, &mut problems);
    let meta = metadata::check(&module, release, kernel, &mut problems);
    let (sysinits, sysuninits) = sysinit::check(&module, release, &mut problems);
    let deps: Vec<String> = meta.depends.iter().map(|(n, _)| n.clone()).collect();
    let symbols::Imports { imports, unbound, from_dependencies } =
        symbols::check(&module, release, &deps, &mut problems);
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(CheckReport {
        release: release.identity.name,
        modules: meta.modules,
        kernel_range: meta.kernel,
        dependencies: meta.depends,
        versions: meta.versions,
        sections: module.loaded_sections(),
        imports,
        unbound,
        from_dependencies,
        sysinits,
        sysuninits,
        instructions,
    })
}

/// Reads and checks a `.ko` file; the error lists every problem.
pub fn check_file(path: &Path, release: &'static Release) -> anyhow::Result<CheckReport> {
    check_file_for_kernel(path, release, release.identity.freebsd_version)
}

/// [`check_file`] for a kernel of `__FreeBSD_version` `kernel` (see [`check_for_kernel`]).
pub fn check_file_for_kernel(path: &Path, release: &'static Release, kernel: u32) -> anyhow::Result<CheckReport> {
    let data =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    check_for_kernel(&data, release, kernel).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid FreeBSD {} module: {e}",
            path.display(),
            e.release
        )
    })
}

/// One relocation, by section offset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reloc {
    pub r_type: u32,
    pub symbol: Option<SymbolIndex>,
    pub addend: i64,
    pub implicit_addend: bool,
}

/// The value of a pointer-sized slot.
#[derive(Clone, Debug)]
pub(crate) enum Pointer {
    /// Zero, no relocation.
    Null,
    /// Points into a section of the module.
    Target { section: SectionIndex, offset: u64 },
    /// Points to an undefined (kernel) symbol.
    Undefined(String),
    /// Something else (absolute value, unrelocated non-zero bytes, other relocation type).
    Other(String),
}

/// A parsed module: the ELF file plus its relocations indexed by section.
pub(crate) struct Module<'d> {
    pub elf: ElfFile64<'d, LittleEndian>,
    relocs: HashMap<SectionIndex, BTreeMap<u64, Reloc>>,
}

impl<'d> Module<'d> {
    fn parse(data: &'d [u8]) -> Result<Self, Problem> {
        let elf = ElfFile64::<LittleEndian>::parse(data)
            .map_err(|e| Problem::Malformed(e.to_string()))?;
        let mut relocs = HashMap::new();
        for section in elf.sections() {
            let mut map = BTreeMap::new();
            for (offset, r) in section.relocations() {
                let RelocationFlags::Elf { r_type } = r.flags() else {
                    continue;
                };
                let symbol = match r.target() {
                    RelocationTarget::Symbol(s) => Some(s),
                    _ => None,
                };
                map.insert(
                    offset,
                    Reloc {
                        r_type,
                        symbol,
                        addend: r.addend(),
                        implicit_addend: r.has_implicit_addend(),
                    },
                );
            }
            if !map.is_empty() {
                relocs.insert(section.index(), map);
            }
        }
        Ok(Module { elf, relocs })
    }

    /// The relocations applying to a section.
    pub fn relocations(&self, section: SectionIndex) -> impl Iterator<Item = (u64, &Reloc)> {
        self.relocs
            .get(&section)
            .into_iter()
            .flat_map(|m| m.iter().map(|(o, r)| (*o, r)))
    }

    /// The relocation at exactly `offset`, if any.
    pub fn relocation_at(&self, section: SectionIndex, offset: u64) -> Option<&Reloc> {
        self.relocs.get(&section)?.get(&offset)
    }

    /// Name of a section.
    pub fn section_name(&self, index: SectionIndex) -> String {
        self.elf
            .section_by_index(index)
            .ok()
            .and_then(|s| s.name().ok().map(str::to_owned))
            .unwrap_or_else(|| format!("section #{}", index.0))
    }

    /// Every section with a given name.
    pub fn sections_named(&self, name: &str) -> Vec<SectionIndex> {
        self.elf
            .sections()
            .filter(|s| s.name() == Ok(name))
            .map(|s| s.index())
            .collect()
    }

    /// `sh_flags` of a section.
    pub fn section_flags(&self, index: SectionIndex) -> u64 {
        match self.elf.section_by_index(index).map(|s| s.flags()) {
            Ok(object::SectionFlags::Elf { sh_flags }) => sh_flags,
            _ => 0,
        }
    }

    /// `len` bytes at `offset` of a section (zeros for `SHT_NOBITS`).
    pub fn bytes(
        &self,
        index: SectionIndex,
        offset: u64,
        len: u64,
    ) -> Result<Cow<'d, [u8]>, String> {
        let section = self
            .elf
            .section_by_index(index)
            .map_err(|e| e.to_string())?;
        let end = offset.checked_add(len).filter(|&e| e <= section.size());
        let Some(end) = end else {
            return Err(format!(
                "{len} bytes at offset {offset:#x} run past the end of `{}` ({} bytes)",
                self.section_name(index),
                section.size()
            ));
        };
        if section.kind() == SectionKind::UninitializedData {
            return Ok(Cow::Owned(vec![0; len as usize]));
        }
        let data = section.data().map_err(|e| e.to_string())?;
        data.get(offset as usize..end as usize)
            .map(Cow::Borrowed)
            .ok_or_else(|| {
                format!(
                    "`{}` has no file data at {offset:#x}",
                    self.section_name(index)
                )
            })
    }

    /// A little-endian `i32` in a section.
    pub fn read_i32(&self, index: SectionIndex, offset: u64) -> Result<i32, String> {
        let b = self.bytes(index, offset, 4)?;
        Ok(i32::from_le_bytes(b[..4].try_into().expect("4 bytes")))
    }

    /// A NUL-terminated string starting at `offset` of a section.
    pub fn read_cstr(&self, index: SectionIndex, offset: u64) -> Result<String, String> {
        let section = self
            .elf
            .section_by_index(index)
            .map_err(|e| e.to_string())?;
        let data = section.data().map_err(|e| e.to_string())?;
        let tail = data
            .get(offset as usize..)
            .ok_or_else(|| format!("string offset {offset:#x} out of range"))?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or("string without NUL terminator")?;
        Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
    }

    /// The printable name of a symbol (section symbols by their section's name).
    pub fn symbol_name(&self, index: SymbolIndex) -> String {
        match self.elf.symbol_by_index(index) {
            Ok(sym) => match sym.name() {
                Ok(name) if !name.is_empty() => name.to_owned(),
                _ => match sym.section() {
                    SymbolSection::Section(s) if sym.kind() == SymbolKind::Section => {
                        self.section_name(s)
                    }
                    _ => format!("symbol #{}", index.0),
                },
            },
            Err(_) => format!("symbol #{}", index.0),
        }
    }

    /// `symbol+addend` for messages.
    pub fn reloc_target_name(&self, r: &Reloc) -> String {
        let base = r
            .symbol
            .map_or_else(|| "(no symbol)".to_owned(), |s| self.symbol_name(s));
        match r.addend {
            0 => base,
            a if a > 0 => format!("{base}+{a:#x}"),
            a => format!("{base}-{:#x}", a.unsigned_abs()),
        }
    }

    /// The pointer stored in the 8-byte slot at `offset` of a section.
    pub fn pointer_at(&self, section: SectionIndex, offset: u64) -> Result<Pointer, String> {
        let raw = self.bytes(section, offset, 8)?;
        let raw = u64::from_le_bytes(raw[..8].try_into().expect("8 bytes"));
        let Some(r) = self.relocation_at(section, offset) else {
            return Ok(if raw == 0 {
                Pointer::Null
            } else {
                Pointer::Other(format!("unrelocated value {raw:#x}"))
            });
        };
        if r.r_type != R_X86_64_64 {
            return Ok(Pointer::Other(format!(
                "a {} relocation, not R_X86_64_64",
                relocation_type_name(r.r_type)
            )));
        }
        let addend = if r.implicit_addend {
            raw as i64
        } else {
            r.addend
        };
        let Some(sym_index) = r.symbol else {
            return Ok(Pointer::Other(format!("absolute {addend:#x}")));
        };
        let sym = self
            .elf
            .symbol_by_index(sym_index)
            .map_err(|e| e.to_string())?;
        Ok(match sym.section() {
            SymbolSection::Section(s) => Pointer::Target {
                section: s,
                offset: sym.address().wrapping_add(addend as u64),
            },
            SymbolSection::Undefined => Pointer::Undefined(self.symbol_name(sym_index)),
            other => Pointer::Other(format!(
                "symbol `{}` in {other:?}",
                self.symbol_name(sym_index)
            )),
        })
    }

    /// The named symbol that covers `offset` of a section: `(name, start, size)`.
    pub fn symbol_covering(
        &self,
        section: SectionIndex,
        offset: u64,
    ) -> Option<(String, u64, u64)> {
        let mut best: Option<(String, u64, u64)> = None;
        for sym in self.elf.symbols() {
            if sym.section() != SymbolSection::Section(section)
                || matches!(sym.kind(), SymbolKind::Section | SymbolKind::File)
            {
                continue;
            }
            let (start, size) = (sym.address(), sym.size());
            let covers = if size > 0 {
                start <= offset && offset < start + size
            } else {
                start <= offset
            };
            if !covers {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            if name.is_empty() {
                continue;
            }
            // Prefer a sized symbol, then the closest start.
            let better = match &best {
                None => true,
                Some((_, bstart, bsize)) => {
                    (size > 0 && *bsize == 0) || ((size > 0) == (*bsize > 0) && start > *bstart)
                }
            };
            if better {
                best = Some((name.to_owned(), start, size));
            }
        }
        best
    }

    /// `symbol+0xOFF (section offset 0xOFF)`, demangled.
    pub fn location(&self, section: SectionIndex, offset: u64) -> String {
        match self.symbol_covering(section, offset) {
            Some((name, start, _)) => {
                format!(
                    "{:#}+{:#x} (offset {offset:#x})",
                    rustc_demangle::demangle(&name),
                    offset - start
                )
            }
            None => format!("offset {offset:#x}"),
        }
    }

    /// The loaded sections (non-empty `SHF_ALLOC` PROGBITS/NOBITS), in file order.
    pub fn loaded_sections(&self) -> Vec<SectionSummary> {
        self.elf
            .sections()
            .filter(|s| {
                let flags = self.section_flags(s.index());
                flags & u64::from(object::elf::SHF_ALLOC) != 0 && s.size() > 0
            })
            .map(|s| {
                let flags = self.section_flags(s.index());
                let mut f = String::new();
                if flags & u64::from(object::elf::SHF_WRITE) != 0 {
                    f.push('W');
                }
                f.push('A');
                if flags & u64::from(object::elf::SHF_EXECINSTR) != 0 {
                    f.push('X');
                }
                SectionSummary {
                    name: s.name().unwrap_or("?").to_owned(),
                    size: s.size(),
                    flags: f,
                }
            })
            .collect()
    }
}

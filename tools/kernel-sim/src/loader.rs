//! Linking an amd64 `ET_REL` kernel module the way `sys/kern/link_elf_obj.c` does.
//!
//! * Header checks (`link_elf_load_file`): ELF magic, ELFCLASS64/ELFDATA2LSB, `EV_CURRENT` in
//!   both `EI_VERSION` and `e_version`,
//!   `e_type == ET_REL` (otherwise the next linker class is tried and
//!   `linker_load_file: %s - unsupported file type` is printed), `EM_X86_64`, exactly one
//!   `SHT_SYMTAB` ("file must have exactly one symbol table").
//! * Only non-empty `SHF_ALLOC` sections of type `SHT_PROGBITS`, `SHT_NOBITS` or
//!   `SHT_X86_64_UNWIND` are loaded, in file order, each aligned to `sh_addralign`, into one
//!   mapping (here in the low-2-GiB arena); `SHT_NOBITS` is zero-filled.
//! * Symbols are resolved by index. Defined symbols resolve to their section's load address;
//!   undefined `__start_<sec>`/`__stop_<sec>` resolve to a loaded section's bounds
//!   (`link_elf_fix_link_set`); other undefined symbols are looked up in the kernel and the
//!   file's dependencies; unresolved weak symbols become 0; `SHN_COMMON` is refused.
//! * Relocations run in two passes like `link_elf_reloc_local` + `relocate_file`: first the
//!   ones whose symbol the file defines (so linker sets and metadata are usable before the
//!   dependencies are known), then the rest. Relocations of sections that are not loaded and
//!   not `SHF_ALLOC` (debug info) are skipped; an `SHF_ALLOC` target that was not loaded is the
//!   kernel's "lost base for relatab" error. Every undefined symbol is reported, not only the
//!   first one.
//! * After relocation every page gets R, plus W if a section on it is `SHF_WRITE`, plus X if
//!   one is `SHF_EXECINSTR` (`link_elf_protect`).

use std::path::Path;

use object::elf;
use object::read::elf::{FileHeader, Rel as _, Rela as _, SectionHeader, Sym as _};
use object::LittleEndian as LE;

use crate::arena::{Arena, PAGE_SIZE, round_up};
use crate::reloc::{self, RelocFailure};

type Fh = elf::FileHeader64<LE>;

/// Why a file could not be loaded.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LoadError {
    /// The file could not be read.
    #[error("kldload: {path}: {err}")]
    Io {
        /// Path.
        path: String,
        /// OS error text.
        err: String,
    },
    /// Not an amd64 ET_REL object the kernel could load (ENOEXEC / ENOSYS).
    #[error("{0}")]
    Format(String),
    /// A relocation type the amd64 kernel refuses.
    #[error("kldload: unexpected relocation type {rtype}, symbol index {symidx}")]
    UnexpectedRelocation {
        /// `ELF64_R_TYPE`.
        rtype: u32,
        /// `ELF64_R_SYM`.
        symidx: u32,
    },
    /// A 32-bit relocation whose value does not fit (the kernel would silently truncate).
    #[error("{0}")]
    RelocationOverflow(String),
    /// Symbols the kernel does not export (the real kernel refuses the load). The console
    /// shows the first one, as link_elf_obj.c `relocate_file` prints `link_elf_obj: symbol %s
    /// undefined` and returns `ENOENT` at the first relocation it cannot resolve; the list
    /// holds every one, in relocation order.
    #[error("link_elf_obj: symbol {} undefined", .0.first().map(String::as_str).unwrap_or(""))]
    UndefinedSymbols(Vec<String>),
    /// Symbols the real kernel of this release exports (its `kernel-exports.txt`) but the
    /// simulator does not implement: not a verdict on the module. The load stops before any
    /// of its code (SYSINIT, `MOD_LOAD`) runs.
    #[error(
        "cannot simulate: {} (a FreeBSD {release} kernel export) {} not implemented by the simulator",
        .symbols.join(", "),
        if .symbols.len() == 1 { "is" } else { "are" }
    )]
    NotSimulated {
        /// The simulated release ("14.0").
        release: String,
        /// The missing kernel exports, in relocation order.
        symbols: Vec<String>,
    },
    /// Something the simulator does not support (COMMON, TLS, ifunc).
    #[error("{0}")]
    Unsupported(String),
    /// A dependency is missing or has the wrong version.
    #[error("KLD {file}: depends on {module} - not available or version mismatch")]
    Dependency {
        /// The file being loaded.
        file: String,
        /// The module it depends on.
        module: String,
    },
    /// `MODULE_VERSION` clash with a loaded file.
    #[error("interface {module}.{version} already present in the KLD '{file}'!")]
    InterfaceExists {
        /// Module name.
        module: String,
        /// Version.
        version: i32,
        /// File providing it.
        file: String,
    },
    /// A module of this name is already registered (EEXIST).
    #[error("module_register: cannot register {module} from {file}; already loaded from {other}")]
    ModuleExists {
        /// Module name.
        module: String,
        /// The file being loaded.
        file: String,
        /// The file that has it.
        other: String,
    },
    /// A file with the same name is already loaded (EEXIST).
    #[error("kldload: can't load {0}: File exists")]
    FileExists(String),
    /// Every module of the file failed `MOD_LOAD`, the file was unloaded (ENOEXEC).
    #[error("kldload: can't load {file}: Exec format error (MOD_LOAD of every module failed; see the console)")]
    ModulesFailed {
        /// The file.
        file: String,
    },
    /// Module code faulted or panicked during start-up (the kernel would be dead).
    #[error("{0}")]
    Crashed(Box<crate::report::Fault>),
    /// The arena is full.
    #[error("{0}")]
    Arena(String),
}

impl LoadError {
    /// The errno `kldload(2)` would return.
    pub fn errno(&self) -> i32 {
        use crate::kern::module::*;
        match self {
            LoadError::Io { .. } => ENOENT,
            LoadError::UndefinedSymbols(_) | LoadError::Dependency { .. } => ENOENT,
            // Not a kernel verdict; ENOSYS ("function not implemented") for API users.
            LoadError::NotSimulated { .. } => ENOSYS,
            LoadError::InterfaceExists { .. } | LoadError::ModuleExists { .. } | LoadError::FileExists(_) => EEXIST,
            _ => ENOEXEC,
        }
    }
}

/// A loaded section.
#[derive(Debug, Clone)]
pub struct LoadedSection {
    /// Section header index.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Load address.
    pub addr: usize,
    /// Size.
    pub size: usize,
    /// `sh_flags`.
    pub flags: u64,
}

/// A symbol of the module.
#[derive(Debug, Clone)]
pub struct SymInfo {
    /// Name ("" for section symbols).
    pub name: String,
    /// `STB_*`.
    pub bind: u8,
    /// `STT_*`.
    pub stype: u8,
    /// `st_shndx`.
    pub shndx: u16,
    /// Resolved value (None: undefined and not yet resolved, or in a section not loaded).
    pub value: Option<usize>,
    /// `st_size`.
    pub size: u64,
}

impl SymInfo {
    fn defined(&self) -> bool {
        self.shndx != elf::SHN_UNDEF
    }
}

/// A module image in the arena.
#[derive(Debug)]
pub struct Image {
    /// File name (basename), as the kernel's `lf->filename`.
    pub filename: String,
    data: Vec<u8>,
    /// Start of the mapping.
    pub base: usize,
    /// Length of the mapping (pages).
    pub len: usize,
    /// Loaded sections.
    pub sections: Vec<LoadedSection>,
    sec_addr: Vec<Option<usize>>,
    /// Symbols by index.
    pub syms: Vec<SymInfo>,
}

fn fmt_err(file: &str, s: &str) -> LoadError {
    // link_elf_error(): "kldload: %s: %s"
    LoadError::Format(format!("kldload: {file}: {s}"))
}

impl Image {
    /// Read, check and lay out `path` in the arena (no relocation yet).
    pub fn map(path: &Path, arena: &mut Arena) -> Result<Image, LoadError> {
        let filename = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let data = std::fs::read(path)
            .map_err(|e| LoadError::Io { path: path.display().to_string(), err: e.to_string() })?;
        // The identification bytes in link_elf_load_file's order (IS_ELF, then class and
        // data, then version), before a parser that refuses them less precisely.
        if data.len() >= 16 && data[..4] == *b"\x7fELF" {
            if data[4] != elf::ELFCLASS64 || data[5] != elf::ELFDATA2LSB {
                return Err(fmt_err(&filename, "Unsupported file layout"));
            }
            if data[6] != elf::EV_CURRENT {
                return Err(fmt_err(&filename, "Unsupported file version"));
            }
        }
        let hdr = Fh::parse(&*data).map_err(|_| fmt_err(&filename, "not an ELF file (bad magic or truncated header)"))?;
        let id = &hdr.e_ident;
        if id.class != elf::ELFCLASS64 || id.data != elf::ELFDATA2LSB {
            return Err(fmt_err(&filename, "Unsupported file layout"));
        }
        let e = hdr.endian().map_err(|_| fmt_err(&filename, "Unsupported file layout"))?;
        // link_elf_load_file: EI_VERSION and e_version must both be EV_CURRENT.
        if id.version != elf::EV_CURRENT || hdr.e_version(e) != u32::from(elf::EV_CURRENT) {
            return Err(fmt_err(&filename, "Unsupported file version"));
        }
        if hdr.e_type(e) != elf::ET_REL {
            // link_elf_obj returns ENOSYS; linker_load_file then prints this.
            return Err(LoadError::Format(format!(
                "linker_load_file: {filename} - unsupported file type (e_type {}, not ET_REL)",
                hdr.e_type(e)
            )));
        }
        if hdr.e_machine(e) != elf::EM_X86_64 {
            return Err(fmt_err(&filename, &format!("Unsupported machine (e_machine {})", hdr.e_machine(e))));
        }
        let sections = hdr.sections(e, &*data).map_err(|err| fmt_err(&filename, &err.to_string()))?;
        let nsymtab = sections.iter().filter(|s| s.sh_type(e) == elf::SHT_SYMTAB).count();
        if nsymtab != 1 {
            return Err(fmt_err(&filename, "file must have exactly one symbol table"));
        }
        // Layout.
        let mut off = 0usize;
        let mut plan = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            let t = s.sh_type(e);
            let loadable = matches!(t, elf::SHT_PROGBITS | elf::SHT_NOBITS | elf::SHT_X86_64_UNWIND);
            if !loadable || s.sh_size(e) == 0 || s.sh_flags(e) & elf::SHF_ALLOC as u64 == 0 {
                continue;
            }
            let align = (s.sh_addralign(e) as usize).max(1);
            if !align.is_power_of_two() {
                return Err(fmt_err(&filename, "section alignment is not a power of two"));
            }
            off = round_up(off, align);
            let name = String::from_utf8_lossy(sections.section_name(e, s).unwrap_or(b"")).into_owned();
            plan.push((i, name, off, s.sh_size(e) as usize, s.sh_flags(e), t));
            off += s.sh_size(e) as usize;
        }
        let len = round_up(off.max(1), PAGE_SIZE);
        let base = arena.alloc(len).map_err(|e| LoadError::Arena(e.to_string()))?;
        let mut sec_addr = vec![None; sections.len()];
        let mut loaded = Vec::new();
        for (i, name, o, size, flags, t) in plan {
            let addr = base + o;
            if t != elf::SHT_NOBITS {
                let bytes = sections.section(object::SectionIndex(i)).and_then(|s| s.data(e, &*data));
                let Ok(bytes) = bytes else {
                    arena.free(base, len);
                    return Err(fmt_err(&filename, &format!("section {name} lies outside the file")));
                };
                // SAFETY: addr..addr+size lies inside the fresh RW mapping of `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len().min(size)) };
            }
            sec_addr[i] = Some(addr);
            loaded.push(LoadedSection { index: i, name, addr, size, flags });
        }
        // Symbols.
        let symtab = sections.symbols(e, &*data, elf::SHT_SYMTAB).map_err(|err| fmt_err(&filename, &err.to_string()))?;
        let strings = symtab.strings();
        let mut syms = Vec::with_capacity(symtab.symbols().len());
        let mut problems = Vec::new();
        for s in symtab.symbols() {
            let name = String::from_utf8_lossy(s.name(e, strings).unwrap_or(b"")).into_owned();
            let shndx = s.st_shndx(e);
            let stype = s.st_type();
            let value = match shndx {
                elf::SHN_UNDEF => None,
                elf::SHN_ABS => Some(s.st_value(e) as usize),
                elf::SHN_COMMON => {
                    problems.push(format!(
                        "kldload: {filename}: COMMON symbol {name} is not supported by link_elf_obj (build with -fno-common)"
                    ));
                    None
                }
                i => sec_addr.get(i as usize).copied().flatten().map(|b| b + s.st_value(e) as usize),
            };
            if stype == elf::STT_TLS {
                problems.push(format!("kldload: {filename}: TLS symbol {name} (thread-local storage is not available in the kernel)"));
            }
            if stype == elf::STT_GNU_IFUNC && shndx != elf::SHN_UNDEF {
                problems.push(format!("kldload: {filename}: ifunc symbol {name}: ifunc resolvers are not supported by kernel-sim"));
            }
            syms.push(SymInfo { name, bind: s.st_bind(), stype, shndx, value, size: s.st_size(e) });
        }
        if !problems.is_empty() {
            arena.free(base, len);
            return Err(LoadError::Unsupported(problems.join("\n")));
        }
        let mut img = Image { filename, data: Vec::new(), base, len, sections: loaded, sec_addr, syms };
        // link_elf_fix_link_set: __start_<sec> / __stop_<sec>.
        for i in 0..img.syms.len() {
            if img.syms[i].defined() {
                continue;
            }
            let n = &img.syms[i].name;
            let (prefix_len, stop) = if n.starts_with("__start_") {
                (8, false)
            } else if n.starts_with("__stop_") {
                (7, true)
            } else {
                continue;
            };
            let sec = &n[prefix_len..];
            if let Some(s) = img.sections.iter().find(|s| s.name == sec) {
                img.syms[i].value = Some(if stop { s.addr + s.size } else { s.addr });
                img.syms[i].shndx = s.index as u16;
            }
        }
        img.data = data;
        Ok(img)
    }

    /// Run one relocation pass. `local`: relocations whose symbol this file defines (or the
    /// null symbol); otherwise the rest, resolving undefined names with `resolve`.
    pub fn relocate(&mut self, local: bool, resolve: &dyn Fn(&str) -> Option<usize>) -> Result<(), LoadError> {
        let data = std::mem::take(&mut self.data);
        let r = self.relocate_inner(&data, local, resolve);
        self.data = data;
        r
    }

    fn relocate_inner(&mut self, data: &[u8], local: bool, resolve: &dyn Fn(&str) -> Option<usize>) -> Result<(), LoadError> {
        let file = self.filename.clone();
        let hdr = Fh::parse(data).map_err(|_| fmt_err(&file, "bad header"))?;
        let e = hdr.endian().map_err(|_| fmt_err(&file, "bad header"))?;
        let sections = hdr.sections(e, data).map_err(|err| fmt_err(&file, &err.to_string()))?;
        let mut missing: Vec<String> = Vec::new();
        for s in sections.iter() {
            // (r_offset, r_type, r_sym, addend or None for REL)
            let entries: Vec<(u64, u32, u32, Option<i64>)> = if let Ok(Some((rela, _))) = s.rela(e, data) {
                rela.iter().map(|r| (r.r_offset(e), r.r_type(e, false), r.r_sym(e, false), Some(r.r_addend(e)))).collect()
            } else if let Ok(Some((rel, _))) = s.rel(e, data) {
                rel.iter().map(|r| (r.r_offset(e), r.r_type(e), r.r_sym(e), None)).collect()
            } else {
                continue;
            };
            let target = s.sh_info(e) as usize;
            let Some(tsec) = sections.section(object::SectionIndex(target)).ok() else { continue };
            let Some(base) = self.sec_addr.get(target).copied().flatten() else {
                if tsec.sh_flags(e) & elf::SHF_ALLOC as u64 != 0 && tsec.sh_size(e) != 0 {
                    let tname = String::from_utf8_lossy(sections.section_name(e, tsec).unwrap_or(b"")).into_owned();
                    return Err(fmt_err(&file, &format!("lost base for relatab (relocations for section {tname}, which is not loaded)")));
                }
                continue;
            };
            let tsize = tsec.sh_size(e) as usize;
            for (off, rtype, symidx, addend) in entries {
                let Some(sym) = self.syms.get(symidx as usize) else { continue };
                let mine = symidx == 0 || sym.bind == elf::STB_LOCAL || sym.defined();
                if mine != local {
                    continue;
                }
                if !reloc::kernel_accepts(rtype) {
                    return Err(LoadError::UnexpectedRelocation { rtype, symidx });
                }
                let width = if matches!(rtype, reloc::R_PC32 | reloc::R_PLT32 | reloc::R_32S) { 4 } else { 8 };
                if rtype != reloc::R_NONE && off as usize + width > tsize {
                    return Err(fmt_err(&file, &format!("relocation offset {off:#x} outside its section")));
                }
                let place = base + off as usize;
                let s_val = if symidx == 0 {
                    0
                } else if let Some(v) = sym.value {
                    v
                } else if sym.defined() {
                    0 // defined in a section that is not loaded
                } else {
                    match resolve(&sym.name) {
                        Some(v) => v,
                        None if sym.bind == elf::STB_WEAK => 0,
                        None => {
                            if !missing.contains(&sym.name) {
                                missing.push(sym.name.clone());
                            }
                            continue;
                        }
                    }
                };
                let a = match addend {
                    Some(a) => a,
                    // SAFETY: place..place+width is inside the loaded section (checked above).
                    None if reloc::rel_addend_is_32(rtype) => unsafe { (place as *const i32).read_unaligned() as i64 },
                    // SAFETY: as above.
                    None => unsafe { (place as *const i64).read_unaligned() },
                };
                // SAFETY: place is inside a loaded, still writable section.
                match unsafe { reloc::apply(place, rtype, s_val as u64, a, base as u64) } {
                    Ok(()) => {}
                    Err(RelocFailure::Unexpected) => return Err(LoadError::UnexpectedRelocation { rtype, symidx }),
                    Err(RelocFailure::Unsupported) => {
                        return Err(LoadError::Unsupported(format!(
                            "kldload: {file}: {} (symbol index {symidx}) is accepted by FreeBSD but not by kernel-sim",
                            reloc::type_name(rtype)
                        )))
                    }
                    Err(RelocFailure::Overflow(v)) => {
                        let sname = self.sections.iter().find(|x| x.index == target).map(|x| x.name.clone()).unwrap_or_default();
                        return Err(LoadError::RelocationOverflow(format!(
                            "kldload: {file}: {} at {sname}+{off:#x} against symbol '{}' (index {symidx}): value {v:#x} does not fit in 32 bits (the FreeBSD kernel would silently truncate it)",
                            reloc::type_name(rtype),
                            sym.name
                        )));
                    }
                }
            }
        }
        if !missing.is_empty() {
            return Err(LoadError::UndefinedSymbols(missing));
        }
        Ok(())
    }

    /// Apply per-page protections (`link_elf_protect`).
    pub fn protect(&self, arena: &Arena) {
        let npages = self.len / PAGE_SIZE;
        let mut prot = vec![libc::PROT_READ; npages];
        for s in &self.sections {
            let first = (s.addr - self.base) / PAGE_SIZE;
            let last = (s.addr + s.size - 1 - self.base) / PAGE_SIZE;
            for p in prot.iter_mut().take(last + 1).skip(first) {
                if s.flags & elf::SHF_WRITE as u64 != 0 {
                    *p |= libc::PROT_WRITE;
                }
                if s.flags & elf::SHF_EXECINSTR as u64 != 0 {
                    *p |= libc::PROT_EXEC;
                }
            }
        }
        let mut i = 0;
        while i < npages {
            let mut j = i + 1;
            while j < npages && prot[j] == prot[i] {
                j += 1;
            }
            arena.protect(self.base + i * PAGE_SIZE, (j - i) * PAGE_SIZE, prot[i]);
            i = j;
        }
    }

    /// Bounds of linker set `name` (section `set_<name>`), like `link_elf_lookup_set`.
    pub fn set_bounds(&self, name: &str) -> Option<(usize, usize)> {
        let want = format!("set_{name}");
        self.sections.iter().find(|s| s.name == want).map(|s| (s.addr, s.addr + s.size))
    }

    /// Whether `[addr, addr+len)` lies in the image.
    pub fn contains(&self, addr: usize, len: usize) -> bool {
        addr >= self.base && addr.checked_add(len).is_some_and(|end| end <= self.base + self.len)
    }

    /// Address of the defined symbol `name` (globals first).
    pub fn lookup(&self, name: &str, globals_only: bool) -> Option<usize> {
        let defined = |s: &&SymInfo| s.name == name && s.defined() && s.value.is_some() && s.stype != elf::STT_SECTION;
        self.syms
            .iter()
            .filter(defined)
            .find(|s| s.bind != elf::STB_LOCAL)
            .or_else(|| if globals_only { None } else { self.syms.iter().find(defined) })
            .and_then(|s| s.value)
    }

    /// What this file exports to a file that depends on it, as link_elf_obj.c
    /// `link_elf_lookup_symbol1(lf, name, sym, see_local)` does when the kernel linker looks
    /// `name` up in a dependency (`linker_file_lookup_symbol`): the **first** symbol of the
    /// table with that name that is defined (`st_shndx != SHN_UNDEF`) answers, whatever its
    /// binding, because `see_local` is `debug.link_elf_obj_leak_locals`, which defaults to
    /// true (`static bool link_elf_obj_leak_locals = true;`). With the sysctl off only an
    /// `STB_GLOBAL` first match would do (a weak or local first match is ENOENT); the
    /// simulator models the default. A symbol whose section was not loaded (zero size) has
    /// no address here; the kernel would return its unrelocated `st_value`.
    pub fn lookup_export(&self, name: &str) -> Option<usize> {
        self.syms
            .iter()
            .find(|s| s.defined() && !s.name.is_empty() && s.name == name)
            .and_then(|s| s.value)
    }

    /// The symbol containing (or preceding) `addr`: `(name, offset)`.
    pub fn symbolize(&self, addr: usize) -> Option<(String, usize)> {
        if !self.contains(addr, 1) {
            return None;
        }
        self.syms
            .iter()
            .filter(|s| {
                s.defined()
                    && !s.name.is_empty()
                    && matches!(s.stype, elf::STT_FUNC | elf::STT_OBJECT | elf::STT_NOTYPE)
                    && s.value.is_some_and(|v| v <= addr)
            })
            .max_by_key(|s| (s.value.unwrap_or(0), s.stype == elf::STT_FUNC))
            .map(|s| (s.name.clone(), addr - s.value.unwrap_or(0)))
    }

    /// Release the mapping.
    pub fn unmap(&self, arena: &mut Arena) {
        arena.free(self.base, self.len);
    }
}

//! Builds small ELF64 `ET_REL` modules with `object::write` for the checker tests: a
//! hand-made equivalent of what `DECLARE_MODULE` expands to (sys/sys/module.h,
//! sys/sys/kernel.h), with knobs to break each rule.
#![allow(dead_code)]

use object::elf;
use object::write::{Object, Relocation, SectionId, Symbol, SymbolId, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionFlags, SectionKind,
    SymbolFlags, SymbolKind, SymbolScope,
};

/// What to put in the test module.
#[derive(Clone, Debug)]
pub struct Spec {
    /// `struct sysinit` layout: 24 (13.x) or 32 (14.0+).
    pub sysinit_size: u64,
    /// `MODULE_DEPEND(kernel, min, pref, max)`.
    pub range: (i32, i32, i32),
    /// Raw instructions inserted at the start of the event handler.
    pub extra_code: Vec<u8>,
    /// Add `mov eax, offset name_string` with this relocation type (e.g. R_X86_64_32).
    pub extra_reloc: Option<u32>,
    /// Extra undefined symbols, each called from the handler.
    pub extra_imports: Vec<&'static str>,
    /// Add an `.init_array` section with a pointer to the handler.
    pub init_array: bool,
    /// Add a `.tbss` TLS section and an STT_TLS symbol.
    pub tls: bool,
    /// Add a COMMON symbol.
    pub common: bool,
    /// Emit `set_modmetadata_set` at all.
    pub metadata: bool,
    /// Make `set_sysinit_set` read-only.
    pub readonly_sysinit_set: bool,
    /// Extra functions the module defines (a `ret` each), called from the handler.
    pub defines: Vec<&'static str>,
    /// Make the `defines` global (`STB_GLOBAL`) instead of local.
    pub defines_global: bool,
}

impl Spec {
    /// A correct FreeBSD 14.0 module.
    pub fn v14() -> Self {
        Spec {
            sysinit_size: 32,
            range: (1400097, 1400097, 1499999),
            extra_code: Vec::new(),
            extra_reloc: None,
            extra_imports: Vec::new(),
            init_array: false,
            tls: false,
            common: false,
            metadata: true,
            readonly_sysinit_set: false,
            defines: Vec::new(),
            defines_global: false,
        }
    }

    /// A correct FreeBSD 13.1 module.
    pub fn v13() -> Self {
        Spec {
            sysinit_size: 24,
            range: (1301000, 1301000, 1399999),
            ..Spec::v14()
        }
    }
}

struct Builder {
    obj: Object<'static>,
}

impl Builder {
    fn section(&mut self, name: &str, kind: SectionKind, sh_flags: Option<u32>) -> SectionId {
        let id = self
            .obj
            .add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        if let Some(f) = sh_flags {
            self.obj.section_mut(id).flags = SectionFlags::Elf {
                sh_flags: u64::from(f),
            };
        }
        id
    }

    fn symbol(
        &mut self,
        name: &str,
        section: SectionId,
        value: u64,
        size: u64,
        kind: SymbolKind,
    ) -> SymbolId {
        self.obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value,
            size,
            kind,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        })
    }

    fn undefined(&mut self, name: &str) -> SymbolId {
        self.obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Unknown,
            scope: SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        })
    }

    fn reloc(
        &mut self,
        section: SectionId,
        offset: u64,
        symbol: SymbolId,
        addend: i64,
        r_type: u32,
    ) {
        self.obj
            .add_relocation(
                section,
                Relocation {
                    offset,
                    symbol,
                    addend,
                    flags: RelocationFlags::Elf { r_type },
                },
            )
            .expect("relocation");
    }
}

/// Builds the module.
pub fn module(spec: &Spec) -> Vec<u8> {
    let mut b = Builder {
        obj: Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little),
    };

    // .rodata: the strings.
    let rodata = b.section(".rodata", SectionKind::ReadOnlyData, None);
    let kernel_off = b.obj.append_section_data(rodata, b"kernel\0", 1);
    let name_off = b.obj.append_section_data(rodata, b"testmod\0", 1);
    let fmt_off = b.obj.append_section_data(rodata, b"testmod loaded\n\0", 1);
    let rodata_sym = b.symbol(".rodata", rodata, 0, 0, SymbolKind::Section);

    // .text: the event handler.
    let text = b.section(".text", SectionKind::Text, None);
    let mut code = vec![0x55, 0x48, 0x89, 0xe5]; // push rbp; mov rbp, rsp
    code.extend(&spec.extra_code);
    let mut relocs: Vec<(u64, &str, u32, i64)> = Vec::new();
    // lea rdi, [rip + fmt]  (R_X86_64_PC32 against .rodata)
    code.extend([0x48, 0x8d, 0x3d, 0, 0, 0, 0]);
    let lea_at = code.len() as u64 - 4;
    // call printf (R_X86_64_PLT32)
    code.extend([0xe8, 0, 0, 0, 0]);
    relocs.push((code.len() as u64 - 4, "printf", elf::R_X86_64_PLT32, -4));
    for name in &spec.extra_imports {
        code.extend([0xe8, 0, 0, 0, 0]);
        relocs.push((code.len() as u64 - 4, name, elf::R_X86_64_PLT32, -4));
    }
    let mut extra_at = None;
    if spec.extra_reloc.is_some() {
        code.extend([0xb8, 0, 0, 0, 0]); // mov eax, imm32
        extra_at = Some(code.len() as u64 - 4);
    }
    let mut local_calls = Vec::new();
    for name in &spec.defines {
        code.extend([0xe8, 0, 0, 0, 0]);
        local_calls.push((code.len() as u64 - 4, *name));
    }
    code.extend([0x31, 0xc0, 0x5d, 0xc3]); // xor eax, eax; pop rbp; ret
    let handler_len = code.len() as u64;
    let mut defined = Vec::new();
    for name in &spec.defines {
        defined.push((code.len() as u64, *name));
        code.push(0xc3); // ret
    }
    b.obj.append_section_data(text, &code, 16);
    for (at, name) in defined {
        let f = b.symbol(name, text, at, 1, SymbolKind::Text);
        if spec.defines_global {
            b.obj.symbol_mut(f).scope = SymbolScope::Linkage;
        }
        if let Some(&(call, _)) = local_calls.iter().find(|(_, n)| *n == name) {
            b.reloc(text, call, f, -4, elf::R_X86_64_PLT32);
        }
    }
    let handler = b.symbol("testmod_handler", text, 0, handler_len, SymbolKind::Text);
    b.reloc(
        text,
        lea_at,
        rodata_sym,
        fmt_off as i64 - 4,
        elf::R_X86_64_PC32,
    );
    for (off, name, ty, addend) in relocs {
        let s = b.undefined(name);
        b.reloc(text, off, s, addend, ty);
    }
    if let (Some(at), Some(ty)) = (extra_at, spec.extra_reloc) {
        b.reloc(text, at, rodata_sym, name_off as i64, ty);
    }

    // .data: mod_depend, moduledata_t, two mod_metadata, the sysinit.
    let data = b.section(".data", SectionKind::Data, None);
    let mut depend = Vec::new();
    for v in [spec.range.0, spec.range.1, spec.range.2] {
        depend.extend(v.to_le_bytes());
    }
    let depend_off = b.obj.append_section_data(data, &depend, 8);
    let depend_sym = b.symbol(
        "_testmod_depend_on_kernel",
        data,
        depend_off,
        12,
        SymbolKind::Data,
    );
    let moddata_off = b.obj.append_section_data(data, &[0; 24], 8);
    let moddata_sym = b.symbol("testmod_mod", data, moddata_off, 24, SymbolKind::Data);
    b.reloc(
        data,
        moddata_off,
        rodata_sym,
        name_off as i64,
        elf::R_X86_64_64,
    );
    b.reloc(data, moddata_off + 8, handler, 0, elf::R_X86_64_64);
    let md = |b: &mut Builder, ty: i32, target: SymbolId, cval: u64, name: &str| {
        let mut bytes = vec![0u8; 24];
        bytes[..4].copy_from_slice(&1i32.to_le_bytes());
        bytes[4..8].copy_from_slice(&ty.to_le_bytes());
        let off = b.obj.append_section_data(data, &bytes, 8);
        b.reloc(data, off + 8, target, 0, elf::R_X86_64_64);
        b.reloc(data, off + 16, rodata_sym, cval as i64, elf::R_X86_64_64);
        b.symbol(name, data, off, 24, SymbolKind::Data)
    };
    let md_depend = md(
        &mut b,
        1,
        depend_sym,
        kernel_off,
        "_mod_metadata_md_testmod_on_kernel",
    );
    let md_module = md(&mut b, 2, moddata_sym, name_off, "_mod_metadata_md_testmod");
    let mut sysinit = vec![0u8; spec.sysinit_size as usize];
    sysinit[..4].copy_from_slice(&0x310_0000u32.to_le_bytes()); // SI_SUB_DRIVERS
    sysinit[4..8].copy_from_slice(&0x100_0000u32.to_le_bytes()); // SI_ORDER_MIDDLE
    let sysinit_off = b.obj.append_section_data(data, &sysinit, 8);
    let sysinit_sym = b.symbol(
        "testmodmodule_sys_init",
        data,
        sysinit_off,
        spec.sysinit_size,
        SymbolKind::Data,
    );
    let (func, udata) = if spec.sysinit_size == 24 {
        (8, 16)
    } else {
        (16, 24)
    };
    let register = b.undefined("module_register_init");
    b.reloc(data, sysinit_off + func, register, 0, elf::R_X86_64_64);
    b.reloc(data, sysinit_off + udata, moddata_sym, 0, elf::R_X86_64_64);

    // The sets.
    if spec.metadata {
        let set = b.section(
            "set_modmetadata_set",
            SectionKind::ReadOnlyData,
            Some(elf::SHF_ALLOC),
        );
        let a = b.obj.append_section_data(set, &[0; 8], 8);
        let c = b.obj.append_section_data(set, &[0; 8], 8);
        b.reloc(set, a, md_depend, 0, elf::R_X86_64_64);
        b.reloc(set, c, md_module, 0, elf::R_X86_64_64);
    }
    let set_flags = if spec.readonly_sysinit_set {
        elf::SHF_ALLOC
    } else {
        elf::SHF_ALLOC | elf::SHF_WRITE
    };
    let set = b.section("set_sysinit_set", SectionKind::Data, Some(set_flags));
    let e = b.obj.append_section_data(set, &[0; 8], 8);
    b.reloc(set, e, sysinit_sym, 0, elf::R_X86_64_64);

    if spec.init_array {
        let ia = b.section(
            ".init_array",
            SectionKind::Elf(elf::SHT_INIT_ARRAY),
            Some(elf::SHF_ALLOC | elf::SHF_WRITE),
        );
        let off = b.obj.append_section_data(ia, &[0; 8], 8);
        b.reloc(ia, off, handler, 0, elf::R_X86_64_64);
    }
    if spec.tls {
        let tbss = b.section(".tbss", SectionKind::UninitializedTls, None);
        b.obj.append_section_bss(tbss, 8, 8);
        b.symbol("testmod_tls_counter", tbss, 0, 8, SymbolKind::Tls);
    }
    if spec.common {
        b.obj.add_symbol(Symbol {
            name: b"testmod_common".to_vec(),
            value: 8,
            size: 8,
            kind: SymbolKind::Data,
            scope: SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Common,
            flags: SymbolFlags::None,
        });
    }
    b.obj.write().expect("write ELF")
}

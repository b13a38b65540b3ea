//! `size(1)` (Berkeley format) of a `.ko`: text, data and bss of its allocated sections.
//!
//! Like binutils' `size` on an object file: `text` is every `SHF_ALLOC` section without
//! `SHF_WRITE` (code, read-only data, `set_modmetadata_set`), `data` every writable
//! `SHF_ALLOC` section with contents (`.data`, the linker sets `set_sysinit_set` ...), and
//! `bss` every `SHF_ALLOC` `SHT_NOBITS` section. These are the bytes the kernel linker
//! (`link_elf_obj.c`) maps for the module; symbol tables, relocations and strings are not
//! counted.
//!
//! The kmod linker scripts (`ldscript.kmod.amd64`, `examples/c-twins/kmod.ld`) pad `.text`
//! and `.rodata` to a page each, so those numbers move in 4 KiB steps; [`KoSize::text_used`]
//! is the text without the trailing padding (fill bytes `0xcc` in code, `0x00` in data),
//! i.e. the bytes of code and constants actually emitted.

use std::path::Path;

use anyhow::Context as _;
use object::elf;
use object::read::elf::{ElfFile64, FileHeader as _, SectionHeader as _};

/// Sizes of a `.ko`, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KoSize {
    /// Read-only allocated sections (code and constants).
    pub text: u64,
    /// Writable allocated sections with contents.
    pub data: u64,
    /// Writable allocated sections without contents (`SHT_NOBITS`).
    pub bss: u64,
    /// `text` without the page padding at the end of each read-only section.
    pub text_used: u64,
    /// Size of the `.ko` file itself.
    pub file: u64,
}

impl KoSize {
    /// `text + data + bss`.
    pub fn total(&self) -> u64 {
        self.text + self.data + self.bss
    }
}

/// Sizes of the ELF64 object in `data`.
pub fn sizes(data: &[u8]) -> anyhow::Result<KoSize> {
    let f = ElfFile64::<object::Endianness>::parse(data).context("not an ELF64 object")?;
    let e = f.endian();
    let mut s = KoSize {
        file: data.len() as u64,
        ..KoSize::default()
    };
    for sh in f
        .elf_header()
        .section_headers(e, data)
        .context("section headers")?
    {
        let flags = sh.sh_flags(e);
        if flags & u64::from(elf::SHF_ALLOC) == 0 {
            continue;
        }
        let size = sh.sh_size(e);
        if sh.sh_type(e) == elf::SHT_NOBITS {
            s.bss += size;
        } else if flags & u64::from(elf::SHF_WRITE) != 0 {
            s.data += size;
        } else {
            s.text += size;
            let bytes = sh.data(e, data).context("section contents")?;
            let exec = flags & u64::from(elf::SHF_EXECINSTR) != 0;
            let padding = bytes
                .iter()
                .rev()
                .take_while(|&&b| b == 0 || (exec && b == 0xcc))
                .count();
            s.text_used += (bytes.len() - padding) as u64;
        }
    }
    Ok(s)
}

/// Sizes of the `.ko` at `path`.
pub fn ko_sizes(path: &Path) -> anyhow::Result<KoSize> {
    let data = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    sizes(&data).with_context(|| path.display().to_string())
}

/// Bytes of code per origin: the sizes of the `STT_FUNC` symbols of `path`, grouped by
/// the crate their (demangled) Rust path starts with; `core::fmt` (formatting) is split
/// out of `core`, and symbols that are not Rust paths (C-ABI names such as the module's
/// exported functions, `memcpy`, or `compiler_builtins`' aliases) form group `C ABI`.
/// Largest first.
pub fn code_by_crate(path: &Path) -> anyhow::Result<Vec<(String, u64)>> {
    use object::{Object as _, ObjectSymbol as _, SymbolKind};
    let data = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let f = object::File::parse(&*data).with_context(|| path.display().to_string())?;
    let mut by: std::collections::BTreeMap<String, u64> = Default::default();
    for s in f.symbols() {
        if s.kind() != SymbolKind::Text || s.size() == 0 {
            continue;
        }
        let name = s.name().unwrap_or("");
        let group = match rustc_demangle::try_demangle(name) {
            Ok(d) => {
                let d = format!("{d:#}");
                let p = d
                    .trim_start_matches(['<', '&', '*'])
                    .trim_start_matches("dyn ")
                    .trim_start_matches("mut ");
                if p.starts_with("core::fmt")
                    || d.contains("as core::fmt::")
                    || d.contains("_fmt_inner")
                {
                    "core::fmt".to_owned()
                } else {
                    p.split([':', ' ', '<', '>'])
                        .next()
                        .unwrap_or("?")
                        .to_owned()
                }
            }
            Err(_) => "C ABI".to_owned(),
        };
        *by.entry(group).or_default() += s.size();
    }
    let mut v: Vec<(String, u64)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(v)
}

/// Whether `path` defines a function symbol `name` itself.
pub fn defines_function(path: &Path, name: &str) -> anyhow::Result<bool> {
    use object::{Object as _, ObjectSymbol as _, SymbolKind};
    let data = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let f = object::File::parse(&*data).with_context(|| path.display().to_string())?;
    Ok(f.symbols()
        .any(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.name() == Ok(name)))
}

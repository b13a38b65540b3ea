//! Link-time refusals: unexpected relocation types, undefined symbols (the first on the console,
//! all in the error), and files
//! that are not amd64 ET_REL objects with one symbol table.
mod common;
use kernel_sim::{Kernel, LoadError, SimOptions, SimRelease};

#[test]
fn r_x86_64_32_is_rejected_with_the_kernel_message() {
    let _g = common::lock();
    let ko = common::build("badreloc", &["badreloc.s"], common::Target::Bare);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let e = k.load(&ko).expect_err("R_X86_64_32 must be refused");
    assert!(matches!(e, LoadError::UnexpectedRelocation { rtype: 10, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.starts_with("kldload: unexpected relocation type 10, symbol index "), "{msg}");
    assert!(k.console().contains(&msg));
    assert!(k.files().is_empty());
}

#[test]
fn every_undefined_symbol_is_listed() {
    let _g = common::lock();
    let ko = common::build("undef", &["undef.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let e = k.load(&ko).expect_err("undefined symbols");
    let LoadError::UndefinedSymbols(mut names) = e.clone() else { panic!("{e:?}") };
    names.sort();
    assert_eq!(names, ["frobnicate_alpha", "frobnicate_beta", "frobnicate_gamma"]);
    // link_elf_obj.c relocate_file prints the first unresolved symbol and returns ENOENT;
    // the error keeps every one for the tool's summary.
    assert_eq!(k.console().matches("link_elf_obj: symbol ").count(), 1, "{}", k.console());
    assert!(
        names.iter().any(|n| k.console().contains(&format!("link_elf_obj: symbol {n} undefined\n"))),
        "{}",
        k.console()
    );
    assert_eq!(e.errno(), 2); // ENOENT
    // Undefined symbols nobody relocates against (__start_set_pcpu etc. in C modules) are fine:
    let hello = common::build("hello-link", &["hello.c"], common::Target::Fbsd14);
    let id = k.load(&hello).expect("hello loads");
    k.unload(id).expect("unload");
}

fn patch(src: &std::path::Path, name: &str, f: impl FnOnce(&mut Vec<u8>)) -> std::path::PathBuf {
    let mut b = std::fs::read(src).expect("read");
    f(&mut b);
    let p = src.with_file_name(name);
    std::fs::write(&p, b).expect("write");
    p
}

#[test]
fn non_rel_non_amd64_and_symtab_less_files_are_rejected() {
    let _g = common::lock();
    let ko = common::build("hello-patch", &["hello.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    // e_type = ET_DYN
    let dyn_ = patch(&ko, "dyn.ko", |b| b[16] = 3);
    let e = k.load(&dyn_).expect_err("ET_DYN");
    assert!(e.to_string().starts_with("linker_load_file: dyn.ko - unsupported file type"), "{e}");
    // e_machine = EM_AARCH64
    let arm = patch(&ko, "arm.ko", |b| b[18] = 183);
    let e = k.load(&arm).expect_err("aarch64");
    assert!(e.to_string().contains("Unsupported machine"), "{e}");
    // The only SHT_SYMTAB turned into SHT_PROGBITS.
    let nosym = patch(&ko, "nosym.ko", |b| {
        let rd = |b: &Vec<u8>, o: usize, n: usize| {
            let mut v = 0u64;
            for i in 0..n {
                v |= (b[o + i] as u64) << (8 * i);
            }
            v as usize
        };
        let (shoff, shentsize, shnum) = (rd(b, 0x28, 8), rd(b, 0x3a, 2), rd(b, 0x3c, 2));
        for i in 0..shnum {
            let t = shoff + i * shentsize + 4;
            if rd(b, t, 4) == 2 {
                b[t] = 1;
            }
        }
    });
    let e = k.load(&nosym).expect_err("no symtab");
    assert_eq!(e.to_string(), "kldload: nosym.ko: file must have exactly one symbol table");
    // Not ELF at all.
    let junk = patch(&ko, "junk.ko", |b| b[0] = b'X');
    assert!(k.load(&junk).is_err());
    assert!(k.files().is_empty());
}

//! The checker on deliberately broken modules, generated at test time with
//! `object::write` (tests/common): each is rejected with a message naming the offending
//! item, and the correct modules pass.

mod common;

use cargo_kmod::check::{Problem, check};
use cargo_kmod::release::resolve;
use common::{Spec, module};
use object::elf;

fn release(name: &str) -> &'static cargo_kmod::Release {
    resolve(Some(name)).expect("release")
}

/// Checks and returns the problems (panics if the module passed).
fn problems(data: &[u8], rel: &str) -> Vec<Problem> {
    match check(data, release(rel)) {
        Ok(report) => panic!("expected rejection for FreeBSD {rel}, got:\n{report}"),
        Err(e) => {
            eprintln!("{e}");
            e.problems
        }
    }
}

fn messages(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn good_modules_pass() {
    let r14 = check(&module(&Spec::v14()), release("14.0")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r14.modules, ["testmod"]);
    assert_eq!(r14.imports, ["module_register_init", "printf"]);
    assert_eq!(r14.sysinits, 1);
    let range = r14.kernel_range.unwrap();
    assert_eq!(
        (range.min, range.pref, range.max),
        (1400097, 1400097, 1499999)
    );
    let text = r14.to_string();
    assert!(
        text.contains("testmod") && text.contains("1400097") && text.contains(".text"),
        "{text}"
    );

    let r13 = check(&module(&Spec::v13()), release("13.1")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r13.kernel_range.unwrap().max, 1399999);
}

#[test]
fn sse_instruction_is_rejected() {
    // movaps xmm0, [rax]
    let spec = Spec {
        extra_code: vec![0x0f, 0x28, 0x00],
        ..Spec::v14()
    };
    let p = problems(&module(&spec), "14.0");
    assert!(
        p.iter().any(|p| matches!(p, Problem::FpuInstruction { disassembly, location, section, .. }
            if disassembly.contains("movaps") && location.contains("testmod_handler+0x4") && section == ".text")),
        "{}",
        messages(&p)
    );
    assert!(messages(&p).contains("xmm0"));
}

#[test]
fn x87_and_avx_instructions_are_rejected() {
    // fld qword ptr [rax]; vaddps ymm0, ymm1, ymm2
    let spec = Spec {
        extra_code: vec![0xdd, 0x00, 0xc5, 0xf4, 0x58, 0xc2],
        ..Spec::v14()
    };
    let m = messages(&problems(&module(&spec), "14.0"));
    assert!(
        m.contains("fld") && m.contains("vaddps") && m.contains("ymm"),
        "{m}"
    );
}

#[test]
fn r_x86_64_32_relocation_is_rejected() {
    let spec = Spec {
        extra_reloc: Some(elf::R_X86_64_32),
        ..Spec::v14()
    };
    let p = problems(&module(&spec), "14.0");
    assert!(
        p.iter().any(
            |p| matches!(p, Problem::Relocation { type_name, section, symbol, .. }
            if type_name == "R_X86_64_32" && section == ".text" && symbol.starts_with(".rodata"))
        ),
        "{}",
        messages(&p)
    );
    assert!(
        messages(&p).contains("R_X86_64_32 (10) in `.text` at offset 0x"),
        "{}",
        messages(&p)
    );
}

#[test]
fn gotpcrel_and_tls_relocations_are_rejected() {
    for (ty, name) in [
        (elf::R_X86_64_REX_GOTPCRELX, "R_X86_64_REX_GOTPCRELX"),
        (elf::R_X86_64_TPOFF32, "R_X86_64_TPOFF32"),
    ] {
        let spec = Spec {
            extra_reloc: Some(ty),
            ..Spec::v14()
        };
        let m = messages(&problems(&module(&spec), "14.0"));
        assert!(m.contains(name), "{m}");
    }
}

#[test]
fn wrong_version_range_is_rejected() {
    // A 14.0 module that declares the 13.1 kernel range.
    let spec = Spec {
        range: (1301000, 1301000, 1399999),
        ..Spec::v14()
    };
    let p = problems(&module(&spec), "14.0");
    assert_eq!(p.len(), 1, "{}", messages(&p));
    let m = messages(&p);
    assert!(
        m.contains("found min 1301000 / pref 1301000 / max 1399999"),
        "{m}"
    );
    assert!(
        m.contains("needs min 1400097 / pref 1400097 / max 1499999"),
        "{m}"
    );

    // max must be MODULE_KERNEL_MAXVER, not __FreeBSD_version (that would be KLD_TIED).
    let spec = Spec {
        range: (1400097, 1400097, 1400097),
        ..Spec::v14()
    };
    assert!(matches!(
        problems(&module(&spec), "14.0")[..],
        [Problem::VersionRange { .. }]
    ));
}

#[test]
fn module_checked_against_the_wrong_release_is_rejected() {
    let m = messages(&problems(&module(&Spec::v14()), "13.1"));
    assert!(
        m.contains("wrong kernel version range") && m.contains("sysinit"),
        "{m}"
    );
}

#[test]
fn sysinit_14_layout_in_a_13_module_is_rejected() {
    let spec = Spec {
        sysinit_size: 32,
        ..Spec::v13()
    };
    let p = problems(&module(&spec), "13.1");
    let m = messages(&p);
    assert!(
        p.iter().all(|p| matches!(p, Problem::Sysinit { .. })),
        "{m}"
    );
    assert!(
        m.contains("`testmodmodule_sys_init`")
            && m.contains("is 32 bytes")
            && m.contains("24 bytes"),
        "{m}"
    );
    assert!(
        m.contains("no function pointer relocation at offset 8"),
        "{m}"
    );
}

#[test]
fn sysinit_13_layout_in_a_14_module_is_rejected() {
    let spec = Spec {
        sysinit_size: 24,
        ..Spec::v14()
    };
    let p = problems(&module(&spec), "14.0");
    let m = messages(&p);
    assert!(
        p.iter().all(|p| matches!(p, Problem::Sysinit { .. })),
        "{m}"
    );
    assert!(m.contains("is 24 bytes") && m.contains("32 bytes"), "{m}");
    assert!(
        m.contains("at offset 8, where FreeBSD 14.0 keeps the zero `next` link"),
        "{m}"
    );
}

#[test]
fn read_only_sysinit_set_is_rejected() {
    let spec = Spec {
        readonly_sysinit_set: true,
        ..Spec::v14()
    };
    let m = messages(&problems(&module(&spec), "14.0"));
    assert!(
        m.contains("`set_sysinit_set`: the set is not writable"),
        "{m}"
    );
}

#[test]
fn unknown_undefined_symbols_are_rejected() {
    let spec = Spec {
        extra_imports: vec!["bcmp", "__rust_probestack"],
        ..Spec::v14()
    };
    let p = problems(&module(&spec), "14.0");
    match &p[..] {
        [Problem::UnknownSymbols { release, symbols }] => {
            assert_eq!(release, "14.0");
            assert_eq!(symbols, &["__rust_probestack", "bcmp"]);
        }
        _ => panic!("{}", messages(&p)),
    }
    assert!(messages(&p).contains("2 undefined symbol(s) not in the FreeBSD 14.0 KPI"));
}

#[test]
fn a_module_defining_a_kernel_function_is_rejected() {
    // What compiler_builtins' math `log(double)` did to the calls meant for log(9).
    let spec = Spec {
        defines: vec!["log", "malloc"],
        defines_global: true,
        ..Spec::v14()
    };
    let p = problems(&module(&spec), "14.0");
    match &p[..] {
        [Problem::ShadowedKpi { release, symbols }] => {
            assert_eq!(release, "14.0");
            assert_eq!(symbols, &["log", "malloc"]);
        }
        _ => panic!("{}", messages(&p)),
    }
    assert!(messages(&p).contains("defines 2 FreeBSD 14.0 KPI name(s)"), "{}", messages(&p));
    // Issue 9 item 11: local symbols with KPI names are private to the module and capture
    // no reference to the kernel's functions: not reported (this was a false positive).
    let spec = Spec {
        defines: vec!["log", "malloc"],
        ..Spec::v14()
    };
    if let Err(e) = check(&module(&spec), release("14.0")) {
        panic!("local KPI-named helpers must pass: {e}");
    }
    // A module-local helper with any other name is fine.
    let spec = Spec {
        defines: vec!["testmod_helper"],
        ..Spec::v14()
    };
    if let Err(e) = check(&module(&spec), release("14.0")) {
        panic!("a module-local helper must pass: {e}");
    }
}

#[test]
fn not_et_rel_is_rejected() {
    let mut data = module(&Spec::v14());
    data[16..18].copy_from_slice(&elf::ET_EXEC.to_le_bytes());
    let p = problems(&data, "14.0");
    assert!(
        matches!(&p[..], [Problem::NotRelocatable { found }] if found == "ET_EXEC"),
        "{}",
        messages(&p)
    );

    let mut data = module(&Spec::v14());
    data[4] = elf::ELFCLASS32;
    assert!(matches!(problems(&data, "14.0")[..], [Problem::NotElf(_)]));
    assert!(matches!(
        problems(b"#!/bin/sh\n", "14.0")[..],
        [Problem::NotElf(_)]
    ));
}

#[test]
fn init_array_is_rejected() {
    let spec = Spec {
        init_array: true,
        ..Spec::v14()
    };
    let p = problems(&module(&spec), "14.0");
    assert!(
        p.iter().any(
            |p| matches!(p, Problem::ForbiddenSection { section, .. } if section == ".init_array")
        ),
        "{}",
        messages(&p)
    );
}

#[test]
fn tls_and_common_symbols_are_rejected() {
    let m = messages(&problems(
        &module(&Spec {
            tls: true,
            ..Spec::v14()
        }),
        "14.0",
    ));
    assert!(
        m.contains("`.tbss`: thread-local") && m.contains("`testmod_tls_counter`"),
        "{m}"
    );
    let m = messages(&problems(
        &module(&Spec {
            common: true,
            ..Spec::v14()
        }),
        "14.0",
    ));
    assert!(m.contains("`testmod_common`: COMMON symbol"), "{m}");
}

#[test]
fn missing_metadata_is_rejected() {
    let m = messages(&problems(
        &module(&Spec {
            metadata: false,
            ..Spec::v14()
        }),
        "14.0",
    ));
    assert!(m.contains("no `set_modmetadata_set` section"), "{m}");
}

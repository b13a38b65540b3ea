//! FPU/SIMD scan of the executable sections.
//!
//! FreeBSD builds kernel code with `-mno-mmx -mno-sse -msoft-float` (plus `-mno-avx
//! -mno-aes` for clang; sys/conf/kern.mk): the kernel does not save the user's FPU/SIMD
//! state on entry, so module code touching x87/MMX/SSE/AVX registers corrupts user
//! processes (or traps, when the FPU is disabled in the kernel). The simulator cannot
//! trap this at run time, so every instruction is decoded (iced-x86) and its used
//! registers and CPUID features are inspected.

use iced_x86::{
    CpuidFeature, Decoder, DecoderOptions, Formatter, Instruction, InstructionInfoFactory,
    IntelFormatter, Register,
};
use object::elf::SHF_EXECINSTR;
use object::{Object, ObjectSection, SectionKind};

use super::{Module, Problem};

/// At most this many instructions are reported per module (a whole SSE function would
/// otherwise flood the output).
const MAX_REPORTED: usize = 20;

/// Whether a register is x87, MMX, SSE/AVX vector, AVX-512 mask or AMX tile state.
fn is_fpu_register(r: Register) -> bool {
    r.is_xmm() || r.is_ymm() || r.is_zmm() || r.is_mm() || r.is_st() || r.is_k() || r.is_tmm()
}

/// Whether a CPUID feature denotes FPU/SIMD execution state.
fn is_fpu_feature(f: CpuidFeature) -> bool {
    const PREFIXES: [&str; 20] = [
        "FPU",
        "MMX",
        "SSE",
        "SSSE3",
        "AVX",
        "FMA",
        "F16C",
        "D3NOW",
        "XOP",
        "AES",
        "VAES",
        "PCLMULQDQ",
        "VPCLMULQDQ",
        "SHA",
        "GFNI",
        "AMX",
        "FXSR",
        "XSAVE",
        "KNC",
        "CYRIX_D3NOW",
    ];
    let name = format!("{f:?}");
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Scans every executable section; returns the number of instructions decoded.
pub(super) fn check(m: &Module<'_>, problems: &mut Vec<Problem>) -> usize {
    let mut factory = InstructionInfoFactory::new();
    let mut formatter = IntelFormatter::new();
    let mut decoded = 0;
    let mut found = 0usize;
    for section in m.elf.sections() {
        if m.section_flags(section.index()) & u64::from(SHF_EXECINSTR) == 0
            || section.kind() == SectionKind::UninitializedData
        {
            continue;
        }
        let Ok(data) = section.data() else { continue };
        let mut decoder = Decoder::with_ip(64, data, 0, DecoderOptions::NONE);
        let mut instr = Instruction::default();
        while decoder.can_decode() {
            decoder.decode_out(&mut instr);
            if instr.is_invalid() {
                continue;
            }
            decoded += 1;
            let info = factory.info(&instr);
            let mut what: Vec<String> = Vec::new();
            for used in info.used_registers() {
                let r = used.register();
                if is_fpu_register(r) {
                    let name = format!("{r:?}").to_lowercase();
                    if !what.contains(&name) {
                        what.push(name);
                    }
                }
            }
            for &f in instr.cpuid_features() {
                if is_fpu_feature(f) {
                    what.push(format!("CPUID {f:?}"));
                }
            }
            if what.is_empty() {
                continue;
            }
            found += 1;
            if found > MAX_REPORTED {
                continue;
            }
            let mut text = String::new();
            formatter.format(&instr, &mut text);
            problems.push(Problem::FpuInstruction {
                section: section.name().unwrap_or("?").to_owned(),
                location: m.location(section.index(), instr.ip()),
                disassembly: text,
                what: what.join(", "),
            });
        }
    }
    if found > MAX_REPORTED {
        problems.push(Problem::FpuInstruction {
            section: "(all)".into(),
            location: "(elsewhere)".into(),
            disassembly: "...".into(),
            what: format!(
                "{} more FPU/SIMD instructions not listed",
                found - MAX_REPORTED
            ),
        });
    }
    decoded
}

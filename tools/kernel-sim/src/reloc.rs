//! amd64 relocations as `elf_reloc_internal()` in `sys/amd64/amd64/elf_machdep.c` applies them.
//!
//! Accepted: `R_X86_64_NONE`(0), `64`(1), `PC32`(2), `PLT32`(4, treated as PC32),
//! `GLOB_DAT`(6), `JMP_SLOT`(7), `RELATIVE`(8), `32S`(11). `IRELATIVE`(37) is accepted by the
//! kernel (ifunc resolvers run at load time) but not by this simulator. Everything else is
//! refused with the kernel's message `kldload: unexpected relocation type %ld, symbol index %ld`.
//! Unlike the kernel, 32-bit results are range-checked instead of silently truncated.

/// `R_X86_64_NONE`.
pub const R_NONE: u32 = 0;
/// `R_X86_64_64`.
pub const R_64: u32 = 1;
/// `R_X86_64_PC32`.
pub const R_PC32: u32 = 2;
/// `R_X86_64_PLT32`.
pub const R_PLT32: u32 = 4;
/// `R_X86_64_GLOB_DAT`.
pub const R_GLOB_DAT: u32 = 6;
/// `R_X86_64_JMP_SLOT`.
pub const R_JMP_SLOT: u32 = 7;
/// `R_X86_64_RELATIVE`.
pub const R_RELATIVE: u32 = 8;
/// `R_X86_64_32`.
pub const R_32: u32 = 10;
/// `R_X86_64_32S`.
pub const R_32S: u32 = 11;
/// `R_X86_64_IRELATIVE`.
pub const R_IRELATIVE: u32 = 37;

/// Name of an amd64 relocation type.
pub fn type_name(t: u32) -> String {
    match t {
        0 => "R_X86_64_NONE".into(),
        1 => "R_X86_64_64".into(),
        2 => "R_X86_64_PC32".into(),
        4 => "R_X86_64_PLT32".into(),
        6 => "R_X86_64_GLOB_DAT".into(),
        7 => "R_X86_64_JMP_SLOT".into(),
        8 => "R_X86_64_RELATIVE".into(),
        9 => "R_X86_64_GOTPCREL".into(),
        10 => "R_X86_64_32".into(),
        11 => "R_X86_64_32S".into(),
        23 => "R_X86_64_TPOFF32".into(),
        24 => "R_X86_64_PC64".into(),
        37 => "R_X86_64_IRELATIVE".into(),
        41 => "R_X86_64_GOTPCRELX".into(),
        42 => "R_X86_64_REX_GOTPCRELX".into(),
        n => format!("type {n}"),
    }
}

/// Whether the kernel's `elf_reloc_internal` accepts this type.
pub fn kernel_accepts(t: u32) -> bool {
    matches!(t, R_NONE | R_64 | R_PC32 | R_PLT32 | R_GLOB_DAT | R_JMP_SLOT | R_RELATIVE | R_32S | R_IRELATIVE)
}

/// Whether the addend of a REL (not RELA) entry is 32-bit at the site.
pub fn rel_addend_is_32(t: u32) -> bool {
    matches!(t, R_PC32 | R_PLT32 | R_32S)
}

/// Why a relocation could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelocFailure {
    /// The kernel refuses the type.
    Unexpected,
    /// The simulator does not implement an accepted type.
    Unsupported,
    /// The 32-bit result does not fit.
    Overflow(i128),
}

/// Apply one relocation at `place` (writable memory): `s` = symbol value, `a` = addend,
/// `base` = relocation base (the section's load address, as link_elf_obj passes it).
///
/// # Safety
/// `place` must be writable for the relocation's width (4 or 8 bytes).
pub unsafe fn apply(place: usize, rtype: u32, s: u64, a: i64, base: u64) -> Result<(), RelocFailure> {
    let p = place as u64;
    let w64 = |v: u64| {
        // SAFETY: place is writable for 8 bytes (caller's contract).
        unsafe { (place as *mut u64).write_unaligned(v) }
    };
    let w32 = |v: u32| {
        // SAFETY: place is writable for 4 bytes (caller's contract).
        unsafe { (place as *mut u32).write_unaligned(v) }
    };
    match rtype {
        R_NONE => {}
        R_64 => w64(s.wrapping_add(a as u64)),
        R_PC32 | R_PLT32 => {
            let v = s as i128 + a as i128 - p as i128;
            if v < i32::MIN as i128 || v > i32::MAX as i128 {
                return Err(RelocFailure::Overflow(v));
            }
            w32(v as i32 as u32)
        }
        R_32S => {
            let v = s as i64 as i128 + a as i128;
            if v < i32::MIN as i128 || v > i32::MAX as i128 {
                return Err(RelocFailure::Overflow(v));
            }
            w32(v as i32 as u32)
        }
        R_GLOB_DAT | R_JMP_SLOT => w64(s),
        R_RELATIVE => w64(base.wrapping_add(a as u64)),
        R_IRELATIVE => return Err(RelocFailure::Unsupported),
        _ => return Err(RelocFailure::Unexpected),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc32_and_32s_are_range_checked() {
        let mut buf = [0u8; 8];
        let place = buf.as_mut_ptr() as usize;
        // SAFETY: buf is 8 writable bytes.
        unsafe {
            assert!(apply(place, R_PC32, place as u64 + 0x100, -4, 0).is_ok());
            assert_eq!(i32::from_le_bytes(buf[..4].try_into().unwrap()), 0xfc);
            assert!(matches!(apply(place, R_PC32, place as u64 + (1 << 33), 0, 0), Err(RelocFailure::Overflow(_))));
            assert!(apply(place, R_32S, 0x4000_0000, 0x10, 0).is_ok());
            assert!(matches!(apply(place, R_32S, 0x8000_0000, 0, 0), Err(RelocFailure::Overflow(_))));
            assert!(apply(place, R_32S, (-8i64) as u64, 0, 0).is_ok(), "negative values sign-extend");
            assert_eq!(apply(place, R_32, 0x1000, 0, 0), Err(RelocFailure::Unexpected));
            assert!(apply(place, R_64, 0x1122_3344_5566_7788, 8, 0).is_ok());
            assert_eq!(u64::from_le_bytes(buf), 0x1122_3344_5566_7790);
        }
        for t in [3, 5, 9, 10, 23, 24, 41, 42] {
            assert!(!kernel_accepts(t), "type {t}");
        }
    }
}

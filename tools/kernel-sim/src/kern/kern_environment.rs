//! The kernel environment (`sys/kern/kern_environment.c`): `kern_getenv`, `freeenv`,
//! `testenv`, `getenv_string`, `getenv_int`/`uint`/`long`/`ulong`/`int64`/`uint64`/`quad`,
//! `getenv_bool`. The environment is set before the first load (`cargo kmod run --kenv
//! NAME=VALUE`, [`crate::SimOptions::kenv`]) like loader.conf(5) variables.
//!
//! * `kern_getenv` returns a copy the caller must give back with `freeenv` (the dynamic
//!   environment: `malloc(KENV_MNAMELEN + 1 + KENV_MVALLEN + 1, M_KENV, M_WAITOK)` then
//!   `strcpy`); copies not given back are reported by [`crate::Kernel::kenv_leaks`].
//! * `getenv_quad`: `strtoq(value, &vtp, 0)`; fails when no digit was read or more than one
//!   character follows; a single `k`/`m`/`g`/`t` (any case) suffix multiplies by 1024 per
//!   step (`case 't': iv *= 1024; /* FALLTHROUGH */ ...`), any other suffix fails. The other
//!   integer getters are `getenv_quad` plus a C cast.
//! * `getenv_string(name, data, size)`: `strlcpy(data, value, size)`, 1 if found.
//! * `getenv_bool`: "1"/"true" and "0"/"false" (case-insensitive words), otherwise
//!   `Environment variable %s has non-boolean value "%s"` on the console and 0.

use std::collections::BTreeMap;
use std::ffi::CString;

use super::kern_sysctl::{self as sc, with};
use crate::ksyms::KsymDef;

/// `KENV_MNAMELEN` + 1 + `KENV_MVALLEN` + 1 (sys/sys/kenv.h: 128 and 128): the size of a
/// `kern_getenv` copy.
const KENV_COPY: usize = 128 + 1 + 128 + 1;

/// Parse like `getenv_quad` (kern_environment.c).
pub fn parse_quad(v: &str) -> Option<i64> {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || (9..=13).contains(&b[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        neg = b[i] == b'-';
        i += 1;
    }
    // strtoq base 0: 0x -> 16, leading 0 -> 8, else 10.
    let mut base = 10u32;
    if i + 1 < b.len() && b[i] == b'0' && (b[i + 1] == b'x' || b[i + 1] == b'X') && i + 2 < b.len() && (b[i + 2] as char).is_ascii_hexdigit() {
        base = 16;
        i += 2;
    } else if i < b.len() && b[i] == b'0' {
        base = 8;
    }
    let start = i;
    let mut acc: i64 = 0;
    let mut overflow = false;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(base) else { break };
        match acc.checked_mul(base as i64).and_then(|a| a.checked_add(d as i64)) {
            Some(a) => acc = a,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    // strtoq clamps to QUAD_MAX / QUAD_MIN on overflow.
    let mut iv = if overflow { if neg { i64::MIN } else { i64::MAX } } else if neg { acc.wrapping_neg() } else { acc };
    let rest = &b[i..];
    if rest.len() > 1 {
        return None;
    }
    let steps = match rest.first() {
        None => 0,
        Some(b't' | b'T') => 4,
        Some(b'g' | b'G') => 3,
        Some(b'm' | b'M') => 2,
        Some(b'k' | b'K') => 1,
        Some(_) => return None,
    };
    for _ in 0..steps {
        iv = iv.wrapping_mul(1024);
    }
    Some(iv)
}

/// `getenv_array`'s parsing: numbers separated by blanks or commas (each like
/// `getenv_quad`), each range-checked for a `type_size`-byte signed or unsigned integer
/// (unsigned ones may not be negative); at most `max` bytes. `None` on any bad number or
/// when nothing was found.
pub fn parse_array(val: &str, type_size: usize, signed: bool, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for part in val.split([' ', ',', '\t']).filter(|p| !p.is_empty()) {
        let q = parse_quad(part)?;
        let ok = match (type_size, signed) {
            (1, true) => i8::try_from(q).is_ok(),
            (2, true) => i16::try_from(q).is_ok(),
            (4, true) => i32::try_from(q).is_ok(),
            (1, false) => u8::try_from(q).is_ok(),
            (2, false) => u16::try_from(q).is_ok(),
            (4, false) => u32::try_from(q).is_ok(),
            (8, false) => q >= 0,
            (8, true) => true,
            _ => false,
        };
        if !ok || out.len() + type_size > max {
            return None;
        }
        out.extend_from_slice(&q.to_le_bytes()[..type_size]);
    }
    if out.is_empty() { None } else { Some(out) }
}

extern "C" fn k_getenv_array(name: usize, data: usize, size: i32, psize: *mut i32, type_size: i32, allow_signed: bool) -> i32 {
    // SAFETY: C string argument.
    let Some(v) = (unsafe { name_of(name) }).and_then(|n| get(&n)) else { return 0 };
    let Some(bytes) = parse_array(&v, type_size.max(0) as usize, allow_signed, size.max(0) as usize) else { return 0 };
    // SAFETY: the caller's buffer of `size` bytes (bytes.len() <= size) and its length.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), data as *mut u8, bytes.len());
        if !psize.is_null() {
            *psize = bytes.len() as i32;
        }
    }
    1
}

/// The environment, from host code.
pub fn get(name: &str) -> Option<String> {
    with(|s| s.kenv.get(name).cloned())
}

/// Set the environment (before loads).
pub fn set_all(env: &BTreeMap<String, String>) {
    with(|s| s.kenv = env.clone());
}

/// Outstanding `kern_getenv` copies: `(address, name)`.
pub fn outstanding() -> Vec<(usize, String)> {
    with(|s| s.env_copies.iter().map(|(a, n)| (*a, n.clone())).collect())
}

unsafe fn name_of(p: usize) -> Option<String> {
    if p == 0 {
        return None;
    }
    // SAFETY: the module's NUL-terminated C string (the KPI's contract).
    Some(unsafe { super::cstr(p) })
}

extern "C" fn k_kern_getenv(name: usize) -> usize {
    // SAFETY: C string argument.
    let Some(n) = (unsafe { name_of(name) }) else { return 0 };
    let Some(v) = get(&n) else { return 0 };
    // SAFETY: calloc of a fixed size; freed by freeenv.
    let p = unsafe { libc::calloc(1, KENV_COPY.max(v.len() + 1)) } as usize;
    if p == 0 {
        return 0;
    }
    // SAFETY: p has room for v and its NUL.
    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut u8, v.len()) };
    with(|s| s.env_copies.insert(p, n));
    p
}

extern "C" fn k_freeenv(env: usize) {
    if env == 0 {
        return;
    }
    let known = with(|s| s.env_copies.remove(&env)).is_some();
    if !known {
        // freeenv() hands the pointer to uma_zfree(kenv_zone, ...): anything else corrupts
        // the zone; an INVARIANTS kernel panics in the zone's free checks.
        super::panic::kernel_panic(format!("freeenv: {env:#x} was not returned by kern_getenv (double free or foreign pointer)\n"), super::subr_witness::caller());
    }
    // SAFETY: env came from calloc in k_kern_getenv and is freed once.
    unsafe { libc::free(env as *mut libc::c_void) };
}

extern "C" fn k_testenv(name: usize) -> i32 {
    // SAFETY: C string argument.
    unsafe { name_of(name) }.is_some_and(|n| get(&n).is_some()) as i32
}

extern "C" fn k_getenv_string(name: usize, data: usize, size: i32) -> i32 {
    // SAFETY: C string argument.
    let Some(v) = (unsafe { name_of(name) }).and_then(|n| get(&n)) else { return 0 };
    if size > 0 && data != 0 {
        // strlcpy(data, value, size)
        let n = v.len().min(size as usize - 1);
        // SAFETY: the caller gives `size` writable bytes at data.
        unsafe {
            std::ptr::copy_nonoverlapping(v.as_ptr(), data as *mut u8, n);
            *(data as *mut u8).add(n) = 0;
        }
    }
    1
}

fn quad(name: usize) -> Option<i64> {
    // SAFETY: C string argument.
    unsafe { name_of(name) }.and_then(|n| get(&n)).and_then(|v| parse_quad(&v))
}

macro_rules! getenv_num {
    ($f:ident, $t:ty) => {
        extern "C" fn $f(name: usize, data: *mut $t) -> i32 {
            match quad(name) {
                Some(q) => {
                    // SAFETY: the caller's result variable.
                    unsafe { data.write_unaligned(q as $t) };
                    1
                }
                None => 0,
            }
        }
    };
}
getenv_num!(k_getenv_int, i32);
getenv_num!(k_getenv_uint, u32);
getenv_num!(k_getenv_long, i64);
getenv_num!(k_getenv_ulong, u64);
getenv_num!(k_getenv_quad, i64);
getenv_num!(k_getenv_int64, i64);
getenv_num!(k_getenv_uint64, u64);

extern "C" fn k_getenv_bool(name: usize, data: *mut u8) -> i32 {
    // SAFETY: C string argument.
    let Some(n) = (unsafe { name_of(name) }) else { return 0 };
    let Some(v) = get(&n) else { return 0 };
    let b = if v == "1" || v.eq_ignore_ascii_case("true") {
        1
    } else if v == "0" || v.eq_ignore_ascii_case("false") {
        0
    } else {
        super::console_write(format!("Environment variable {n} has non-boolean value \"{v}\"\n").as_bytes());
        return 0;
    };
    // SAFETY: the caller's bool.
    unsafe { *data = b };
    1
}

/// `getenv_is_true`/`getenv_is_false`: `getenv_bool` found the variable and it is true /
/// false.
extern "C" fn k_getenv_is_true(name: usize) -> bool {
    let mut b = 0u8;
    k_getenv_bool(name, &mut b) != 0 && b != 0
}
extern "C" fn k_getenv_is_false(name: usize) -> bool {
    let mut b = 1u8;
    k_getenv_bool(name, &mut b) != 0 && b == 0
}

super::subr_witness::caller_shim!(sim_freeenv, k_freeenv);

/// A C string the simulator keeps for the kernel's lifetime.
pub fn leak_cstr(s: &str) -> usize {
    CString::new(s).expect("no NUL").into_raw() as usize
}

/// Register the kernel environment KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    let _ = sc::CTLTYPE;
    v.push(KsymDef::function("kern_getenv", k_kern_getenv as *const () as usize));
    v.push(KsymDef::function("freeenv", sim_freeenv as *const () as usize));
    v.push(KsymDef::function("testenv", k_testenv as *const () as usize));
    v.push(KsymDef::function("getenv_string", k_getenv_string as *const () as usize));
    v.push(KsymDef::function("getenv_int", k_getenv_int as *const () as usize));
    v.push(KsymDef::function("getenv_uint", k_getenv_uint as *const () as usize));
    v.push(KsymDef::function("getenv_long", k_getenv_long as *const () as usize));
    v.push(KsymDef::function("getenv_ulong", k_getenv_ulong as *const () as usize));
    v.push(KsymDef::function("getenv_quad", k_getenv_quad as *const () as usize));
    v.push(KsymDef::function("getenv_int64", k_getenv_int64 as *const () as usize));
    v.push(KsymDef::function("getenv_uint64", k_getenv_uint64 as *const () as usize));
    v.push(KsymDef::function("getenv_bool", k_getenv_bool as *const () as usize));
    v.push(KsymDef::function("getenv_array", k_getenv_array as *const () as usize));
    v.push(KsymDef::function("getenv_is_true", k_getenv_is_true as *const () as usize));
    v.push(KsymDef::function("getenv_is_false", k_getenv_is_false as *const () as usize));
}

#[cfg(test)]
mod tests {
    use super::parse_quad;
    #[test]
    fn quad_like_getenv_quad() {
        assert_eq!(parse_quad("7"), Some(7));
        assert_eq!(parse_quad("0x10"), Some(16));
        assert_eq!(parse_quad("010"), Some(8));
        assert_eq!(parse_quad("-3"), Some(-3));
        assert_eq!(parse_quad("4k"), Some(4096));
        assert_eq!(parse_quad("1M"), Some(1 << 20));
        assert_eq!(parse_quad("1t"), Some(1 << 40));
        assert_eq!(parse_quad("4kb"), None);
        assert_eq!(parse_quad("4x"), None);
        assert_eq!(parse_quad("abc"), None);
        assert_eq!(parse_quad(""), None);
    }

    #[test]
    fn arrays_like_getenv_array() {
        use super::parse_array;
        assert_eq!(parse_array("1 2,3", 4, true, 512), Some([1i32, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect()));
        assert_eq!(parse_array("-1", 4, false, 512), None);
        assert_eq!(parse_array("256", 1, false, 512), None);
        assert_eq!(parse_array("1 2", 4, true, 4), None, "larger than the buffer");
        assert_eq!(parse_array("4k", 8, false, 512), Some(4096u64.to_le_bytes().to_vec()));
    }
}

//! libkern string and memory routines (`sys/sys/systm.h`, `sys/sys/libkern.h`).
//!
//! A module's own definitions of these win (its defined symbols are resolved before kernel
//! symbols); these serve modules that call the kernel's copies.

use crate::ksyms::KsymDef;

extern "C" fn k_memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: memcpy contract (valid, non-overlapping buffers) is the caller's.
    unsafe { std::ptr::copy_nonoverlapping(s, d, n) };
    d
}
extern "C" fn k_memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: memmove contract is the caller's.
    unsafe { std::ptr::copy(s, d, n) };
    d
}
extern "C" fn k_memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: memset contract is the caller's.
    unsafe { std::ptr::write_bytes(d, c as u8, n) };
    d
}
extern "C" fn k_memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: both buffers hold n bytes (caller's contract).
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}
extern "C" fn k_bzero(d: *mut u8, n: usize) {
    // SAFETY: bzero contract is the caller's.
    unsafe { std::ptr::write_bytes(d, 0, n) };
}
extern "C" fn k_bcopy(s: *const u8, d: *mut u8, n: usize) {
    // SAFETY: bcopy handles overlap like memmove.
    unsafe { std::ptr::copy(s, d, n) };
}
extern "C" fn k_strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: s is NUL-terminated (caller's contract).
    while unsafe { *s.add(n) } != 0 {
        n += 1;
    }
    n
}
extern "C" fn k_strnlen(s: *const u8, max: usize) -> usize {
    let mut n = 0;
    // SAFETY: reads stop at max or the NUL.
    while n < max && unsafe { *s.add(n) } != 0 {
        n += 1;
    }
    n
}
extern "C" fn k_strcmp(a: *const u8, b: *const u8) -> i32 {
    k_strncmp(a, b, usize::MAX)
}
extern "C" fn k_strncmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: both strings are NUL-terminated; we stop at the first NUL.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return x as i32 - y as i32;
        }
        if x == 0 {
            break;
        }
    }
    0
}
extern "C" fn k_strlcpy(d: *mut u8, s: *const u8, size: usize) -> usize {
    let len = k_strlen(s);
    if size > 0 {
        let n = len.min(size - 1);
        // SAFETY: d holds size bytes, s holds len+1.
        unsafe {
            std::ptr::copy_nonoverlapping(s, d, n);
            *d.add(n) = 0;
        }
    }
    len
}

/// Register the libkern routines.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("memcpy", k_memcpy as *const () as usize));
    v.push(KsymDef::function("memmove", k_memmove as *const () as usize));
    v.push(KsymDef::function("memset", k_memset as *const () as usize));
    v.push(KsymDef::function("memcmp", k_memcmp as *const () as usize));
    // bcmp/bzero/bcopy: functions in 13.0's sys/sys/systm.h, only macros over
    // memcmp/memset/memmove in 14.x and 15.0 (`#define bzero(buf, len)
    // __builtin_memset((buf), 0, (len))`): exported by the simulated 13.1 kernel only.
    v.push(KsymDef::function("bcmp", k_memcmp as *const () as usize));
    v.push(KsymDef::function("bzero", k_bzero as *const () as usize));
    v.push(KsymDef::function("bcopy", k_bcopy as *const () as usize));
    v.push(KsymDef::function("strlen", k_strlen as *const () as usize));
    v.push(KsymDef::function("strnlen", k_strnlen as *const () as usize));
    v.push(KsymDef::function("strcmp", k_strcmp as *const () as usize));
    v.push(KsymDef::function("strncmp", k_strncmp as *const () as usize));
    v.push(KsymDef::function("strlcpy", k_strlcpy as *const () as usize));
}

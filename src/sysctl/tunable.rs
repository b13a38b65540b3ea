//! Tunables: values from the kernel environment (`/boot/loader.conf`, `kenv(1)`), read
//! like C's `TUNABLE_*_FETCH` (`getenv_int` & co., kern_environment.c).
//!
//! Each function returns `None` when the variable is absent or does not parse as the type
//! (the kernel's parser accepts `0x` hex, `0` octal and the `k`/`m`/`g`/`t` suffixes).
//! They **may sleep** (the environment lock, allocation): call them in thread context with
//! no lock held, typically in `Module::load`.
//!
//! ```no_run
//! # fn f() {
//! let limit = freebsd_kmi::sysctl::tunable::fetch_i32(c"debug.mydrv.limit").unwrap_or(100);
//! # }
//! ```

use super::value::StringBuf;
use core::ffi::{CStr, c_int};

/// `TUNABLE_INT_FETCH(name, &v)` (`getenv_int`).
pub fn fetch_i32(name: &CStr) -> Option<i32> {
    let mut v: c_int = 0;
    (sys::getenv_int(name, &mut v) != 0).then_some(v)
}

/// `TUNABLE_UINT_FETCH(name, &v)` (`getenv_uint`).
pub fn fetch_u32(name: &CStr) -> Option<u32> {
    let mut v = 0u32;
    (sys::getenv_uint(name, &mut v) != 0).then_some(v)
}

/// `TUNABLE_QUAD_FETCH(name, &v)` (`getenv_quad`).
pub fn fetch_i64(name: &CStr) -> Option<i64> {
    let mut v = 0i64;
    (sys::getenv_quad(name, &mut v) != 0).then_some(v)
}

/// `TUNABLE_UINT64_FETCH(name, &v)` (`getenv_uint64`).
pub fn fetch_u64(name: &CStr) -> Option<u64> {
    let mut v = 0u64;
    (sys::getenv_uint64(name, &mut v) != 0).then_some(v)
}

/// `TUNABLE_STR_FETCH(name, buf, N)` (`getenv_string`): at most `N - 1` bytes (longer
/// values are truncated, as in C).
pub fn fetch_string<const N: usize>(name: &CStr) -> Option<StringBuf<N>> {
    let mut buf = StringBuf::<N>::new();
    let n = buf.prefix_mut(N);
    let found = sys::getenv_string(name, n) != 0;
    found.then(|| {
        buf.terminate(N - 1);
        buf
    })
}

/// Whether the variable is set (`testenv`).
pub fn is_set(name: &CStr) -> bool {
    sys::testenv(name) != 0
}

mod sys {
    use core::ffi::{CStr, c_int};

    #[cfg(kernel)]
    mod k {
        use core::ffi::{CStr, c_int};
        use freebsd_kpi::common::sysctl as raw;
        // SAFETY (all): `name` is NUL-terminated; the out pointers are exclusive locals of
        // the C type the function writes (int, u_int, quad_t, uint64_t, `size` bytes).
        pub fn getenv_int(name: &CStr, v: &mut c_int) -> c_int {
            // SAFETY: see above.
            unsafe { raw::getenv_int(name.as_ptr(), v) }
        }
        pub fn getenv_uint(name: &CStr, v: &mut u32) -> c_int {
            // SAFETY: see above.
            unsafe { raw::getenv_uint(name.as_ptr(), v) }
        }
        pub fn getenv_quad(name: &CStr, v: &mut i64) -> c_int {
            // SAFETY: see above.
            unsafe { raw::getenv_quad(name.as_ptr(), v) }
        }
        pub fn getenv_uint64(name: &CStr, v: &mut u64) -> c_int {
            // SAFETY: see above.
            unsafe { raw::getenv_uint64(name.as_ptr(), v) }
        }
        pub fn getenv_string(name: &CStr, buf: &mut [u8]) -> c_int {
            let size = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
            // SAFETY: see above; getenv_string writes at most `size` bytes (size - 1 and a NUL).
            unsafe { raw::getenv_string(name.as_ptr(), buf.as_mut_ptr().cast(), size) }
        }
        pub fn testenv(name: &CStr) -> c_int {
            // SAFETY: see above.
            unsafe { raw::testenv(name.as_ptr()) }
        }
    }
    #[cfg(kernel)]
    pub(super) use k::*;

    #[cfg(not(kernel))]
    macro_rules! host {
        ($($f:ident($($t:ty),*);)*) => {$(
            pub(super) fn $f(_: &CStr, $(_: $t),*) -> c_int {
                crate::linker_set::host_sysinit(stringify!($f))
            }
        )*};
    }
    #[cfg(not(kernel))]
    host! {
        getenv_int(&mut c_int);
        getenv_uint(&mut u32);
        getenv_quad(&mut i64);
        getenv_uint64(&mut u64);
        getenv_string(&mut [u8]);
        testenv();
    }
    #[cfg(kernel)]
    const _: fn(&CStr) -> c_int = k::testenv;
}

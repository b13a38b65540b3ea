//! The value types of leaves: [`Scalar`] (integers and `bool`), [`StringBuf`] and
//! [`Opaque`].

use crate::errno::{EINVAL, Errno};
use core::ffi::{CStr, c_int};
use freebsd_kpi::common::sysctl::{self as raw, sysctl_req};
use freebsd_kpi::selected::sysctl_oid;

/// Largest `N` of a [`StringBuf<N>`] a string leaf takes (it lives on the kernel stack in
/// the handler).
pub(super) const MAX_STRING: usize = 1024;

mod sealed {
    pub trait Sealed {}
}

/// A value type of a scalar leaf, with the `CTLTYPE_*`, format and kernel handler the
/// matching `SYSCTL_ADD_*` macro uses (`sys/sys/sysctl.h`):
///
/// | Rust   | macro             | type            | format | handler              |
/// |--------|-------------------|-----------------|--------|----------------------|
/// | `i32`  | `SYSCTL_ADD_INT`  | `CTLTYPE_INT`   | `"I"`  | `sysctl_handle_int`  |
/// | `u32`  | `SYSCTL_ADD_UINT` | `CTLTYPE_UINT`  | `"IU"` | `sysctl_handle_int`  |
/// | `i64`  | `SYSCTL_ADD_S64`  | `CTLTYPE_S64`   | `"Q"`  | `sysctl_handle_64`   |
/// | `u64`  | `SYSCTL_ADD_U64`  | `CTLTYPE_U64`   | `"QU"` | `sysctl_handle_64`   |
/// | `bool` | `SYSCTL_ADD_BOOL` | `CTLTYPE_U8`    | `"CU"` | `sysctl_handle_bool` |
pub trait Scalar: Copy + Send + Sync + 'static + sealed::Sealed {
    /// `CTLTYPE_*`.
    const CTLTYPE: u32;
    /// The format string (`oid_fmt`).
    const FMT: &'static CStr;
    /// Calls the kernel handler on `*value`.
    ///
    /// # Safety
    /// `oidp` and `req` are the handler call's; `value` is valid for reads and writes.
    #[doc(hidden)]
    unsafe fn handle(oidp: *mut sysctl_oid, value: *mut Self, req: *mut sysctl_req) -> c_int;
}

macro_rules! scalar {
    ($($t:ty => $ctltype:ident, $fmt:literal, $handler:ident;)*) => {$(
        impl sealed::Sealed for $t {}
        impl Scalar for $t {
            const CTLTYPE: u32 = raw::$ctltype;
            const FMT: &'static CStr = $fmt;
            unsafe fn handle(oidp: *mut sysctl_oid, value: *mut Self, req: *mut sysctl_req) -> c_int {
                #[cfg(kernel)]
                // SAFETY: the caller passes the call's oid and request and a valid value of
                // the type the kernel handler expects (int, int64_t or bool).
                return unsafe { freebsd_kpi::selected::$handler(oidp, value.cast::<core::ffi::c_void>(), 0, req) };
                #[cfg(not(kernel))]
                {
                    let _ = (oidp, value, req);
                    crate::linker_set::host_sysinit(stringify!($handler))
                }
            }
        }
    )*};
}

scalar! {
    i32 => CTLTYPE_INT, c"I", sysctl_handle_int;
    u32 => CTLTYPE_UINT, c"IU", sysctl_handle_int;
    i64 => CTLTYPE_S64, c"Q", sysctl_handle_64;
    u64 => CTLTYPE_U64, c"QU", sysctl_handle_64;
    bool => CTLTYPE_U8, c"CU", sysctl_handle_bool;
}

/// A string of at most `N - 1` bytes, NUL-terminated in `N` bytes (C's `char buf[N]`): the
/// value of a string leaf. Keep the current value in your data (e.g. in a
/// [`Mutex`](crate::sync::Mutex)) and copy it out in the getter.
///
/// ```
/// use freebsd_kmi::sysctl::StringBuf;
/// let s = StringBuf::<8>::from_bytes(b"hello").unwrap();
/// assert_eq!(s.as_bytes(), b"hello");
/// assert!(StringBuf::<8>::from_bytes(b"too long").is_err()); // 8 bytes need N = 9
/// ```
///
/// # Invariants
///
/// `len < N` and `bytes[len] == 0`; `bytes[..len]` has no NUL.
#[derive(Clone, Copy)]
pub struct StringBuf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StringBuf<N> {
    /// The empty string.
    pub const fn new() -> Self {
        const { assert!(N >= 1, "StringBuf<N> needs N >= 1 (room for the NUL)") };
        // INVARIANT: len 0, bytes[0] == 0.
        StringBuf { bytes: [0; N], len: 0 }
    }

    /// A copy of `s` up to its first NUL; `EINVAL` when that is `N` bytes or more.
    pub fn from_bytes(s: &[u8]) -> Result<Self, Errno> {
        let s = s.iter().position(|&b| b == 0).map_or(s, |i| &s[..i]);
        if s.len() >= N {
            return Err(EINVAL);
        }
        let mut b = Self::new();
        b.bytes[..s.len()].copy_from_slice(s);
        // INVARIANT: s.len() < N, no NUL in s, the rest is zero.
        b.len = s.len();
        Ok(b)
    }

    /// The bytes (no NUL).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The string, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }

    /// Length in bytes (without the NUL).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes and the NUL (what `SYSCTL_OUT` sends).
    pub(super) fn with_nul(&self) -> &[u8] {
        &self.bytes[..=self.len]
    }

    /// The first `n` bytes (`n < N`), for `SYSCTL_IN` into a new (all-zero) buffer; call
    /// [`StringBuf::terminate`] after.
    pub(super) fn prefix_mut(&mut self, n: usize) -> &mut [u8] {
        &mut self.bytes[..n]
    }

    /// Re-establishes the invariant after `n < N` bytes were written: the string ends at
    /// the first NUL (C reads it with `strlen`).
    pub(super) fn terminate(&mut self, n: usize) {
        let n = n.min(N - 1);
        let len = self.bytes[..n].iter().position(|&b| b == 0).unwrap_or(n);
        self.bytes[len..].fill(0);
        // INVARIANT: len <= n < N, bytes[len] == 0, no NUL before.
        self.len = len;
    }
}

impl<const N: usize> Default for StringBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for StringBuf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", core::str::from_utf8(self.as_bytes()).unwrap_or("<not UTF-8>"))
    }
}

/// A plain structure a read-only opaque leaf may send as its bytes.
///
/// # Safety
///
/// Every byte of every value is initialised: no padding, no `MaybeUninit`, no pointers
/// (their values would leak kernel addresses to user space).
pub unsafe trait Opaque: Copy + Send + Sync + 'static {}

// SAFETY: integers have no padding.
unsafe impl Opaque for u8 {}
// SAFETY: as above.
unsafe impl Opaque for u16 {}
// SAFETY: as above.
unsafe impl Opaque for u32 {}
// SAFETY: as above.
unsafe impl Opaque for u64 {}
// SAFETY: as above.
unsafe impl Opaque for i8 {}
// SAFETY: as above.
unsafe impl Opaque for i16 {}
// SAFETY: as above.
unsafe impl Opaque for i32 {}
// SAFETY: as above.
unsafe impl Opaque for i64 {}
// SAFETY: an array of padding-free elements has no padding.
unsafe impl<D: Opaque, const N: usize> Opaque for [D; N] {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_buf_limits_and_nul() {
        assert_eq!(StringBuf::<33>::from_bytes(&[b'x'; 32]).unwrap().len(), 32);
        assert_eq!(StringBuf::<33>::from_bytes(&[b'x'; 33]).unwrap_err(), EINVAL);
        let s = StringBuf::<8>::from_bytes(b"ab\0cd").unwrap();
        assert_eq!(s.as_bytes(), b"ab");
        assert_eq!(s.with_nul(), b"ab\0");
        let mut t = StringBuf::<8>::new();
        t.prefix_mut(5).copy_from_slice(b"hi\0yo");
        t.terminate(5);
        assert_eq!((t.as_bytes(), t.with_nul()), (&b"hi"[..], &b"hi\0"[..]));
        let mut u = StringBuf::<8>::new();
        u.prefix_mut(7).copy_from_slice(b"1234567");
        u.terminate(7);
        assert_eq!(u.as_str(), Some("1234567"));
    }

    #[test]
    fn scalar_formats_match_the_sysctl_h_macros() {
        assert_eq!((i32::CTLTYPE, i32::FMT), (2, c"I"));
        assert_eq!((u32::CTLTYPE, u32::FMT), (6, c"IU"));
        assert_eq!((i64::CTLTYPE, i64::FMT), (4, c"Q"));
        assert_eq!((u64::CTLTYPE, u64::FMT), (9, c"QU"));
        assert_eq!((bool::CTLTYPE, bool::FMT), (0xa, c"CU"));
    }
}

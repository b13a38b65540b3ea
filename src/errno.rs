//! FreeBSD error numbers as a Rust type.
//!
//! Kernel functions report failure with an errno value; [`Errno`] is a non-zero errno, so
//! `Result<T, Errno>` is how this crate (and your module) reports errors. Values come
//! from `sys/sys/errno.h` through the release bindings.
//!
//! ```
//! use freebsd_kmi::errno::{Errno, ENOMEM};
//! assert_eq!(ENOMEM.get(), 12);
//! assert_eq!(Errno::from_raw(0), None);
//! assert_eq!(format!("{}", ENOMEM), "ENOMEM (12)");
//! ```

use core::ffi::c_int;
use core::fmt;
use core::num::NonZeroI32;
use freebsd_kpi::common::errno as raw;

/// A non-zero FreeBSD errno value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(NonZeroI32);

/// `Result` with [`Errno`] as the error.
pub type Result<T, E = Errno> = core::result::Result<T, E>;

impl Errno {
    /// `Some(Errno)` for a non-zero value, `None` for 0 (success).
    #[inline]
    pub const fn from_raw(value: c_int) -> Option<Errno> {
        match NonZeroI32::new(value) {
            Some(v) => Some(Errno(v)),
            None => None,
        }
    }

    /// The raw value, as kernel functions return it.
    #[inline]
    pub const fn get(self) -> c_int {
        self.0.get()
    }

    /// The symbolic name (`"ENOMEM"`), if this is a known errno.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(v, _)| *v == self.get()).map(|(_, n)| *n)
    }

    const fn known(value: c_int) -> Errno {
        match NonZeroI32::new(value) {
            Some(v) => Errno(v),
            None => panic!("errno 0 is success"),
        }
    }
}

/// Converts a kernel return value (0 = success) into a `Result`.
///
/// ```
/// use freebsd_kmi::errno::{to_result, EBUSY};
/// assert_eq!(to_result(0), Ok(()));
/// assert_eq!(to_result(16), Err(EBUSY));
/// ```
#[inline]
pub const fn to_result(ret: c_int) -> Result<()> {
    match Errno::from_raw(ret) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// The value a kernel callback returns for `result`: 0 or the errno.
#[inline]
pub const fn from_result(result: Result<()>) -> c_int {
    match result {
        Ok(()) => 0,
        Err(e) => e.get(),
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.get()),
            None => write!(f, "errno {}", self.get()),
        }
    }
}

impl From<Errno> for c_int {
    fn from(e: Errno) -> c_int {
        e.get()
    }
}

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($name), "` (sys/sys/errno.h).")]
            pub const $name: Errno = Errno::known(raw::$name);
        )*
        const NAMES: &[(c_int, &str)] = &[$((raw::$name, stringify!($name))),*];
    };
}

errnos!(
    EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD, EDEADLK, ENOMEM,
    EACCES, EFAULT, ENOTBLK, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE,
    EMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, EPIPE, EDOM, ERANGE, EAGAIN,
    EINPROGRESS, EALREADY, ENOTSOCK, EDESTADDRREQ, EMSGSIZE, EPROTOTYPE, ENOPROTOOPT,
    EPROTONOSUPPORT, ESOCKTNOSUPPORT, EOPNOTSUPP, EPFNOSUPPORT, EAFNOSUPPORT, EADDRINUSE,
    EADDRNOTAVAIL, ENETDOWN, ENETUNREACH, ENETRESET, ECONNABORTED, ECONNRESET, ENOBUFS, EISCONN,
    ENOTCONN, ESHUTDOWN, ETOOMANYREFS, ETIMEDOUT, ECONNREFUSED, ELOOP, ENAMETOOLONG, EHOSTDOWN,
    EHOSTUNREACH, ENOTEMPTY, EPROCLIM, EUSERS, EDQUOT, ESTALE, EREMOTE, EBADRPC, ERPCMISMATCH,
    EPROGUNAVAIL, EPROGMISMATCH, EPROCUNAVAIL, ENOLCK, ENOSYS, EFTYPE, EAUTH, ENEEDAUTH, EIDRM,
    ENOMSG, EOVERFLOW, ECANCELED, EILSEQ, ENOATTR, EDOOFUS, EBADMSG, EMULTIHOP, ENOLINK, EPROTO,
    ENOTCAPABLE, ECAPMODE, ENOTRECOVERABLE, EOWNERDEAD, EINTEGRITY, ERESTART, EJUSTRETURN,
    ENOIOCTL, EDIRIOCTL, ERELOOKUP,
);

/// `EWOULDBLOCK` is `EAGAIN`.
pub const EWOULDBLOCK: Errno = EAGAIN;
/// `ENOTSUP` is `EOPNOTSUPP`.
pub const ENOTSUP: Errno = EOPNOTSUPP;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_names_and_conversions() {
        assert_eq!(ENOMEM.get(), 12);
        assert_eq!(EBUSY.get(), 16);
        assert_eq!(EINVAL.get(), 22);
        assert_eq!(EOPNOTSUPP.get(), 45);
        assert_eq!(ERESTART.get(), -1);
        assert_eq!(ENOMEM.name(), Some("ENOMEM"));
        assert_eq!(Errno::from_raw(4242).unwrap().to_string(), "errno 4242");
        assert_eq!(to_result(0), Ok(()));
        assert_eq!(to_result(12), Err(ENOMEM));
        assert_eq!(from_result(Err(EBUSY)), 16);
        assert_eq!(c_int::from(ENOMEM), 12);
    }
}

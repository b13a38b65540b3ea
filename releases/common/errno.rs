//! Error numbers (`sys/sys/errno.h`; identical in 13.x, 14.x and 15.0).
//!
//! Values checked against the 14.2 header; the 13.x header has the same table
//! (`ELAST` 97, `EINTEGRITY` added in 13.0).
#![allow(missing_docs)]

use core::ffi::c_int;

abi_consts! {
    table ERRNO_CONSTS, header "sys/sys/errno.h";
    pub const EPERM: c_int = 1;
    pub const ENOENT: c_int = 2;
    pub const ESRCH: c_int = 3;
    pub const EINTR: c_int = 4;
    pub const EIO: c_int = 5;
    pub const ENXIO: c_int = 6;
    pub const E2BIG: c_int = 7;
    pub const ENOEXEC: c_int = 8;
    pub const EBADF: c_int = 9;
    pub const ECHILD: c_int = 10;
    pub const EDEADLK: c_int = 11;
    pub const ENOMEM: c_int = 12;
    pub const EACCES: c_int = 13;
    pub const EFAULT: c_int = 14;
    pub const ENOTBLK: c_int = 15;
    pub const EBUSY: c_int = 16;
    pub const EEXIST: c_int = 17;
    pub const EXDEV: c_int = 18;
    pub const ENODEV: c_int = 19;
    pub const ENOTDIR: c_int = 20;
    pub const EISDIR: c_int = 21;
    pub const EINVAL: c_int = 22;
    pub const ENFILE: c_int = 23;
    pub const EMFILE: c_int = 24;
    pub const ENOTTY: c_int = 25;
    pub const ETXTBSY: c_int = 26;
    pub const EFBIG: c_int = 27;
    pub const ENOSPC: c_int = 28;
    pub const ESPIPE: c_int = 29;
    pub const EROFS: c_int = 30;
    pub const EMLINK: c_int = 31;
    pub const EPIPE: c_int = 32;
    pub const EDOM: c_int = 33;
    pub const ERANGE: c_int = 34;
    pub const EAGAIN: c_int = 35;
    pub const EWOULDBLOCK: c_int = EAGAIN;
    pub const EINPROGRESS: c_int = 36;
    pub const EALREADY: c_int = 37;
    pub const ENOTSOCK: c_int = 38;
    pub const EDESTADDRREQ: c_int = 39;
    pub const EMSGSIZE: c_int = 40;
    pub const EPROTOTYPE: c_int = 41;
    pub const ENOPROTOOPT: c_int = 42;
    pub const EPROTONOSUPPORT: c_int = 43;
    pub const ESOCKTNOSUPPORT: c_int = 44;
    pub const EOPNOTSUPP: c_int = 45;
    pub const ENOTSUP: c_int = EOPNOTSUPP;
    pub const EPFNOSUPPORT: c_int = 46;
    pub const EAFNOSUPPORT: c_int = 47;
    pub const EADDRINUSE: c_int = 48;
    pub const EADDRNOTAVAIL: c_int = 49;
    pub const ENETDOWN: c_int = 50;
    pub const ENETUNREACH: c_int = 51;
    pub const ENETRESET: c_int = 52;
    pub const ECONNABORTED: c_int = 53;
    pub const ECONNRESET: c_int = 54;
    pub const ENOBUFS: c_int = 55;
    pub const EISCONN: c_int = 56;
    pub const ENOTCONN: c_int = 57;
    pub const ESHUTDOWN: c_int = 58;
    pub const ETOOMANYREFS: c_int = 59;
    pub const ETIMEDOUT: c_int = 60;
    pub const ECONNREFUSED: c_int = 61;
    pub const ELOOP: c_int = 62;
    pub const ENAMETOOLONG: c_int = 63;
    pub const EHOSTDOWN: c_int = 64;
    pub const EHOSTUNREACH: c_int = 65;
    pub const ENOTEMPTY: c_int = 66;
    pub const EPROCLIM: c_int = 67;
    pub const EUSERS: c_int = 68;
    pub const EDQUOT: c_int = 69;
    pub const ESTALE: c_int = 70;
    pub const EREMOTE: c_int = 71;
    pub const EBADRPC: c_int = 72;
    pub const ERPCMISMATCH: c_int = 73;
    pub const EPROGUNAVAIL: c_int = 74;
    pub const EPROGMISMATCH: c_int = 75;
    pub const EPROCUNAVAIL: c_int = 76;
    pub const ENOLCK: c_int = 77;
    pub const ENOSYS: c_int = 78;
    pub const EFTYPE: c_int = 79;
    pub const EAUTH: c_int = 80;
    pub const ENEEDAUTH: c_int = 81;
    pub const EIDRM: c_int = 82;
    pub const ENOMSG: c_int = 83;
    pub const EOVERFLOW: c_int = 84;
    pub const ECANCELED: c_int = 85;
    pub const EILSEQ: c_int = 86;
    pub const ENOATTR: c_int = 87;
    pub const EDOOFUS: c_int = 88;
    pub const EBADMSG: c_int = 89;
    pub const EMULTIHOP: c_int = 90;
    pub const ENOLINK: c_int = 91;
    pub const EPROTO: c_int = 92;
    pub const ENOTCAPABLE: c_int = 93;
    pub const ECAPMODE: c_int = 94;
    pub const ENOTRECOVERABLE: c_int = 95;
    pub const EOWNERDEAD: c_int = 96;
    pub const EINTEGRITY: c_int = 97;
    /// Largest errno value.
    pub const ELAST: c_int = 97;
    /// Kernel-internal: restart the system call.
    pub const ERESTART: c_int = -1;
    /// Kernel-internal: don't modify registers, just return.
    pub const EJUSTRETURN: c_int = -2;
    /// Kernel-internal: ioctl not handled by this layer.
    pub const ENOIOCTL: c_int = -3;
    /// Kernel-internal: do direct ioctl in GEOM.
    pub const EDIRIOCTL: c_int = -4;
    /// Kernel-internal: retry the directory lookup.
    pub const ERELOOKUP: c_int = -5;
}

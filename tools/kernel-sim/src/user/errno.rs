//! errno values (`sys/sys/errno.h`) and their messages (`lib/libc/gen/errlst.c`), for the
//! commands' error messages.

/// `EPERM`.
pub const EPERM: i32 = 1;
/// `ENOENT`.
pub const ENOENT: i32 = 2;
/// `EINTR`.
pub const EINTR: i32 = 4;
/// `EIO`.
pub const EIO: i32 = 5;
/// `ENXIO`.
pub const ENXIO: i32 = 6;
/// `EBADF`.
pub const EBADF: i32 = 9;
/// `ENOMEM`.
pub const ENOMEM: i32 = 12;
/// `EACCES`.
pub const EACCES: i32 = 13;
/// `EFAULT`.
pub const EFAULT: i32 = 14;
/// `EBUSY`.
pub const EBUSY: i32 = 16;
/// `EEXIST`.
pub const EEXIST: i32 = 17;
/// `ENODEV`.
pub const ENODEV: i32 = 19;
/// `EINVAL`.
pub const EINVAL: i32 = 22;
/// `ENOTTY`.
pub const ENOTTY: i32 = 25;
/// `ESPIPE`.
pub const ESPIPE: i32 = 29;
/// `EAGAIN` / `EWOULDBLOCK`.
pub const EAGAIN: i32 = 35;
/// `ENAMETOOLONG`.
pub const ENAMETOOLONG: i32 = 63;
/// `ERESTART` (kernel only).
pub const ERESTART: i32 = -1;
/// `EJUSTRETURN` (kernel only).
pub const EJUSTRETURN: i32 = -2;
/// `ENOIOCTL` (kernel only): "ioctl not handled by this layer".
pub const ENOIOCTL: i32 = -3;

/// `strerror(3)` of FreeBSD's libc (`lib/libc/gen/errlst.c`).
pub fn strerror(e: i32) -> String {
    let s = match e {
        0 => "No error: 0",
        1 => "Operation not permitted",
        2 => "No such file or directory",
        3 => "No such process",
        4 => "Interrupted system call",
        5 => "Input/output error",
        6 => "Device not configured",
        7 => "Argument list too long",
        8 => "Exec format error",
        9 => "Bad file descriptor",
        10 => "No child processes",
        11 => "Resource deadlock avoided",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        14 => "Bad address",
        15 => "Block device required",
        16 => "Device busy",
        17 => "File exists",
        18 => "Cross-device link",
        19 => "Operation not supported by device",
        20 => "Not a directory",
        21 => "Is a directory",
        22 => "Invalid argument",
        23 => "Too many open files in system",
        24 => "Too many open files",
        25 => "Inappropriate ioctl for device",
        26 => "Text file busy",
        27 => "File too large",
        28 => "No space left on device",
        29 => "Illegal seek",
        30 => "Read-only file system",
        31 => "Too many links",
        32 => "Broken pipe",
        33 => "Numerical argument out of domain",
        34 => "Result too large",
        35 => "Resource temporarily unavailable",
        45 => "Operation not supported",
        60 => "Operation timed out",
        63 => "File name too long",
        78 => "Function not implemented",
        84 => "Value too large to be stored in data type",
        _ => return format!("Unknown error: {e}"),
    };
    s.into()
}

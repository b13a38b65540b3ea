//! sysctl(9): the parts of `sys/sys/sysctl.h` that are identical on every release.
//!
//! - `CTLTYPE_*`, `CTLFLAG_*`, `OID_AUTO`: KBI-frozen values.
//! - `struct sysctl_req` (96 bytes): the request a handler gets; `SYSCTL_OUT(r, p, l)` is
//!   `r->oldfunc(r, p, l)` and `SYSCTL_IN(r, p, l)` is `r->newfunc(r, p, l)`.
//! - `struct sysctl_ctx_entry` / `struct sysctl_ctx_list` (a `TAILQ_HEAD`, 16 bytes).
//! - The handlers the `SYSCTL_ADD_*` macros use (`sysctl_handle_int` ...): their
//!   prototypes name `struct sysctl_oid`, whose layout differs, so the release folders
//!   declare them through `sysctl_oid_functions!` with their own `sysctl_oid`.
//!
//! `struct sysctl_oid` itself and its children list differ: an `SLIST` on 13.x (96 bytes),
//! an `RB` tree since 1400071 (112 bytes): `v13_1/sysctl_oid_layout.rs`,
//! `v14_0/sysctl_oid_layout.rs` (compiled by the 15.0 folder too).
//!
//! Sources: 14.2 and 15.0 headers (probed by the conformance test; the two files differ
//! only in `SYSCTL_ADD_*` macros for sbintime and `SYSCTL_SIZEOF`); 13.x:
//! `sys/sys/sysctl.h` of sobomax/freebsd14_vendor@0f7ff342 (13.0-RELEASE tree, stable/13
//! KBI), whose constants, `struct sysctl_req`, context structs and prototypes are the same
//! text. FACTS.md section 6.

use core::ffi::{c_int, c_uint, c_void};

/// `intmax_t` (`oid_arg2`, the handlers' `arg2`).
pub type intmax_t = i64;

abi_consts! {
    table SYSCTL_CONSTS, header "sys/sys/sysctl.h";
    /// `CTLTYPE`: mask of the type bits of `oid_kind`.
    pub const CTLTYPE: c_uint = 0xf;
    /// A node: has children.
    pub const CTLTYPE_NODE: c_uint = 1;
    /// `int`.
    pub const CTLTYPE_INT: c_uint = 2;
    /// NUL-terminated string.
    pub const CTLTYPE_STRING: c_uint = 3;
    /// `int64_t`.
    pub const CTLTYPE_S64: c_uint = 4;
    /// Opaque structure (`CTLTYPE_STRUCT`).
    pub const CTLTYPE_OPAQUE: c_uint = 5;
    /// `unsigned int`.
    pub const CTLTYPE_UINT: c_uint = 6;
    /// `long`.
    pub const CTLTYPE_LONG: c_uint = 7;
    /// `unsigned long`.
    pub const CTLTYPE_ULONG: c_uint = 8;
    /// `uint64_t`.
    pub const CTLTYPE_U64: c_uint = 9;
    /// `uint8_t` (also `bool`).
    pub const CTLTYPE_U8: c_uint = 0xa;
    /// `uint16_t`.
    pub const CTLTYPE_U16: c_uint = 0xb;
    /// `int8_t`.
    pub const CTLTYPE_S8: c_uint = 0xc;
    /// `int16_t`.
    pub const CTLTYPE_S16: c_uint = 0xd;
    /// `int32_t`.
    pub const CTLTYPE_S32: c_uint = 0xe;
    /// `uint32_t`.
    pub const CTLTYPE_U32: c_uint = 0xf;
    /// Readable.
    pub const CTLFLAG_RD: c_uint = 0x80000000;
    /// Writable (by root unless `CTLFLAG_ANYBODY`).
    pub const CTLFLAG_WR: c_uint = 0x40000000;
    /// `CTLFLAG_RD | CTLFLAG_WR`.
    pub const CTLFLAG_RW: c_uint = 0xc0000000;
    /// Not active yet.
    pub const CTLFLAG_DORMANT: c_uint = 0x20000000;
    /// Every user may write it.
    pub const CTLFLAG_ANYBODY: c_uint = 0x10000000;
    /// Writes refused when securelevel > 0 (`CTLFLAG_SECURE1`).
    pub const CTLFLAG_SECURE: c_uint = 0x08000000;
    /// Jailed root may write it.
    pub const CTLFLAG_PRISON: c_uint = 0x04000000;
    /// Dynamic oid (set by `sysctl_add_oid`).
    pub const CTLFLAG_DYN: c_uint = 0x02000000;
    /// Hidden from listings.
    pub const CTLFLAG_SKIP: c_uint = 0x01000000;
    /// `CTLMASK_SECURE`: the securelevel bits of `CTLFLAG_SECURE2`/`3`.
    pub const CTLMASK_SECURE: c_uint = 0x00F00000;
    /// The default value is loaded from the kernel environment (a tunable).
    pub const CTLFLAG_TUN: c_uint = 0x00080000;
    /// The handler is MP safe (called without Giant).
    pub const CTLFLAG_MPSAFE: c_uint = 0x00040000;
    /// Prisons with vnet may write it.
    pub const CTLFLAG_VNET: c_uint = 0x00020000;
    /// Being removed.
    pub const CTLFLAG_DYING: c_uint = 0x00010000;
    /// Readable in capability mode.
    pub const CTLFLAG_CAPRD: c_uint = 0x00008000;
    /// Writable in capability mode.
    pub const CTLFLAG_CAPWR: c_uint = 0x00004000;
    /// Statistics, not a tunable.
    pub const CTLFLAG_STATS: c_uint = 0x00002000;
    /// Do not fetch the tunable from the environment.
    pub const CTLFLAG_NOFETCH: c_uint = 0x00001000;
    /// The handler needs Giant.
    pub const CTLFLAG_NEEDGIANT: c_uint = 0x00000800;
    /// `CTLSHIFT_SECURE`.
    pub const CTLSHIFT_SECURE: c_int = 20;
    /// Let the kernel number the oid.
    pub const OID_AUTO: c_int = -1;
    /// First number of automatically numbered oids.
    pub const CTL_AUTO_START: c_int = 0x100;
    /// `sysctl_req.lock`: old buffer not wired.
    pub const REQ_UNWIRED: c_int = 1;
    /// `sysctl_req.lock`: old buffer wired (`sysctl_wire_old_buffer`).
    pub const REQ_WIRED: c_int = 2;
}

/// `struct sysctl_req`: one sysctl request, as a handler sees it.
#[repr(C)]
pub struct sysctl_req {
    /// `struct thread *td`: the requesting thread (access checks).
    pub td: *mut c_void,
    /// Wiring state (`REQ_UNWIRED`, `REQ_WIRED`).
    pub lock: c_int,
    /// Where the old value goes (NULL: only its size is asked).
    pub oldptr: *mut c_void,
    /// Size of the old buffer.
    pub oldlen: usize,
    /// Bytes of old value produced so far.
    pub oldidx: usize,
    /// `SYSCTL_OUT`: `int (*)(struct sysctl_req *, const void *, size_t)`.
    pub oldfunc: Option<unsafe extern "C" fn(*mut sysctl_req, *const c_void, usize) -> c_int>,
    /// The new value (NULL: a read).
    pub newptr: *const c_void,
    /// Its length.
    pub newlen: usize,
    /// Bytes of the new value consumed so far.
    pub newidx: usize,
    /// `SYSCTL_IN`: `int (*)(struct sysctl_req *, void *, size_t)`.
    pub newfunc: Option<unsafe extern "C" fn(*mut sysctl_req, *mut c_void, usize) -> c_int>,
    /// Valid length of the old buffer.
    pub validlen: usize,
    /// `SCTL_MASK32` and friends.
    pub flags: c_int,
}

/// `struct sysctl_ctx_entry`: one oid of a context.
#[repr(C)]
pub struct sysctl_ctx_entry {
    /// `struct sysctl_oid *entry` (the release's layout: a pointer either way).
    pub entry: *mut c_void,
    /// `TAILQ_ENTRY(sysctl_ctx_entry) link`: `tqe_next`.
    pub link_next: *mut sysctl_ctx_entry,
    /// `tqe_prev`.
    pub link_prev: *mut *mut sysctl_ctx_entry,
}

/// `struct sysctl_ctx_list` (`TAILQ_HEAD(sysctl_ctx_list, sysctl_ctx_entry)`): the oids a
/// context created. `tqh_last` points into the head itself once initialised, so the head
/// never moves after `sysctl_ctx_init`.
#[repr(C)]
pub struct sysctl_ctx_list {
    /// `tqh_first`.
    pub tqh_first: *mut sysctl_ctx_entry,
    /// `tqh_last`.
    pub tqh_last: *mut *mut sysctl_ctx_entry,
}

abi_structs! {
    table SYSCTL_STRUCTS, header "sys/sys/sysctl.h";
    sysctl_req = "struct sysctl_req", size 96, align 8, {
        td: 0, lock: 8, oldptr: 16, oldlen: 24, oldidx: 32, oldfunc: 40, newptr: 48,
        newlen: 56, newidx: 64, newfunc: 72, validlen: 80, flags: 88,
    };
    sysctl_ctx_entry = "struct sysctl_ctx_entry", size 24, align 8,
        { entry: 0, link_next as "link.tqe_next": 8, link_prev as "link.tqe_prev": 16 };
    sysctl_ctx_list = "struct sysctl_ctx_list", size 16, align 8, { tqh_first: 0, tqh_last: 8 };
}

kpi_functions! {
    table SYSCTL_FUNCTIONS, header "sys/sys/sysctl.h";
    /// `sysctl_ctx_init(clist)`: an empty context (always 0).
    pub fn sysctl_ctx_init(clist: *mut sysctl_ctx_list) -> c_int;
    /// `sysctl_ctx_free(clist)`: removes every oid of the context, newest first, and frees
    /// the entries. **Sleeps** until running handlers of those oids return; EBUSY (and
    /// nothing removed) when an oid cannot go, e.g. another context hung a child under it.
    pub fn sysctl_ctx_free(clist: *mut sysctl_ctx_list) -> c_int;
    /// `sysctl_wire_old_buffer(req, len)`: wires the user's old buffer (up to `len`
    /// bytes, 0: all of it) so that `SYSCTL_OUT` does not fault, and may be used with a
    /// non-sleepable lock held. May sleep.
    pub fn sysctl_wire_old_buffer(req: *mut sysctl_req, len: usize) -> c_int;
}

/// Declares, in a release folder, the sysctl(9) functions whose prototypes name `struct
/// sysctl_oid` or `struct sysctl_oid_list` (the folder's own layouts must be in scope) and
/// the handler type `sysctl_handler_t`. The folder's file imports the C types the
/// prototypes use (`c_char`, `c_int`, `c_void`, `intmax_t`, `sysctl_req`,
/// `sysctl_ctx_list`).
macro_rules! sysctl_oid_functions {
    () => {
        /// `int (*)(SYSCTL_HANDLER_ARGS)`: `(struct sysctl_oid *oidp, void *arg1, intmax_t
        /// arg2, struct sysctl_req *req)`.
        pub type sysctl_handler_t = Option<
            unsafe extern "C" fn(*mut sysctl_oid, *mut c_void, intmax_t, *mut sysctl_req) -> c_int,
        >;

        kpi_functions! {
            table SYSCTL_OID_FUNCTIONS, header "sys/sys/sysctl.h";
            /// `sysctl_add_oid(clist, parent, nbr, name, kind, arg1, arg2, handler, fmt,
            /// descr, label)`: what every `SYSCTL_ADD_*` macro expands to. NULL on failure
            /// (a sibling of that name exists with another type, or the parent is no node).
            /// `name`, `fmt`, `descr` and `label` are copied for dynamic oids. May sleep.
            pub fn sysctl_add_oid(clist: *mut sysctl_ctx_list, parent: *mut sysctl_oid_list, nbr: c_int, name: *const c_char, kind: c_int, arg1: *mut c_void, arg2: intmax_t, handler: Option<unsafe extern "C" fn(*mut sysctl_oid, *mut c_void, intmax_t, *mut sysctl_req) -> c_int>, fmt: *const c_char, descr: *const c_char, label: *const c_char) -> *mut sysctl_oid;
            /// `sysctl_remove_oid(oidp, del, recurse)`: sleeps until running handlers return.
            pub fn sysctl_remove_oid(oidp: *mut sysctl_oid, del: c_int, recurse: c_int) -> c_int;
            /// `SYSCTL_INT`/`SYSCTL_UINT` handler: `arg1` an `int *` (NULL: report `arg2`).
            pub fn sysctl_handle_int(oidp: *mut sysctl_oid, arg1: *mut c_void, arg2: intmax_t, req: *mut sysctl_req) -> c_int;
            /// `SYSCTL_LONG`/`SYSCTL_ULONG` handler.
            pub fn sysctl_handle_long(oidp: *mut sysctl_oid, arg1: *mut c_void, arg2: intmax_t, req: *mut sysctl_req) -> c_int;
            /// `SYSCTL_S64`/`SYSCTL_U64` handler.
            pub fn sysctl_handle_64(oidp: *mut sysctl_oid, arg1: *mut c_void, arg2: intmax_t, req: *mut sysctl_req) -> c_int;
            /// `SYSCTL_BOOL` handler (`bool *`, shown as `uint8_t`).
            pub fn sysctl_handle_bool(oidp: *mut sysctl_oid, arg1: *mut c_void, arg2: intmax_t, req: *mut sysctl_req) -> c_int;
            /// `SYSCTL_STRING` handler: `arg1` the buffer, `arg2` its size (0: read-only).
            pub fn sysctl_handle_string(oidp: *mut sysctl_oid, arg1: *mut c_void, arg2: intmax_t, req: *mut sysctl_req) -> c_int;
            /// `SYSCTL_OPAQUE` handler: `arg2` bytes at `arg1`.
            pub fn sysctl_handle_opaque(oidp: *mut sysctl_oid, arg1: *mut c_void, arg2: intmax_t, req: *mut sysctl_req) -> c_int;
        }
    };
}

kpi_functions! {
    table GETENV_FUNCTIONS, header "sys/sys/systm.h";
    /// `getenv_int(name, &data)` (`TUNABLE_INT_FETCH`): 1 and `*data` set when the kernel
    /// environment has `name` and it parses as an int, else 0. May sleep.
    pub fn getenv_int(name: *const core::ffi::c_char, data: *mut c_int) -> c_int;
    /// `getenv_uint(name, &data)` (`TUNABLE_UINT_FETCH`).
    pub fn getenv_uint(name: *const core::ffi::c_char, data: *mut c_uint) -> c_int;
    /// `getenv_int64(name, &data)` (`TUNABLE_INT64_FETCH`).
    pub fn getenv_int64(name: *const core::ffi::c_char, data: *mut i64) -> c_int;
    /// `getenv_uint64(name, &data)` (`TUNABLE_UINT64_FETCH`).
    pub fn getenv_uint64(name: *const core::ffi::c_char, data: *mut u64) -> c_int;
    /// `getenv_quad(name, &data)` (`TUNABLE_QUAD_FETCH`, `quad_t` = `int64_t`).
    pub fn getenv_quad(name: *const core::ffi::c_char, data: *mut i64) -> c_int;
    /// `getenv_string(name, data, size)` (`TUNABLE_STR_FETCH`): copies at most `size - 1`
    /// bytes and a NUL; 1 when found, 0 (and `data` untouched) otherwise.
    pub fn getenv_string(name: *const core::ffi::c_char, data: *mut core::ffi::c_char, size: c_int) -> c_int;
    /// `testenv(name)`: 1 when the variable exists.
    pub fn testenv(name: *const core::ffi::c_char) -> c_int;
}

/// Declares, in a release folder, the kernel's static sysctl roots (`SYSCTL_DECL(_debug)`
/// ... in `sys/sys/sysctl.h`, defined by kern_mib.c's `SYSCTL_ROOT_NODE`s) with the
/// folder's `struct sysctl_oid` and `sysctl_oid_list`.
macro_rules! sysctl_roots {
    () => {
        kpi_statics! {
            table SYSCTL_ROOTS, header "sys/sys/sysctl.h";
            /// `sysctl__children`: the top-level list (`&sysctl__children` is the parent of
            /// `SYSCTL_ADD_ROOT_NODE`).
            pub static sysctl__children: sysctl_oid_list;
            /// `kern`: high kernel, proc, limits &c.
            pub static sysctl___kern: sysctl_oid;
            /// `vm`: virtual memory.
            pub static sysctl___vm: sysctl_oid;
            /// `vfs`: file system.
            pub static sysctl___vfs: sysctl_oid;
            /// `net`: network.
            pub static sysctl___net: sysctl_oid;
            /// `debug`: debugging parameters.
            pub static sysctl___debug: sysctl_oid;
            /// `dev`: devices.
            pub static sysctl___dev: sysctl_oid;
            /// `hw`: hardware.
            pub static sysctl___hw: sysctl_oid;
            /// `machdep`: machine dependent.
            pub static sysctl___machdep: sysctl_oid;
            /// `user`: user-level.
            pub static sysctl___user: sysctl_oid;
            /// `security`: security.
            pub static sysctl___security: sysctl_oid;
        }
    };
}

//! `struct sysctl_oid` on 14.x and 15.0: 112 bytes, children in an `RB` tree. The 15.0
//! folder compiles this same file (the 15.0 header's struct is identical; the conformance
//! test checks both against their headers).
//!
//! Source: `sys/sys/sysctl.h` (14.2 headers, KBI-compatible with 14.0; 15.0 headers):
//! ```c
//! RB_HEAD(sysctl_oid_list, sysctl_oid);
//! struct sysctl_oid {
//!     struct sysctl_oid_list  oid_children;
//!     struct sysctl_oid_list* oid_parent;
//!     RB_ENTRY(sysctl_oid) oid_link;
//!     int              oid_number;
//!     ...  /* the rest as on 13.x */
//! };
//! ```
//! `RB_ENTRY` is `struct { struct type *rbe_link[3]; }` (`sys/sys/tree.h`), so every field
//! after `oid_link` moved by 16 bytes. The SLIST -> RB change landed at `__FreeBSD_version`
//! 1400071 (Sept 2022), before stable/14 branched (FACTS.md section 6). `SYSCTL_OID_RAW`
//! initialises `oid_children` with `RB_INITIALIZER` (NULL root).

// The `catalog` feature compiles every folder at once: the same C functions and roots are
// then declared with each release's `struct sysctl_oid`, as intended.
#![allow(clashing_extern_declarations)]

use crate::common::sysctl::{intmax_t, sysctl_ctx_list, sysctl_req};
use core::ffi::{c_char, c_int, c_uint, c_void};

/// `RB_HEAD(sysctl_oid_list, sysctl_oid)`.
#[repr(C)]
pub struct sysctl_oid_list {
    /// `rbh_root`.
    pub rbh_root: *mut sysctl_oid,
}

/// `struct sysctl_oid` (14.x / 15.0 layout).
#[repr(C)]
pub struct sysctl_oid {
    /// Children of a node (kernel-owned).
    pub oid_children: sysctl_oid_list,
    /// The list this oid hangs in (`&parent->oid_children`).
    pub oid_parent: *mut sysctl_oid_list,
    /// `RB_ENTRY(sysctl_oid) oid_link` (`rbe_link[3]`): kernel-owned.
    pub oid_link: [*mut sysctl_oid; 3],
    /// Number (`OID_AUTO`: assigned at registration).
    pub oid_number: c_int,
    /// `CTLTYPE_* | CTLFLAG_*`.
    pub oid_kind: c_uint,
    /// Handler argument 1.
    pub oid_arg1: *mut c_void,
    /// Handler argument 2.
    pub oid_arg2: intmax_t,
    /// Name.
    pub oid_name: *const c_char,
    /// Handler.
    pub oid_handler: sysctl_handler_t,
    /// Format string (`"I"`, `"QU"`, `"A"`, `"S,name"`, `"N"`).
    pub oid_fmt: *const c_char,
    /// Reference count (kernel-owned).
    pub oid_refcnt: c_int,
    /// Handlers running now (kernel-owned).
    pub oid_running: c_uint,
    /// Description.
    pub oid_descr: *const c_char,
    /// Label (aggregation name), usually NULL.
    pub oid_label: *const c_char,
}

abi_structs! {
    table SYSCTL_OID_STRUCTS, header "sys/sys/sysctl.h";
    sysctl_oid_list = "struct sysctl_oid_list", size 8, align 8, { rbh_root: 0 };
    sysctl_oid = "struct sysctl_oid", size 112, align 8, {
        oid_children: 0, oid_parent: 8, oid_link: 16, oid_number: 40, oid_kind: 44,
        oid_arg1: 48, oid_arg2: 56, oid_name: 64, oid_handler: 72, oid_fmt: 80,
        oid_refcnt: 88, oid_running: 92, oid_descr: 96, oid_label: 104,
    };
}

impl sysctl_oid {
    /// `SYSCTL_OID_RAW(id, parent, nbr, name, kind, a1, a2, handler, fmt, descr, label)`'s
    /// initialiser: the kernel-owned fields (children, link, counts) start empty.
    #[allow(clippy::too_many_arguments)]
    pub const fn new_static(
        parent: *mut sysctl_oid_list, nbr: c_int, name: *const c_char, kind: c_uint, arg1: *mut c_void, arg2: intmax_t,
        handler: sysctl_handler_t, fmt: *const c_char, descr: *const c_char, label: *const c_char,
    ) -> Self {
        sysctl_oid {
            oid_children: sysctl_oid_list { rbh_root: core::ptr::null_mut() },
            oid_parent: parent,
            oid_link: [core::ptr::null_mut(); 3],
            oid_number: nbr,
            oid_kind: kind,
            oid_arg1: arg1,
            oid_arg2: arg2,
            oid_name: name,
            oid_handler: handler,
            oid_fmt: fmt,
            oid_refcnt: 0,
            oid_running: 0,
            oid_descr: descr,
            oid_label: label,
        }
    }
}

sysctl_oid_functions!();
sysctl_roots!();

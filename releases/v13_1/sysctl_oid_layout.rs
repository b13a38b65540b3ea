//! `struct sysctl_oid` on 13.x: 96 bytes, children in an `SLIST`.
//!
//! Source: `sys/sys/sysctl.h` of stable/13 (read in a 13.0-RELEASE tree,
//! sobomax/freebsd14_vendor@0f7ff342; KBI-frozen for 13.1; FACTS.md section 6):
//! ```c
//! SLIST_HEAD(sysctl_oid_list, sysctl_oid);
//! struct sysctl_oid {
//!     struct sysctl_oid_list oid_children;
//!     struct sysctl_oid_list *oid_parent;
//!     SLIST_ENTRY(sysctl_oid) oid_link;
//!     int              oid_number;
//!     u_int            oid_kind;
//!     void            *oid_arg1;
//!     intmax_t         oid_arg2;
//!     const char      *oid_name;
//!     int             (*oid_handler)(SYSCTL_HANDLER_ARGS);
//!     const char      *oid_fmt;
//!     int              oid_refcnt;
//!     u_int            oid_running;
//!     const char      *oid_descr;
//!     const char      *oid_label;
//! };
//! ```
//! `SYSCTL_OID_RAW` initialises `oid_children` with `SLIST_HEAD_INITIALIZER` (NULL) and
//! leaves `oid_link`, `oid_refcnt`, `oid_running` zero; the kernel writes them when it
//! registers the oid. The children list became an RB tree at 1400071 (14.0).

// The `catalog` feature compiles every folder at once: the same C functions and roots are
// then declared with each release's `struct sysctl_oid`, as intended.
#![allow(clashing_extern_declarations)]

use crate::common::sysctl::{intmax_t, sysctl_ctx_list, sysctl_req};
use core::ffi::{c_char, c_int, c_uint, c_void};

/// `SLIST_HEAD(sysctl_oid_list, sysctl_oid)`.
#[repr(C)]
pub struct sysctl_oid_list {
    /// `slh_first`.
    pub slh_first: *mut sysctl_oid,
}

/// `struct sysctl_oid` (13.x layout).
#[repr(C)]
pub struct sysctl_oid {
    /// Children of a node (kernel-owned).
    pub oid_children: sysctl_oid_list,
    /// The list this oid hangs in (`&parent->oid_children`).
    pub oid_parent: *mut sysctl_oid_list,
    /// `SLIST_ENTRY(sysctl_oid) oid_link`: kernel-owned.
    pub oid_link: *mut sysctl_oid,
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
    sysctl_oid_list = "struct sysctl_oid_list", size 8, align 8, { slh_first: 0 };
    sysctl_oid = "struct sysctl_oid", size 96, align 8, {
        oid_children: 0, oid_parent: 8, oid_link: 16, oid_number: 24, oid_kind: 28,
        oid_arg1: 32, oid_arg2: 40, oid_name: 48, oid_handler: 56, oid_fmt: 64,
        oid_refcnt: 72, oid_running: 76, oid_descr: 80, oid_label: 88,
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
            oid_children: sysctl_oid_list { slh_first: core::ptr::null_mut() },
            oid_parent: parent,
            oid_link: core::ptr::null_mut(),
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

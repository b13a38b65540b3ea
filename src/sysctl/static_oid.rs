//! Static sysctls: C's `SYSCTL_INT(_debug, OID_AUTO, name, CTLFLAG_RW, &var, 0, descr)`.
//!
//! [`sysctl_static!`](crate::sysctl_static) declares a `'static` atomic and a `struct
//! sysctl_oid` (the selected release's layout: 96 bytes on 13.1, 112 on 14.0/15.0) pointing
//! at it, with a pointer to the oid in the `set_sysctl_set` linker set. When the module
//! loads, the kernel linker registers every oid of the set (`linker_file_register_sysctls`,
//! kern_linker.c) and writes its kernel-owned fields (children, link, number, refcount), so
//! the oid lives in writable memory; it unregisters them when the module unloads. The
//! kernel's own handlers (`sysctl_handle_int`, `_64`, `_bool`) read and write the atomic.

use super::handler::RawHandler;
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_void};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64};
use freebsd_kpi::common::sysctl as raw;
use freebsd_kpi::selected::{sysctl_oid, sysctl_oid_list};

mod sealed {
    pub trait Sealed {}
}

/// An atomic a static sysctl may publish: the C type the kernel handler expects has the
/// same size and alignment (`int`, `unsigned int`, `int64_t`, `uint64_t`, `bool`).
pub trait StaticScalar: Sync + 'static + sealed::Sealed {
    /// `CTLTYPE_*`.
    const CTLTYPE: u32;
    /// The format string.
    const FMT: &'static CStr;
    /// The kernel handler (`sysctl_handle_int`, `_64` or `_bool`).
    #[doc(hidden)]
    const HANDLER: RawHandler;
}

macro_rules! static_scalar {
    ($($t:ty => $ctltype:ident, $fmt:literal, $handler:ident;)*) => {$(
        impl sealed::Sealed for $t {}
        impl StaticScalar for $t {
            const CTLTYPE: u32 = raw::$ctltype;
            const FMT: &'static CStr = $fmt;
            const HANDLER: RawHandler = Some(freebsd_kpi::selected::$handler);
        }
    )*};
}

static_scalar! {
    AtomicI32 => CTLTYPE_INT, c"I", sysctl_handle_int;
    AtomicU32 => CTLTYPE_UINT, c"IU", sysctl_handle_int;
    AtomicI64 => CTLTYPE_S64, c"Q", sysctl_handle_64;
    AtomicU64 => CTLTYPE_U64, c"QU", sysctl_handle_64;
    AtomicBool => CTLTYPE_U8, c"CU", sysctl_handle_bool;
}

/// A static `struct sysctl_oid` of the selected release, in writable memory.
///
/// # Invariants
///
/// Its `oid_arg1` points at a `'static` [`StaticScalar`] of the type its handler expects;
/// after construction only the kernel writes the oid (its kernel-owned fields, under the
/// sysctl lock); Rust code never reads it.
#[repr(transparent)]
pub struct StaticOid(UnsafeCell<sysctl_oid>);

// SAFETY: Rust never accesses the inner oid after construction (# Invariants); the kernel
// serialises its own accesses.
unsafe impl Sync for StaticOid {}

impl StaticOid {
    /// The oid of `value` under the kernel root `parent` (`&sysctl___<root>`), named
    /// `name`, with `flags` (`CTLFLAG_RD`/`RW`/`ANYBODY`/`SECURE`/...; the type and
    /// `CTLFLAG_MPSAFE` are added). Fails to compile for flags with type or kernel-owned
    /// bits. Use [`sysctl_static!`](crate::sysctl_static).
    pub const fn new<A: StaticScalar>(parent: *const sysctl_oid, name: &'static CStr, flags: super::Flags, value: &'static A, descr: &'static CStr) -> Self {
        let Ok(bits) = flags.validate() else { panic!("sysctl_static!: flags must not contain a type or kernel-owned bits") };
        // INVARIANT: arg1 is the 'static atomic, the handler the one for its type.
        StaticOid(UnsafeCell::new(sysctl_oid::new_static(
            // SYSCTL_CHILDREN(&sysctl__<parent>): oid_children is at offset 0.
            parent.cast_mut().cast::<sysctl_oid_list>(),
            raw::OID_AUTO,
            name.as_ptr(),
            A::CTLTYPE | raw::CTLFLAG_MPSAFE | bits,
            (value as *const A).cast_mut().cast::<c_void>(),
            0,
            A::HANDLER,
            A::FMT.as_ptr(),
            descr.as_ptr(),
            core::ptr::null(),
        )))
    }

    /// The raw oid (for tests and tools).
    pub const fn as_ptr(&self) -> *mut sysctl_oid {
        self.0.get()
    }
}

/// Declares a static sysctl over a `'static` atomic: C's `SYSCTL_INT` / `SYSCTL_UINT` /
/// `SYSCTL_S64` / `SYSCTL_U64` / `SYSCTL_BOOL` under a kernel root.
///
/// The atomic is an ordinary static the module reads and writes with atomic operations;
/// the kernel's handler reads and writes it as the C type of the same size. It is
/// registered when the module loads and removed when it unloads.
///
/// ```no_run
/// use core::sync::atomic::{AtomicI32, Ordering};
/// use freebsd_kmi::sysctl::Flags;
///
/// freebsd_kmi::sysctl_static! {
///     /// debug.mydrv_debug: verbosity.
///     static MYDRV_DEBUG: AtomicI32 = AtomicI32::new(0);
///     parent: debug, name: c"mydrv_debug", flags: Flags::RW, descr: c"verbosity";
/// }
/// fn verbose() -> bool { MYDRV_DEBUG.load(Ordering::Relaxed) > 0 }
/// ```
///
/// `parent` is one of `kern`, `vm`, `vfs`, `net`, `debug`, `dev`, `hw`, `machdep`, `user`,
/// `security`.
#[macro_export]
macro_rules! sysctl_static {
    (
        $(#[$meta:meta])*
        $vis:vis static $name:ident : $ty:ty = $init:expr;
        parent: $root:ident, name: $oid:expr, flags: $flags:expr, descr: $descr:expr $(;)?
    ) => {
        $(#[$meta])*
        $vis static $name: $ty = $init;
        const _: () = {
            static OID: $crate::sysctl::StaticOid =
                $crate::sysctl::StaticOid::new::<$ty>($crate::__sysctl_root!($root), $oid, $flags, &$name, $descr);
            #[used]
            #[unsafe(link_section = "set_sysctl_set")]
            static ENTRY: $crate::linker_set::SetEntry<$crate::sysctl::StaticOid> = $crate::linker_set::SetEntry::new(&OID);
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __sysctl_root {
    (kern) => { &raw const $crate::__kpi::selected::sysctl___kern };
    (vm) => { &raw const $crate::__kpi::selected::sysctl___vm };
    (vfs) => { &raw const $crate::__kpi::selected::sysctl___vfs };
    (net) => { &raw const $crate::__kpi::selected::sysctl___net };
    (debug) => { &raw const $crate::__kpi::selected::sysctl___debug };
    (dev) => { &raw const $crate::__kpi::selected::sysctl___dev };
    (hw) => { &raw const $crate::__kpi::selected::sysctl___hw };
    (machdep) => { &raw const $crate::__kpi::selected::sysctl___machdep };
    (user) => { &raw const $crate::__kpi::selected::sysctl___user };
    (security) => { &raw const $crate::__kpi::selected::sysctl___security };
}

//! Linker sets and SYSINIT/SYSUNINIT, as FreeBSD's `sys/sys/linker_set.h` and
//! `sys/sys/kernel.h` build them.
//!
//! A linker set is a section named `set_<name>` holding one pointer per entry; the kernel
//! linker finds it by name (`link_elf_lookup_set`). `SYSINIT` puts a `struct sysinit` in
//! `set_sysinit_set` with `DATA_WSET`: the section is writable because 13.x sorts the
//! pointers in place and 14.x links the sysinits through their `next` field. Module
//! metadata goes in the read-only `set_modmetadata_set` (`DATA_SET`).
//!
//! The entries are `#[used]` statics in those sections; `cargo kmod build` keeps them as
//! the roots of its section garbage collection.

use crate::kernel::{sysinit, sysinit_elem_order, sysinit_sub_id};
use core::cell::UnsafeCell;
use core::ffi::c_void;

/// A read-only linker set entry (`DATA_SET`): a pointer to a static object.
#[repr(transparent)]
pub struct SetEntry<T: 'static>(*const T);

// SAFETY: the entry is an immutable pointer to a `'static` object that is itself shared
// (the kernel only reads it through the set).
unsafe impl<T: Sync> Sync for SetEntry<T> {}

impl<T: Sync> SetEntry<T> {
    /// An entry pointing at `target`.
    pub const fn new(target: &'static T) -> Self {
        SetEntry(target)
    }

    /// The object the entry points at.
    pub const fn target(&self) -> *const T {
        self.0
    }
}

/// A writable linker set entry (`DATA_WSET`), as `set_sysinit_set` needs.
#[repr(transparent)]
pub struct WritableSetEntry<T: 'static>(UnsafeCell<*const T>);

// SAFETY: only the kernel linker writes the entry (it sorts the set before any module
// code runs); Rust code never does.
unsafe impl<T: Sync> Sync for WritableSetEntry<T> {}

impl<T: Sync> WritableSetEntry<T> {
    /// An entry pointing at `target`.
    pub const fn new(target: &'static T) -> Self {
        WritableSetEntry(UnsafeCell::new(target))
    }

    /// The object the entry points at.
    pub fn target(&self) -> *const T {
        // SAFETY: the kernel only reorders entries before module code runs; reading the
        // pointer value here races with nothing.
        unsafe { *self.0.get() }
    }
}

/// A `struct sysinit` of the selected release (24 bytes on 13.1, 32 on 14.0 and 15.0), in
/// writable memory because the 14.x/15.x kernels link it through `next`.
#[repr(transparent)]
pub struct SysInit(UnsafeCell<sysinit>);

// SAFETY: the kernel writes the `next` link while it holds the linker lock; Rust code only
// reads `func`/`udata`, which nothing writes.
unsafe impl Sync for SysInit {}

/// The function type of a SYSINIT: `void (*)(const void *)`.
pub type SysInitFn = unsafe extern "C" fn(*const c_void);

impl SysInit {
    /// `SYSINIT(uniquifier, subsystem, order, func, udata)`'s initialiser.
    pub const fn new(subsystem: sysinit_sub_id, order: sysinit_elem_order, func: SysInitFn, udata: *const c_void) -> Self {
        SysInit(UnsafeCell::new(sysinit::new(subsystem, order, Some(func), udata)))
    }

    /// The raw `struct sysinit`.
    pub const fn as_ptr(&self) -> *mut sysinit {
        self.0.get()
    }
}

/// Registers `func(udata)` to run when the module loads, ordered by
/// `(subsystem, order)`: FreeBSD's `SYSINIT`.
///
/// `func` is an `unsafe extern "C" fn(*const c_void)`; `udata` a reference to a static.
///
/// ```
/// use core::ffi::c_void;
/// use freebsd_kmi::kernel::{SI_SUB_DRIVERS, SI_ORDER_FIRST};
/// static COUNTER: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
/// unsafe extern "C" fn bump(arg: *const c_void) {
///     // SAFETY: the udata below is &COUNTER.
///     let counter = unsafe { &*(arg as *const core::sync::atomic::AtomicU32) };
///     counter.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
/// }
/// freebsd_kmi::sysinit!(SI_SUB_DRIVERS, SI_ORDER_FIRST, bump, &COUNTER);
/// ```
#[macro_export]
macro_rules! sysinit {
    ($subsystem:expr, $order:expr, $func:expr, $udata:expr $(,)?) => {
        $crate::__linker_set_sysinit!("set_sysinit_set", $subsystem, $order, $func, $udata);
    };
}

/// Registers `func(udata)` to run when the module unloads, in reverse
/// `(subsystem, order)`: FreeBSD's `SYSUNINIT`.
#[macro_export]
macro_rules! sysuninit {
    ($subsystem:expr, $order:expr, $func:expr, $udata:expr $(,)?) => {
        $crate::__linker_set_sysinit!("set_sysuninit_set", $subsystem, $order, $func, $udata);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __linker_set_sysinit {
    ($set:literal, $subsystem:expr, $order:expr, $func:expr, $udata:expr) => {
        const _: () = {
            static SYSINIT: $crate::linker_set::SysInit = $crate::linker_set::SysInit::new(
                $subsystem,
                $order,
                $func,
                $udata as *const _ as *const ::core::ffi::c_void,
            );
            #[used]
            #[unsafe(link_section = $set)]
            static ENTRY: $crate::linker_set::WritableSetEntry<$crate::linker_set::SysInit> =
                $crate::linker_set::WritableSetEntry::new(&SYSINIT);
        };
    };
}

/// What a SYSINIT function does in a host build, where the kernel functions it would call
/// do not exist: nothing walks the linker sets there, so reaching it is a bug.
#[cfg(not(kernel))]
pub(crate) fn host_sysinit(function: &str) -> ! {
    panic!("{function} is a kernel function: SYSINITs run only in a FreeBSD kernel (or the project's simulator)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::M_RUST;
    use crate::kernel::{SI_ORDER_ANY, SI_ORDER_THIRD, SI_SUB_KMEM};
    use crate::malloc::MallocType;

    unsafe extern "C" {
        // Defined by the host linker for sections whose names are C identifiers, as the
        // FreeBSD kernel linker defines them for a module.
        static __start_set_sysinit_set: WritableSetEntry<SysInit>;
        static __stop_set_sysinit_set: WritableSetEntry<SysInit>;
        static __start_set_sysuninit_set: WritableSetEntry<SysInit>;
        static __stop_set_sysuninit_set: WritableSetEntry<SysInit>;
    }

    fn entries(start: *const WritableSetEntry<SysInit>, stop: *const WritableSetEntry<SysInit>) -> Vec<&'static sysinit> {
        let n = (stop as usize - start as usize) / size_of::<WritableSetEntry<SysInit>>();
        (0..n)
            // SAFETY: the set holds n entries, each pointing at a static SysInit.
            .map(|i| unsafe { &*(*start.add(i)).target().cast::<sysinit>() })
            .collect()
    }

    #[test]
    fn malloc_define_registers_init_and_uninit_like_the_c_macro() {
        // Only the addresses of the linker-defined symbols are taken (no unsafe needed).
        let init = entries(&raw const __start_set_sysinit_set, &raw const __stop_set_sysinit_set);
        let uninit = entries(&raw const __start_set_sysuninit_set, &raw const __stop_set_sysuninit_set);
        let udata = &M_RUST as *const MallocType as *const c_void;
        let i = init.iter().find(|s| s.udata == udata).expect("SYSINIT for M_RUST");
        assert_eq!((i.subsystem, i.order), (SI_SUB_KMEM, SI_ORDER_THIRD));
        assert_eq!(i.func.map(|f| f as usize), Some(MallocType::INIT as usize));
        let u = uninit.iter().find(|s| s.udata == udata).expect("SYSUNINIT for M_RUST");
        assert_eq!((u.subsystem, u.order), (SI_SUB_KMEM, SI_ORDER_ANY));
        assert_eq!(u.func.map(|f| f as usize), Some(MallocType::UNINIT as usize));
        assert_eq!(size_of::<sysinit>(), crate::release::SYSINIT_SIZE);
    }
}

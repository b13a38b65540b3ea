//! malloc(9) types and flags.
//!
//! A [`MallocType`] is what C's `MALLOC_DEFINE` declares: a named accounting bucket that
//! `vmstat -m` lists and whose leaks the kernel reports when the module unloads. Declare
//! one with [`malloc_define!`](crate::malloc_define), which also registers it through
//! SYSINIT/SYSUNINIT exactly as the C macro does.
//!
//! ```
//! freebsd_kmi::malloc_define!(pub M_EXAMPLE, "example", "Buffers of the example module");
//! assert_eq!(M_EXAMPLE.name().to_str(), Ok("example"));
//! ```

use crate::errno::{EINVAL, Errno};
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_int, c_void};
use core::ops::BitOr;
use core::sync::atomic::{AtomicBool, Ordering};
use freebsd_kpi::selected as kpi;

/// malloc(9) flags for one allocation.
///
/// Exactly one of [`Flags::WAITOK`] (may sleep, never fails) and [`Flags::NOWAIT`] (never
/// sleeps, may fail) must be present; [`Flags::USE_RESERVE`] only goes with `NOWAIT`.
///
/// # Where malloc(9) may be called
///
/// - `WAITOK`: only where the thread may sleep (module load/unload, ioctl and other
///   syscall paths, taskqueue and kernel threads), with no non-sleepable lock held.
/// - `NOWAIT`: also with a default (sleep) mutex or rwlock held, in an interrupt thread
///   (ithread) handler, or in a callout handler (callouts do not run in a critical
///   section).
/// - **Never**, not even with `NOWAIT`, in an interrupt filter, inside a critical section
///   (`critical_enter()`) or with a spin mutex held (`mtx_lock_spin()`, whose
///   `spinlock_enter()` enters a critical section). malloc(9), realloc(9) and free(9)
///   assert this on INVARIANTS kernels: `KASSERT(curthread->td_critnest == 0 ||
///   SCHEDULER_STOPPED(), ("malloc: called with spinlock or critical section held"))` in
///   `malloc_dbg()`, the same for `free:` in `free_dbg()` and `realloc:` in `realloc()`
///   (sys/kern/kern_malloc.c); filters run between `critical_enter()` and
///   `critical_exit()` in `intr_event_handle()` (sys/kern/kern_intr.c). Allocate before
///   entering such a context, or hand the work to an ithread or taskqueue.
///
/// ```
/// use freebsd_kmi::malloc::Flags;
/// let f = Flags::NOWAIT | Flags::ZERO;
/// assert!(f.validate().is_ok());
/// assert!((Flags::WAITOK | Flags::NOWAIT).validate().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Flags(c_int);

impl Flags {
    /// `M_WAITOK`: may sleep until memory is available; never returns NULL.
    pub const WAITOK: Flags = Flags(kpi::M_WAITOK);
    /// `M_NOWAIT`: never sleeps; the allocation may fail.
    pub const NOWAIT: Flags = Flags(kpi::M_NOWAIT);
    /// `M_ZERO`: zero the memory.
    pub const ZERO: Flags = Flags(kpi::M_ZERO);
    /// `M_USE_RESERVE`: with `NOWAIT`, may dip into the reserved pages.
    pub const USE_RESERVE: Flags = Flags(kpi::M_USE_RESERVE);
    /// `M_NODUMP`: leave the memory out of kernel dumps.
    pub const NODUMP: Flags = Flags(kpi::M_NODUMP);

    const KNOWN: c_int = kpi::M_WAITOK | kpi::M_NOWAIT | kpi::M_ZERO | kpi::M_USE_RESERVE | kpi::M_NODUMP;

    /// The raw malloc(9) flag bits.
    pub const fn bits(self) -> c_int {
        self.0
    }

    /// Both sets of flags (`const` form of `|`).
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Checks the malloc(9) rules: exactly one of `WAITOK`/`NOWAIT`, `USE_RESERVE` only
    /// with `NOWAIT`. Returns `EINVAL` otherwise.
    pub const fn validate(self) -> Result<Flags, Errno> {
        let waitok = self.contains(Flags::WAITOK);
        let nowait = self.contains(Flags::NOWAIT);
        if waitok == nowait
            || (self.contains(Flags::USE_RESERVE) && !nowait)
            || self.0 & !Flags::KNOWN != 0
        {
            Err(EINVAL)
        } else {
            Ok(self)
        }
    }

    /// Whether an allocation with these flags may sleep.
    pub const fn may_sleep(self) -> bool {
        self.contains(Flags::WAITOK)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

/// A malloc(9) type (`struct malloc_type`), declared with
/// [`malloc_define!`](crate::malloc_define).
///
/// The kernel owns most of the structure once `malloc_init` registered it, so it lives in
/// writable memory and Rust only hands out its address.
///
/// # Invariants
/// Allocation through a type is refused (null from the global allocator, `ENOMEM` from
/// [`KBox`](crate::heap::KBox)/[`KVec`](crate::heap::KVec)) unless
/// [`is_registered`](MallocType::is_registered): the flag is set only after
/// `malloc_init` returned (which set `ks_mti.mti_stats`) and cleared before
/// `malloc_uninit` runs (which frees `mti_stats` without clearing it, kern_malloc.c), so
/// malloc(9) never sees an unregistered type. A SYSINIT ordered before `SI_SUB_KMEM`, or a
/// SYSUNINIT running after the type's, gets failed allocations, never a kernel crash.
#[repr(C)]
pub struct MallocType {
    // First field: the address of the MallocType is the `struct malloc_type *`.
    raw: UnsafeCell<kpi::malloc_type>,
    registered: AtomicBool,
}

// SAFETY: after registration the kernel synchronises every access to the structure
// (malloc_mtx for the list link, per-CPU statistics otherwise); Rust code never writes it.
// `registered` is atomic.
unsafe impl Sync for MallocType {}

impl MallocType {
    /// A type named `shortdesc`, carrying the selected release's `M_VERSION`, not yet
    /// registered: allocations through it are refused until its `malloc_init` SYSINIT ran.
    /// Declare types with [`malloc_define!`](crate::malloc_define), which is safe and does
    /// the registration.
    ///
    /// # Safety
    /// The value must be placed in a `static` whose address is registered exactly as
    /// `malloc_define!` does: [`MallocType::INIT`] as a SYSINIT and [`MallocType::UNINIT`]
    /// as the matching SYSUNINIT, each with that static's address, once per load. Nothing
    /// else may call `malloc_init`/`malloc_uninit` on it or write to it.
    pub const unsafe fn new(shortdesc: &'static CStr) -> Self {
        // SAFETY: forwarded contract.
        unsafe { Self::from_name_ptr(shortdesc.as_ptr()) }
    }

    /// Like [`MallocType::new`] with a raw name pointer (the crate's own type, whose name
    /// the `module!` macro provides as a linker symbol).
    ///
    /// # Safety
    /// As [`MallocType::new`]; `shortdesc` points at a NUL-terminated string that lives
    /// as long as the module.
    #[doc(hidden)]
    pub const unsafe fn from_name_ptr(shortdesc: *const core::ffi::c_char) -> Self {
        MallocType {
            raw: UnsafeCell::new(kpi::malloc_type::new(shortdesc, kpi::M_VERSION)),
            registered: AtomicBool::new(false),
        }
    }

    /// The raw `struct malloc_type *` for kernel functions.
    pub const fn as_ptr(&self) -> *mut kpi::malloc_type {
        self.raw.get()
    }

    /// The name `vmstat -m` shows.
    pub fn name(&self) -> &'static CStr {
        // SAFETY: `ks_shortdesc` was set from a `'static` NUL-terminated string in `new` and
        // nothing writes it afterwards (the kernel only writes ks_next and ks_mti).
        unsafe { CStr::from_ptr((*self.raw.get()).ks_shortdesc) }
    }

    /// Whether the type is registered with malloc(9): its `malloc_init` SYSINIT returned
    /// (so the kernel set `ks_mti.mti_stats`) and its `malloc_uninit` SYSUNINIT has not
    /// started. The allocation APIs check it (one atomic load and one pointer load).
    #[inline]
    pub fn is_registered(&self) -> bool {
        // SAFETY: `mti_stats` is written by malloc_init only, which happened before the
        // Release store that the Acquire load below observes; reading a pointer value.
        self.registered.load(Ordering::Acquire) && unsafe { !(*self.raw.get()).ks_mti.mti_stats.is_null() }
    }

    /// Marks the type registered, as the `malloc_init` SYSINIT does (host unit tests of
    /// the crate, whose mock kernel has no SYSINITs).
    #[cfg(test)]
    pub(crate) fn register_for_test(&self) {
        // SAFETY: unit tests only; the mock kernel never dereferences mti_stats.
        unsafe { (*self.raw.get()).ks_mti.mti_stats = core::ptr::NonNull::dangling().as_ptr() };
        self.registered.store(true, Ordering::Release);
    }

    /// The SYSINIT function `MALLOC_DEFINE` registers: `malloc_init(type)`.
    #[doc(hidden)]
    pub const INIT: crate::linker_set::SysInitFn = malloc_init_trampoline;
    /// The SYSUNINIT function `MALLOC_DEFINE` registers: `malloc_uninit(type)`.
    #[doc(hidden)]
    pub const UNINIT: crate::linker_set::SysInitFn = malloc_uninit_trampoline;
}

// `void malloc_init(void *)` has the same ABI as `sysinit_cfunc_t`; C casts it in
// MALLOC_DEFINE. These wrappers make the cast explicit and keep the crate-side
// registration flag: kern_malloc.c (freebsd-src main, malloc_init/malloc_uninit) sets
// `mtp->ks_mti.mti_stats = uma_zalloc_pcpu(...)` in malloc_init, but malloc_uninit only
// unlinks the type and `uma_zfree_pcpu`s mti_stats without clearing the pointer, so the
// kernel's own field cannot tell "unregistered again" from "registered".
#[cfg(kernel)]
unsafe extern "C" fn malloc_init_trampoline(ty: *const c_void) {
    // SAFETY: registered by malloc_define! with the address of its MallocType static, whose
    // first field is the struct malloc_type.
    let ty = unsafe { &*(ty as *const MallocType) };
    // SAFETY: as above; malloc_init runs once per load (the SYSINIT's contract).
    unsafe { kpi::malloc_init(ty.as_ptr() as *mut c_void) };
    ty.registered.store(true, Ordering::Release);
}

#[cfg(kernel)]
unsafe extern "C" fn malloc_uninit_trampoline(ty: *const c_void) {
    // SAFETY: registered by malloc_define! with the address of its MallocType static.
    let ty = unsafe { &*(ty as *const MallocType) };
    // Refuse new allocations before the kernel frees the type's statistics.
    ty.registered.store(false, Ordering::Release);
    // SAFETY: the address of the type, after the matching malloc_init.
    unsafe { kpi::malloc_uninit(ty.as_ptr() as *mut c_void) }
}

// Host builds (tests, `cargo check`) keep the linker-set entries, which must point at
// something that links; only a kernel runs SYSINITs.
#[cfg(not(kernel))]
unsafe extern "C" fn malloc_init_trampoline(_ty: *const c_void) {
    crate::linker_set::host_sysinit("malloc_init")
}

#[cfg(not(kernel))]
unsafe extern "C" fn malloc_uninit_trampoline(_ty: *const c_void) {
    crate::linker_set::host_sysinit("malloc_uninit")
}

/// Declares a malloc(9) type, like C's `MALLOC_DEFINE(type, shortdesc, longdesc)`:
/// a static [`MallocType`] plus the SYSINIT (`SI_SUB_KMEM, SI_ORDER_THIRD`,
/// `malloc_init`) and SYSUNINIT (`SI_SUB_KMEM, SI_ORDER_ANY`, `malloc_uninit`) that
/// register it when the module loads and unregister it (reporting leaks) at unload.
///
/// ```
/// freebsd_kmi::malloc_define!(pub M_MYDEV, "mydev", "mydev softc and buffers");
/// ```
#[macro_export]
macro_rules! malloc_define {
    ($(#[$meta:meta])* $vis:vis $name:ident, $shortdesc:literal, $longdesc:literal $(,)?) => {
        $(#[$meta])*
        #[doc = $longdesc]
        $vis static $name: $crate::malloc::MallocType =
            // SAFETY: the static is registered right below with MallocType::INIT and
            // MallocType::UNINIT, as MallocType::new requires.
            unsafe { $crate::malloc::MallocType::new($crate::__cstr!($shortdesc)) };
        $crate::sysinit!(
            $crate::kernel::SI_SUB_KMEM,
            $crate::kernel::SI_ORDER_THIRD,
            $crate::malloc::MallocType::INIT,
            &$name
        );
        $crate::sysuninit!(
            $crate::kernel::SI_SUB_KMEM,
            $crate::kernel::SI_ORDER_ANY,
            $crate::malloc::MallocType::UNINIT,
            &$name
        );
    };
    ($($other:tt)*) => {
        ::core::compile_error!(
            "usage: malloc_define!(NAME, \"shortdesc\", \"long description\"), as C's MALLOC_DEFINE(type, shortdesc, longdesc)"
        );
    };
}

/// A `&'static CStr` from a string literal, checked at compile time.
#[doc(hidden)]
#[macro_export]
macro_rules! __cstr {
    ($s:literal) => {
        match ::core::ffi::CStr::from_bytes_with_nul(::core::concat!($s, "\0").as_bytes()) {
            Ok(s) => s,
            Err(_) => ::core::panic!(::core::concat!("string contains a NUL byte: ", $s)),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_are_the_kernels() {
        // sys/sys/malloc.h
        assert_eq!(Flags::NOWAIT.bits(), 0x1);
        assert_eq!(Flags::WAITOK.bits(), 0x2);
        assert_eq!(Flags::ZERO.bits(), 0x100);
        assert_eq!(Flags::USE_RESERVE.bits(), 0x400);
        assert_eq!(Flags::NODUMP.bits(), 0x800);
    }

    #[test]
    fn validation_rules() {
        assert!(Flags::WAITOK.validate().is_ok());
        assert!(Flags::NOWAIT.validate().is_ok());
        assert!((Flags::NOWAIT | Flags::USE_RESERVE | Flags::ZERO).validate().is_ok());
        assert_eq!((Flags::WAITOK | Flags::NOWAIT).validate(), Err(EINVAL));
        assert_eq!(Flags::ZERO.validate(), Err(EINVAL));
        assert_eq!((Flags::WAITOK | Flags::USE_RESERVE).validate(), Err(EINVAL));
        assert_eq!(Flags(0x4000 | 0x2).validate(), Err(EINVAL), "M_EXEC is not offered");
        assert!(Flags::WAITOK.may_sleep() && !Flags::NOWAIT.may_sleep());
    }

    crate::malloc_define!(M_TESTTYPE, "testtype", "unit test type");

    #[test]
    fn malloc_define_builds_the_c_initialiser() {
        assert_eq!(M_TESTTYPE.name().to_str(), Ok("testtype"));
        // SAFETY: read-only look at a static nobody writes on the host.
        let raw = unsafe { &*M_TESTTYPE.as_ptr() };
        assert!(raw.ks_next.is_null());
        assert_eq!(raw.ks_version, freebsd_kpi::selected::M_VERSION);
        assert!(raw.ks_mti.mti_stats.is_null() && raw.ks_mti.mti_spare == [0; 8]);
    }
}

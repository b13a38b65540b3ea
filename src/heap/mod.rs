//! Kernel heap: the global allocator over malloc(9) and fallible containers with per-call
//! flags.
//!
//! - [`KernelAllocator`] implements `GlobalAlloc` over malloc(9)/realloc(9)/free(9) with
//!   a [`MallocType`] and [`Flags`]. Unless the feature `GLOBAL_ALLOC_DISABLED` is on,
//!   the crate installs one over [`M_RUST`] with the flag the `GLOBAL_ALLOC_FLAG_*`
//!   features choose, so `alloc::boxed::Box` and `alloc::vec::Vec` work. With
//!   `GLOBAL_ALLOC_DISABLED`, declare your own with
//!   [`global_allocator!`](crate::global_allocator).
//! - [`KBox`] and [`KVec`] allocate with flags chosen per call and report failure as
//!   `Err(ENOMEM)`: use them with [`Flags::NOWAIT`] where sleeping is forbidden but
//!   malloc(9) is allowed (a sleep mutex held, ithread and callout handlers). No
//!   allocation or free, whatever the flags, in an interrupt filter, a critical section or
//!   with a spin mutex held (see [`Flags`](crate::malloc::Flags#where-malloc9-may-be-called)).
//!
//! Every `Layout` is honoured: alignments up to [`MALLOC_ALIGN`] use malloc(9); larger
//! ones, up to [`PAGE_SIZE`], use the kernel's aligned allocator
//! (`malloc_domainset_aligned`, present on every supported release); larger still fail.
//!
//! # The size bound
//!
//! A request larger than the kmem arena (`vm_kmem_size`, which `kmeminit()` in
//! sys/kern/kern_malloc.c sizes at boot from the physical memory: on amd64
//! `min(physmem, 3/5 of the kernel address space)`, never more than twice physmem) or than
//! `isize::MAX` can never be satisfied. Such a size is refused before malloc(9) is
//! called, whatever the flags: `KBox`/`KVec` return `Err(ENOMEM)`, the global allocator
//! returns null (so `Vec::try_reserve` returns `Err`, and an infallible `Vec::with_capacity`
//! reaches the alloc-error handler, which panics naming the size). Without this, `M_WAITOK`
//! would sleep forever, or panic an INVARIANTS kernel with `malloc(M_WAITOK) returned NULL`.
//! Sizes below the bound that are not free right now still sleep with `M_WAITOK` and fail
//! with `M_NOWAIT`, as malloc(9) does. Lengths that come from users should still be capped
//! by the driver at what it really needs.

mod boxed;
mod global;
mod raw;
mod vec;

pub use boxed::KBox;
pub use global::{GLOBAL_ALLOC_FLAGS, KernelAllocator};
pub use raw::{MALLOC_ALIGN, PAGE_SIZE};
pub use vec::KVec;

use crate::malloc::{Flags, MallocType};

/// The crate's own malloc type: the built-in global allocator and the default of
/// [`KBox::try_new`] / [`KVec::new`] allocate from it. In a module it is named after the
/// module (the `name` of [`module!`](crate::module!)), so `vmstat -m` and the leak report of
/// `malloc_uninit` tell two loaded Rust modules apart; host builds (tests) call it `rust`.
/// Registered by its SYSINIT (`SI_SUB_KMEM`, `SI_ORDER_THIRD`) like a `MALLOC_DEFINE` type.
// SAFETY: registered right below with MallocType::INIT / MallocType::UNINIT, as
// MallocType::new requires; the name lives as long as the module (a static of it).
pub static M_RUST: MallocType = unsafe { MallocType::from_name_ptr(module_name()) };
crate::sysinit!(crate::kernel::SI_SUB_KMEM, crate::kernel::SI_ORDER_THIRD, MallocType::INIT, &M_RUST);
crate::sysuninit!(crate::kernel::SI_SUB_KMEM, crate::kernel::SI_ORDER_ANY, MallocType::UNINIT, &M_RUST);

/// The name of [`M_RUST`]: on the kernel target the NUL-terminated module name that
/// `module!` defines as `__freebsd_kmi_module_name` (a module without `module!` fails to
/// link naming that symbol; `cargo kmod build` localises it like every other symbol).
#[cfg(kernel)]
const fn module_name() -> *const core::ffi::c_char {
    unsafe extern "C" {
        static __freebsd_kmi_module_name: core::ffi::c_char;
    }
    &raw const __freebsd_kmi_module_name
}

#[cfg(not(kernel))]
const fn module_name() -> *const core::ffi::c_char {
    c"rust".as_ptr()
}

#[doc(hidden)]
pub const fn __assert_global_alloc_flags(flags: Flags) -> Flags {
    match flags.validate() {
        Ok(f) => f,
        Err(_) => panic!(
            "global_allocator!: invalid malloc(9) flags: use exactly one of Flags::WAITOK or Flags::NOWAIT \
             (Flags::USE_RESERVE only with Flags::NOWAIT)"
        ),
    }
}

#[doc(hidden)]
pub const fn __assert_global_alloc_disabled() {
    if GLOBAL_ALLOC_FLAGS.is_some() {
        panic!(
            "global_allocator!: freebsd-kmi-rs already provides the global allocator. Enable its feature \
             `GLOBAL_ALLOC_DISABLED` (with `default-features = false`, which also drops the default \
             `GLOBAL_ALLOC_FLAG_WAITOK`) to declare your own."
        )
    }
}

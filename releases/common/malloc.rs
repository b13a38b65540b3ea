//! malloc(9) (`sys/sys/malloc.h`), the parts identical on every release. `M_VERSION` and
//! the release-specific flags and functions live in the release folders.

use super::domainset::domainset;
use core::ffi::{c_char, c_int, c_uchar, c_ulong, c_void};

abi_consts! {
    table MALLOC_CONSTS, header "sys/sys/malloc.h";
    /// Do not block (may return NULL).
    pub const M_NOWAIT: c_int = 0x0001;
    /// Block until memory is available (never returns NULL).
    pub const M_WAITOK: c_int = 0x0002;
    /// Zero the allocation.
    pub const M_ZERO: c_int = 0x0100;
    /// Do not ask the VM for pages.
    pub const M_NOVM: c_int = 0x0200;
    /// May dip into the reserved pages (with M_NOWAIT).
    pub const M_USE_RESERVE: c_int = 0x0400;
    /// Exclude from kernel dumps.
    pub const M_NODUMP: c_int = 0x0800;
    /// vmem only: fast fit.
    pub const M_FIRSTFIT: c_int = 0x1000;
    /// vmem only: low fragmentation.
    pub const M_BESTFIT: c_int = 0x2000;
    /// Executable memory.
    pub const M_EXEC: c_int = 0x4000;
    /// vmem only: follow the cursor.
    pub const M_NEXTFIT: c_int = 0x8000;

    /// `MALLOC_MAX_NAME`: longest type name `vmstat -m` shows.
    pub const MALLOC_MAX_NAME: usize = 32;
}

/// `struct malloc_type_internal`: malloc-owned statistics, zero-initialised by the owner.
#[repr(C)]
pub struct malloc_type_internal {
    /// DTrace probe ids.
    pub mti_probes: [u32; 2],
    /// Zone index.
    pub mti_zone: c_uchar,
    /// Per-CPU statistics (`struct malloc_type_stats *`).
    pub mti_stats: *mut c_void,
    /// Reserved.
    pub mti_spare: [c_ulong; 8],
}

/// `struct malloc_type`: what `MALLOC_DEFINE` declares. Must be writable: the kernel links
/// it into its list and owns `ks_mti`.
#[repr(C)]
pub struct malloc_type {
    /// Next in the kernel's chain (kernel-owned).
    pub ks_next: *mut malloc_type,
    /// Must equal the running kernel's `M_VERSION`, or `malloc_init` panics.
    pub ks_version: c_ulong,
    /// Printable type name.
    pub ks_shortdesc: *const c_char,
    /// Kernel-owned state.
    pub ks_mti: malloc_type_internal,
}

abi_structs! {
    table MALLOC_STRUCTS, header "sys/sys/malloc.h";
    malloc_type_internal = "struct malloc_type_internal", size 88, align 8,
        { mti_probes: 0, mti_zone: 8, mti_stats: 16, mti_spare: 24 };
    malloc_type = "struct malloc_type", size 112, align 8,
        { ks_next: 0, ks_version: 8, ks_shortdesc: 16, ks_mti: 24 };
}

impl malloc_type {
    /// The initialiser `MALLOC_DEFINE` uses: `{.ks_next = NULL, .ks_version = version,
    /// .ks_shortdesc = shortdesc}`, everything else zero.
    pub const fn new(shortdesc: *const c_char, version: c_ulong) -> Self {
        malloc_type {
            ks_next: core::ptr::null_mut(),
            ks_version: version,
            ks_shortdesc: shortdesc,
            ks_mti: malloc_type_internal {
                mti_probes: [0; 2],
                mti_zone: 0,
                mti_stats: core::ptr::null_mut(),
                mti_spare: [0; 8],
            },
        }
    }
}

kpi_functions! {
    table MALLOC_FUNCTIONS, header "sys/sys/malloc.h";
    /// malloc(9).
    pub fn malloc(size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void;
    /// free(9).
    pub fn free(addr: *mut c_void, ty: *mut malloc_type);
    /// zfree(9): zero, then free.
    pub fn zfree(addr: *mut c_void, ty: *mut malloc_type);
    /// realloc(9).
    pub fn realloc(addr: *mut c_void, size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void;
    /// reallocf(9): realloc that frees `addr` on failure.
    pub fn reallocf(addr: *mut c_void, size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void;
    /// Aligned allocation from a NUMA policy; `align` a power of two, at most `PAGE_SIZE`.
    /// Present on 13.0 and later (kern_malloc.c).
    pub fn malloc_domainset_aligned(size: usize, align: usize, ty: *mut malloc_type, ds: *mut domainset, flags: c_int) -> *mut c_void;
    /// SYSINIT function of `MALLOC_DEFINE`: registers a `struct malloc_type`.
    pub fn malloc_init(ty: *mut c_void);
    /// SYSUNINIT function of `MALLOC_DEFINE`: unregisters it, reporting leaks.
    pub fn malloc_uninit(ty: *mut c_void);
}

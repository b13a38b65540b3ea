//! The KPI as data ([`KpiSymbol`]) and as a trait ([`Kpi`]).
//!
//! [`Kpi`] is the common facade every release implements: the kernel services the safe
//! crate `freebsd-kmi-rs` is built on (allocation, console, panic). The facade is written
//! against this trait, so it is the same API on every release, and its unit tests run on
//! the host against a mock implementation.

use crate::common::malloc::malloc_type;
use crate::release::Release;
use core::ffi::{c_int, c_void};

/// What kind of kernel symbol a binding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A function with a fixed argument list.
    Function,
    /// A C-variadic function (`printf(const char *, ...)`): callers pass the number of
    /// vector registers used in `%al`, which a trampoline must preserve.
    VariadicFunction,
    /// A data object (for example `domainset_roundrobin`).
    Data,
}

impl SymbolKind {
    /// `VariadicFunction` if a binding's parameter list ends in `...`, else `Function`.
    pub const fn of_params(params: &str) -> SymbolKind {
        let b = params.as_bytes();
        let n = b.len();
        if n >= 3 && b[n - 1] == b'.' && b[n - 2] == b'.' && b[n - 3] == b'.' {
            SymbolKind::VariadicFunction
        } else {
            SymbolKind::Function
        }
    }
}

/// One kernel symbol a release folder binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KpiSymbol {
    /// Symbol name.
    pub name: &'static str,
    /// Function, variadic function or data.
    pub kind: SymbolKind,
    /// The FreeBSD header that declares it, relative to the source tree (`sys/sys/malloc.h`).
    pub header: &'static str,
    /// The Rust parameter list as written in the binding (`"size : usize, ty : * mut
    /// malloc_type"`), ending in `...` for variadic functions; empty for data.
    pub params: &'static str,
    /// Rust return type (functions) or object type (data), as written in the binding.
    pub ret: &'static str,
}

/// The kernel services the safe facade needs, implemented once per release.
///
/// # Safety
///
/// Implementations must behave like the FreeBSD functions each method names: memory
/// returned by the allocation methods is valid for the requested size (and alignment)
/// until freed, and `panic` never returns.
pub unsafe trait Kpi {
    /// The release this implementation binds.
    const RELEASE: Release;
    /// `M_VERSION`, the `ks_version` every `struct malloc_type` must carry.
    const M_VERSION: u64;

    /// malloc(9): `size` bytes from `ty` with malloc(9) `flags`; null on failure with
    /// `M_NOWAIT`.
    ///
    /// # Safety
    /// `ty` points to a malloc type registered with `malloc_init` and not yet uninitialised.
    unsafe fn malloc(size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void {
        // SAFETY: the caller upholds malloc(9)'s contract (registered type).
        unsafe { crate::common::malloc::malloc(size, ty, flags) }
    }

    /// `size` bytes aligned to `align` (a power of two, at most `PAGE_SIZE`); release with
    /// [`Kpi::free`].
    ///
    /// # Safety
    /// As [`Kpi::malloc`]; `align` is a power of two no larger than 4096.
    unsafe fn malloc_aligned(size: usize, align: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void {
        // SAFETY: the caller upholds the contract; `domainset_roundrobin` is the kernel's
        // DOMAINSET_RR() policy (sys/sys/domainset.h), valid for the kernel's lifetime.
        // malloc_domainset_aligned exists on every supported release (kern_malloc.c).
        unsafe {
            crate::common::malloc::malloc_domainset_aligned(
                size,
                align,
                ty,
                &raw const crate::common::domainset::domainset_roundrobin as *mut _,
                flags,
            )
        }
    }

    /// `vm_kmem_size`: the size of the kmem arena, which `kmeminit()`
    /// (sys/kern/kern_malloc.c) computes at boot and hands to `uma_set_limit()`. No single
    /// malloc(9) request larger than this can ever be satisfied.
    fn kmem_size() -> usize {
        // SAFETY: a plain `u_long` the kernel sets once in kmeminit(), before any module
        // loads, and never writes again (`vm.kmem_size` is CTLFLAG_RDTUN).
        unsafe { crate::common::vm_kern::vm_kmem_size as usize }
    }

    /// realloc(9).
    ///
    /// # Safety
    /// As [`Kpi::malloc`]; `addr` is null or was returned by this type's allocation
    /// methods for `ty` and not freed.
    unsafe fn realloc(addr: *mut c_void, size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void {
        // SAFETY: the caller upholds realloc(9)'s contract.
        unsafe { crate::common::malloc::realloc(addr, size, ty, flags) }
    }

    /// free(9).
    ///
    /// # Safety
    /// `addr` is null or was allocated from `ty` and not yet freed.
    unsafe fn free(addr: *mut c_void, ty: *mut malloc_type) {
        // SAFETY: the caller upholds free(9)'s contract.
        unsafe { crate::common::malloc::free(addr, ty) }
    }

    /// Writes `msg` to the console and message buffer (printf(9) with the constant format
    /// `"%.*s"`: the bytes are never interpreted as a format).
    fn print(msg: &[u8]) {
        for chunk in msg.chunks(c_int::MAX as usize) {
            // SAFETY: constant format; `%.*s` reads at most `precision` bytes of `chunk`.
            unsafe { crate::common::systm::printf(c"%.*s".as_ptr(), precision(chunk.len()), chunk.as_ptr()) };
        }
    }

    /// Writes `msg` to the current process's terminal (uprintf(9)), constant format.
    fn uprint(msg: &[u8]) {
        for chunk in msg.chunks(c_int::MAX as usize) {
            // SAFETY: constant format; `%.*s` reads at most `precision` bytes of `chunk`.
            unsafe { crate::common::systm::uprintf(c"%.*s".as_ptr(), precision(chunk.len()), chunk.as_ptr()) };
        }
    }

    /// Logs `msg` with syslog priority `priority` (log(9)), constant format.
    fn log(priority: c_int, msg: &[u8]) {
        for chunk in msg.chunks(c_int::MAX as usize) {
            // SAFETY: constant format; `%.*s` reads at most `precision` bytes of `chunk`.
            unsafe { crate::common::systm::log(priority, c"%.*s".as_ptr(), precision(chunk.len()), chunk.as_ptr()) };
        }
    }

    /// Panics the kernel with `msg` (panic(9) with the constant format `"%.*s"`).
    fn panic(msg: &[u8]) -> ! {
        // SAFETY: constant format; `%.*s` reads at most `precision` bytes of `msg`.
        unsafe { crate::common::systm::panic(c"%.*s".as_ptr(), precision(msg.len()), msg.as_ptr()) }
    }
}

/// Length argument for a `"%.*s"` conversion: printf(9) takes the precision as an `int`.
pub const fn precision(len: usize) -> c_int {
    if len > c_int::MAX as usize { c_int::MAX } else { len as c_int }
}

/// One symbol the release's kernel exports to modules (a row of the folder's
/// `kernel-exports.txt`, generated from the real headers by `ci/kernel-exports.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelExport {
    /// Symbol name.
    pub name: &'static str,
    /// Function, variadic function or data.
    pub kind: SymbolKind,
    /// The header that declares it (`sys/sys/devctl.h` is written `sys/devctl.h`).
    pub header: &'static str,
}

/// Parses a `kernel-exports.txt` (`name<TAB>kind<TAB>header` lines, `#` comments).
pub fn parse_exports(text: &'static str) -> impl Iterator<Item = KernelExport> {
    text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).filter_map(|l| {
        let mut f = l.split('\t');
        let name = f.next()?;
        let kind = match f.next()? {
            "function" => SymbolKind::Function,
            "variadic" => SymbolKind::VariadicFunction,
            "data" => SymbolKind::Data,
            _ => return None,
        };
        Some(KernelExport { name, kind, header: f.next().unwrap_or("") })
    })
}

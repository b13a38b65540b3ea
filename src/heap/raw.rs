//! Layout-aware allocation over malloc(9), generic over the [`Kpi`] so host tests can
//! substitute a mock kernel.

use crate::malloc::{Flags, MallocType};
use core::alloc::Layout;
use core::ffi::c_void;
use core::ptr;
use freebsd_kpi::kpi::Kpi;

/// The alignment malloc(9) guarantees for every size.
///
/// kern_malloc.c (13.0; the same zone design on 14.x) rounds sizes up to 16 and creates
/// each power-of-two zone aligned to its size, but the 384-byte zone (requests of
/// 257..=384 bytes) only gets `UMA_ALIGN_PTR`: 8 bytes. So only 8 is safe for every size.
pub const MALLOC_ALIGN: usize = 8;

/// `PAGE_SIZE` on amd64 (sys/amd64/include/param.h: `PAGE_SHIFT` 12), the largest
/// alignment `malloc_domainset_aligned` accepts (it asserts `align <= PAGE_SIZE`).
pub const PAGE_SIZE: usize = 4096;

/// Bytes the kernel really takes for `layout`: malloc(9) takes `size`;
/// `malloc_domainset_aligned` takes `size <= align ? align : 1 << flsl(size - 1)`
/// (sys/kern/kern_malloc.c). `None` when that does not fit a `usize`.
fn kernel_request(layout: Layout) -> Option<usize> {
    if layout.align() <= MALLOC_ALIGN {
        Some(layout.size())
    } else if layout.size() <= layout.align() {
        Some(layout.align())
    } else {
        layout.size().checked_next_power_of_two()
    }
}

/// The size bound: whether the kernel could ever satisfy `layout`, i.e. the request is no
/// larger than the kmem arena (`vm_kmem_size`, [`Kpi::kmem_size`]) nor than `isize::MAX`.
///
/// `kmeminit()` (sys/kern/kern_malloc.c) sizes the arena at boot as
/// `min(max(physmem / VM_KMEM_SIZE_SCALE, VM_KMEM_SIZE_MIN), VM_KMEM_SIZE_MAX)`, at most
/// twice the physical memory (amd64: `VM_KMEM_SIZE_SCALE` 1, `VM_KMEM_SIZE_MAX` 3/5 of the
/// kernel address space, machine/vmparam.h), and gives it to `uma_set_limit()`. A larger
/// request can never succeed: with `M_NOWAIT` it returns NULL, with `M_WAITOK` it sleeps
/// forever or, on an INVARIANTS kernel, panics with `malloc(M_WAITOK) returned NULL`. So
/// such sizes are refused before malloc(9) is called, whatever the flags.
pub(crate) fn fits_in_kmem<K: Kpi>(layout: Layout) -> bool {
    kernel_request(layout).is_some_and(|n| n <= K::kmem_size() && n <= isize::MAX as usize)
}

/// Allocates memory for `layout` from `ty`; null on failure (only with `M_NOWAIT`), when the
/// alignment exceeds [`PAGE_SIZE`], when `ty` is not registered with malloc(9), or when
/// the size is beyond [`fits_in_kmem`] (whatever the flags: such a request is never passed
/// to malloc(9)).
///
/// # Safety
/// `layout.size()` is not zero.
pub(crate) unsafe fn allocate<K: Kpi>(layout: Layout, ty: &MallocType, flags: Flags) -> *mut u8 {
    if !ty.is_registered() || !fits_in_kmem::<K>(layout) {
        return ptr::null_mut();
    }
    let p = if layout.align() <= MALLOC_ALIGN {
        // SAFETY: a registered type (checked above).
        unsafe { K::malloc(layout.size(), ty.as_ptr(), flags.bits()) }
    } else if layout.align() <= PAGE_SIZE {
        // SAFETY: as above; the alignment is a power of two (Layout) no larger than
        // PAGE_SIZE, as malloc_domainset_aligned requires.
        unsafe { K::malloc_aligned(layout.size(), layout.align(), ty.as_ptr(), flags.bits()) }
    } else {
        ptr::null_mut()
    };
    p.cast()
}

/// Frees memory from [`allocate`] or [`reallocate`]. Memory of a type whose registration
/// was undone is leaked instead: malloc_uninit freed the statistics free(9) would update.
///
/// # Safety
/// `p` came from one of them with the same `ty` and was not freed.
pub(crate) unsafe fn deallocate<K: Kpi>(p: *mut u8, ty: &MallocType) {
    if !ty.is_registered() {
        return;
    }
    // SAFETY: the caller guarantees `p` is a live allocation from `ty`; free(9) accepts
    // memory from malloc(9) and from the aligned allocator alike.
    unsafe { K::free(p.cast::<c_void>(), ty.as_ptr()) }
}

/// Resizes an allocation to `new_size`, keeping `old.align()`. On failure (including a size
/// beyond [`fits_in_kmem`]) returns null and leaves the old allocation untouched.
///
/// # Safety
/// `p` is a live allocation of layout `old` from `ty`; `new_size` is not zero and, rounded
/// up to `old.align()`, does not overflow `isize`.
pub(crate) unsafe fn reallocate<K: Kpi>(p: *mut u8, old: Layout, new_size: usize, ty: &MallocType, flags: Flags) -> *mut u8 {
    if !ty.is_registered() {
        return ptr::null_mut();
    }
    if old.align() <= MALLOC_ALIGN {
        // The size bound of `allocate` (the aligned path below goes through it).
        if !Layout::from_size_align(new_size, old.align()).is_ok_and(fits_in_kmem::<K>) {
            return ptr::null_mut();
        }
        // SAFETY: realloc(9) keeps malloc(9)'s alignment guarantee and leaves `p` intact
        // when it fails.
        return unsafe { K::realloc(p.cast(), new_size, ty.as_ptr(), flags.bits()) }.cast();
    }
    // realloc(9) does not preserve larger alignments: allocate, copy, free.
    // SAFETY: the caller guarantees the size is valid for this alignment.
    let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, old.align()) };
    // SAFETY: registered type, non-zero size.
    let q = unsafe { allocate::<K>(new_layout, ty, flags) };
    if !q.is_null() {
        // SAFETY: both blocks are live, distinct, and at least min(old, new) bytes long.
        unsafe {
            ptr::copy_nonoverlapping(p, q, old.size().min(new_size));
            deallocate::<K>(p, ty);
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::M_RUST;
    use crate::mock::{self, Call, MockKernel};

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn unregistered_types_are_refused_without_calling_the_kernel() {
        mock::reset();
        crate::malloc_define!(M_NEVER_INIT, "never", "no SYSINIT runs on the host");
        // SAFETY: non-zero size.
        let p = unsafe { allocate::<MockKernel>(layout(24, 8), &M_NEVER_INIT, Flags::WAITOK) };
        assert!(p.is_null(), "allocation through an unregistered type must fail cleanly");
        // SAFETY: as above.
        let p = unsafe { allocate::<MockKernel>(layout(24, 64), &M_NEVER_INIT, Flags::NOWAIT) };
        assert!(p.is_null());
        mock::with(|s| assert!(s.calls.is_empty(), "malloc(9) never saw the type: {:?}", s.calls));
    }

    #[test]
    fn small_alignments_use_malloc() {
        mock::reset();
        for align in [1, 2, 4, 8] {
            // SAFETY: M_RUST is "registered" in the mock; non-zero size.
            let p = unsafe { allocate::<MockKernel>(layout(24, align), &M_RUST, Flags::WAITOK) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            // SAFETY: p came from allocate with M_RUST.
            unsafe { deallocate::<MockKernel>(p, &M_RUST) };
        }
        mock::with(|s| {
            assert!(s.calls.iter().all(|c| matches!(c, Call::Malloc { size: 24, .. } | Call::Free)));
            assert!(s.live.is_empty());
        });
    }

    #[test]
    fn large_alignments_use_the_aligned_allocator() {
        mock::reset();
        for align in [16, 64, 4096] {
            // SAFETY: as above.
            let p = unsafe { allocate::<MockKernel>(layout(100, align), &M_RUST, Flags::NOWAIT) };
            assert_eq!(p as usize % align, 0, "align {align}");
            // SAFETY: as above.
            unsafe { deallocate::<MockKernel>(p, &M_RUST) };
        }
        mock::with(|s| {
            let aligned: Vec<_> = s.calls.iter().filter(|c| matches!(c, Call::MallocAligned { .. })).collect();
            assert_eq!(aligned.len(), 3);
            assert_eq!(aligned[2], &Call::MallocAligned { size: 100, align: 4096, flags: Flags::NOWAIT.bits() });
        });
    }

    #[test]
    fn alignment_above_page_size_fails_without_calling_the_kernel() {
        mock::reset();
        // SAFETY: as above.
        let p = unsafe { allocate::<MockKernel>(layout(8, 8192), &M_RUST, Flags::WAITOK) };
        assert!(p.is_null());
        mock::with(|s| assert!(s.calls.is_empty()));
    }

    #[test]
    fn realloc_keeps_contents_and_large_alignment() {
        mock::reset();
        let old = layout(32, 64);
        // SAFETY: as above; the block is written within its 32 bytes.
        unsafe {
            let p = allocate::<MockKernel>(old, &M_RUST, Flags::WAITOK);
            p.copy_from_nonoverlapping([7u8; 32].as_ptr(), 32);
            let q = reallocate::<MockKernel>(p, old, 256, &M_RUST, Flags::WAITOK);
            assert_eq!(q as usize % 64, 0);
            assert_eq!(std::slice::from_raw_parts(q, 32), &[7u8; 32]);
            deallocate::<MockKernel>(q, &M_RUST);
        }
        mock::with(|s| {
            assert!(s.live.is_empty());
            assert!(!s.calls.iter().any(|c| matches!(c, Call::Realloc { .. })), "realloc(9) loses alignment > 8");
        });
    }

    #[test]
    fn realloc_small_alignment_uses_kernel_realloc_and_failure_keeps_the_block() {
        mock::reset();
        let old = layout(16, 8);
        // SAFETY: as above.
        unsafe {
            let p = allocate::<MockKernel>(old, &M_RUST, Flags::NOWAIT);
            p.write(42);
            mock::with(|s| s.fail_nowait = 1);
            let q = reallocate::<MockKernel>(p, old, 4096, &M_RUST, Flags::NOWAIT);
            assert!(q.is_null());
            assert_eq!(p.read(), 42, "old block intact after a failed realloc");
            let q = reallocate::<MockKernel>(p, old, 4096, &M_RUST, Flags::NOWAIT);
            assert_eq!(q.read(), 42);
            deallocate::<MockKernel>(q, &M_RUST);
        }
        mock::with(|s| {
            assert!(s.calls.contains(&Call::Realloc { size: 4096, flags: Flags::NOWAIT.bits() }));
            assert!(s.live.is_empty());
        });
    }

    #[test]
    fn sizes_beyond_kmem_are_refused_without_calling_the_kernel() {
        mock::reset();
        mock::with(|s| s.kmem_size = Some(1 << 20));
        for flags in [Flags::WAITOK, Flags::NOWAIT, Flags::NOWAIT | Flags::USE_RESERVE] {
            for (size, align) in [(1 << 40, 8), ((1 << 20) + 1, 1), (isize::MAX as usize, 1), (1 << 40, 4096)] {
                // SAFETY: M_RUST is "registered" in the mock; non-zero size.
                let p = unsafe { allocate::<MockKernel>(layout(size, align), &M_RUST, flags) };
                assert!(p.is_null(), "size {size} align {align}");
            }
        }
        // The aligned allocator takes the next power of two: 2^19 + 1 bytes aligned to 16
        // is a 2^20 request (fits), 2^20 + 1 would be 2^21 (does not).
        assert!(fits_in_kmem::<MockKernel>(layout((1 << 19) + 1, 16)));
        assert!(!fits_in_kmem::<MockKernel>(layout((1 << 20) + 1, 16)));
        assert!(fits_in_kmem::<MockKernel>(layout(1 << 20, 8)));
        mock::with(|s| assert!(s.calls.is_empty(), "{:?}", s.calls));
    }

    #[test]
    fn isize_max_is_the_bound_even_with_a_huge_kmem() {
        mock::reset();
        mock::with(|s| s.kmem_size = Some(usize::MAX));
        assert!(fits_in_kmem::<MockKernel>(layout(isize::MAX as usize, 1)));
        // 2^62 + 1 aligned to 16 rounds to 2^63 > isize::MAX.
        assert!(!fits_in_kmem::<MockKernel>(layout((1 << 62) + 1, 16)));
    }

    #[test]
    fn realloc_beyond_kmem_fails_and_keeps_the_block() {
        mock::reset();
        mock::with(|s| s.kmem_size = Some(1 << 20));
        for align in [8, 64] {
            let old = layout(16, align);
            // SAFETY: as above.
            unsafe {
                let p = allocate::<MockKernel>(old, &M_RUST, Flags::WAITOK);
                p.write(9);
                assert!(reallocate::<MockKernel>(p, old, 1 << 40, &M_RUST, Flags::WAITOK).is_null());
                assert!(reallocate::<MockKernel>(p, old, isize::MAX as usize - 64, &M_RUST, Flags::WAITOK).is_null());
                assert_eq!(p.read(), 9);
                deallocate::<MockKernel>(p, &M_RUST);
            }
        }
        mock::with(|s| {
            assert!(!s.calls.iter().any(|c| matches!(c, Call::Realloc { .. })));
            assert!(s.live.is_empty());
        });
    }
}

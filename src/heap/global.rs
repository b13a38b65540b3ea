//! The `GlobalAlloc` implementation and the crate's built-in global allocator.

use super::raw;
use crate::kernel::Kernel;
use crate::malloc::{Flags, MallocType};
use core::alloc::{GlobalAlloc, Layout};
use core::marker::PhantomData;
use freebsd_kpi::kpi::Kpi;

/// A `GlobalAlloc` over malloc(9) with a fixed malloc type and flags.
///
/// `K` is the kernel interface (the selected release by default; host tests use a mock).
pub struct KernelAllocator<K: Kpi = Kernel> {
    ty: &'static MallocType,
    flags: Flags,
    kernel: PhantomData<fn() -> K>,
}

impl<K: Kpi> KernelAllocator<K> {
    /// An allocator drawing from `ty` with `flags`.
    ///
    /// # Panics
    /// If `flags` break the malloc(9) rules ([`Flags::validate`]); in a `static` this is a
    /// compile-time error.
    pub const fn new(ty: &'static MallocType, flags: Flags) -> Self {
        let flags = match flags.validate() {
            Ok(f) => f,
            Err(_) => panic!("KernelAllocator: exactly one of Flags::WAITOK or Flags::NOWAIT; USE_RESERVE only with NOWAIT"),
        };
        KernelAllocator { ty, flags, kernel: PhantomData }
    }

    /// The malloc type allocations are charged to.
    pub const fn malloc_type(&self) -> &'static MallocType {
        self.ty
    }

    /// The malloc(9) flags of every allocation.
    pub const fn flags(&self) -> Flags {
        self.flags
    }
}

// SAFETY: allocations come from malloc(9) (or its aligned variant) and honour the layout's
// size and alignment (raw::allocate returns null for alignments it cannot honour);
// dealloc/realloc receive only pointers this allocator returned, as GlobalAlloc promises.
unsafe impl<K: Kpi> GlobalAlloc for KernelAllocator<K> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the type was registered at module load; GlobalAlloc callers pass a
        // non-zero size.
        unsafe { raw::allocate::<K>(layout, self.ty, self.flags) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`; M_ZERO makes malloc(9) zero the memory.
        unsafe { raw::allocate::<K>(layout, self.ty, self.flags.union(Flags::ZERO)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: GlobalAlloc guarantees `ptr` came from this allocator.
        unsafe { raw::deallocate::<K>(ptr, self.ty) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc guarantees a live block of `layout` and a valid new size.
        unsafe { raw::reallocate::<K>(ptr, layout, new_size, self.ty, self.flags) }
    }
}

/// The flags of the built-in global allocator, chosen by the `GLOBAL_ALLOC_FLAG_*`
/// features; `None` with `GLOBAL_ALLOC_DISABLED`.
pub const GLOBAL_ALLOC_FLAGS: Option<Flags> = if cfg!(alloc_disabled) {
    None
} else if cfg!(alloc_use_reserve) {
    Some(Flags::NOWAIT.union(Flags::USE_RESERVE))
} else if cfg!(alloc_nowait) {
    Some(Flags::NOWAIT)
} else {
    Some(Flags::WAITOK)
};

#[cfg(builtin_global_allocator)]
#[global_allocator]
static GLOBAL: KernelAllocator = KernelAllocator::new(
    &super::M_RUST,
    match GLOBAL_ALLOC_FLAGS {
        Some(f) => f,
        None => Flags::WAITOK,
    },
);

/// Declares your own global allocator over malloc(9), for use with the feature
/// `GLOBAL_ALLOC_DISABLED`: your malloc type, your flags.
///
/// It is installed only when building for the kernel (`target_os = "none"`), so the
/// module's host tests keep the host allocator. Invalid flags, or using it while the
/// built-in allocator is enabled, are compile errors.
///
/// ```ignore
/// freebsd_kmi::malloc_define!(M_MYDRV, "mydrv", "mydrv allocations");
/// freebsd_kmi::global_allocator!(static ALLOCATOR = (M_MYDRV, Flags::NOWAIT));
/// ```
#[macro_export]
macro_rules! global_allocator {
    ($vis:vis static $name:ident = ($ty:path, $flags:expr) $(;)?) => {
        const _: () = $crate::heap::__assert_global_alloc_disabled();
        #[cfg_attr(target_os = "none", global_allocator)]
        $vis static $name: $crate::heap::KernelAllocator = $crate::heap::KernelAllocator::new(
            &$ty,
            $crate::heap::__assert_global_alloc_flags({
                #[allow(unused_imports)]
                use $crate::malloc::Flags;
                $flags
            }),
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::M_RUST;
    use crate::mock::{self, Call, MockKernel};

    static NOWAIT_RESERVE: KernelAllocator<MockKernel> =
        KernelAllocator::new(&M_RUST, Flags::NOWAIT.union(Flags::USE_RESERVE));

    #[test]
    fn passes_its_flags_and_zeroes_on_request() {
        mock::reset();
        let l = Layout::from_size_align(40, 8).unwrap();
        // SAFETY: non-zero layout; each block is freed with the same allocator.
        unsafe {
            let p = NOWAIT_RESERVE.alloc(l);
            let z = NOWAIT_RESERVE.alloc_zeroed(l);
            assert!(std::slice::from_raw_parts(z, 40).iter().all(|&b| b == 0));
            let p = NOWAIT_RESERVE.realloc(p, l, 80);
            NOWAIT_RESERVE.dealloc(p, Layout::from_size_align(80, 8).unwrap());
            NOWAIT_RESERVE.dealloc(z, l);
        }
        let f = Flags::NOWAIT.union(Flags::USE_RESERVE).bits();
        mock::with(|s| {
            assert_eq!(s.calls[0], Call::Malloc { size: 40, flags: f });
            assert_eq!(s.calls[1], Call::Malloc { size: 40, flags: f | Flags::ZERO.bits() });
            assert_eq!(s.calls[2], Call::Realloc { size: 80, flags: f });
            assert!(s.live.is_empty());
        });
    }

    #[test]
    fn nowait_failure_is_null_not_a_panic() {
        mock::reset();
        mock::with(|s| s.fail_nowait = 1);
        // SAFETY: non-zero layout.
        let p = unsafe { NOWAIT_RESERVE.alloc(Layout::new::<u64>()) };
        assert!(p.is_null());
    }

    static WAITOK: KernelAllocator<MockKernel> = KernelAllocator::new(&M_RUST, Flags::WAITOK);

    #[test]
    fn impossible_sizes_are_null_even_with_waitok() {
        mock::reset();
        mock::with(|s| s.kmem_size = Some(1 << 30));
        for (size, align) in [(1usize << 40, 1), (1 << 40, 64), (isize::MAX as usize, 1), ((1 << 30) + 1, 8)] {
            let l = Layout::from_size_align(size, align).unwrap();
            // SAFETY: non-zero layouts; nothing is allocated.
            unsafe {
                assert!(WAITOK.alloc(l).is_null(), "{l:?}");
                assert!(WAITOK.alloc_zeroed(l).is_null(), "{l:?}");
            }
        }
        // SAFETY: a live block of this layout from WAITOK; the failed realloc keeps it.
        unsafe {
            let l = Layout::from_size_align(64, 8).unwrap();
            let p = WAITOK.alloc(l);
            assert!(WAITOK.realloc(p, l, 1 << 40).is_null());
            WAITOK.dealloc(p, l);
        }
        mock::with(|s| {
            assert_eq!(s.calls.len(), 2, "only the 64-byte malloc and its free reach the kernel: {:?}", s.calls);
            assert!(s.live.is_empty());
        });
    }

    #[test]
    #[should_panic(expected = "exactly one of Flags::WAITOK or Flags::NOWAIT")]
    fn rejects_invalid_flags() {
        let _ = KernelAllocator::<MockKernel>::new(&M_RUST, Flags::WAITOK.union(Flags::NOWAIT));
    }

    #[test]
    fn default_features_choose_waitok() {
        // The crate's own tests build with the default features.
        assert_eq!(GLOBAL_ALLOC_FLAGS, Some(Flags::WAITOK));
    }
}

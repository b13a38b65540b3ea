//! [`KVec`]: a fallible, flag-aware vector.

use super::{M_RUST, raw};
use crate::errno::{ENOMEM, Errno};
use crate::kernel::Kernel;
use crate::malloc::{Flags, MallocType};
use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};
use core::slice;
use freebsd_kpi::kpi::Kpi;

/// A growable array whose every allocation takes malloc(9) flags and may fail.
///
/// Growth that fails returns `Err(ENOMEM)` and leaves the vector as it was.
///
/// ```no_run
/// use freebsd_kmi::heap::KVec;
/// use freebsd_kmi::malloc::Flags;
/// # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
/// let mut v = KVec::new();
/// v.try_push(1u32, Flags::NOWAIT)?;
/// v.try_extend_from_slice(&[2, 3], Flags::NOWAIT)?;
/// assert_eq!(&v[..], &[1, 2, 3]);
/// # Ok(()) }
/// ```
pub struct KVec<T, K: Kpi = Kernel> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    ty: &'static MallocType,
    owns: PhantomData<T>,
    kernel: PhantomData<fn() -> K>,
}

// SAFETY: KVec owns its elements like Vec does.
unsafe impl<T: Send, K: Kpi> Send for KVec<T, K> {}
// SAFETY: shared access only hands out &[T].
unsafe impl<T: Sync, K: Kpi> Sync for KVec<T, K> {}

impl<T> KVec<T> {
    /// An empty vector charged to [`M_RUST`](super::M_RUST); allocates nothing.
    pub const fn new() -> Self {
        Self::new_in(&M_RUST)
    }
}

impl<T> KVec<T> {
    /// An empty vector charged to [`M_RUST`](super::M_RUST) with room for `capacity`
    /// elements. Fails with `ENOMEM` when the allocation fails or is larger than the kernel
    /// could ever satisfy (see the [module docs](super)), whatever the flags.
    pub fn try_with_capacity(capacity: usize, flags: Flags) -> Result<Self, Errno> {
        Self::try_with_capacity_in(capacity, flags, &M_RUST)
    }
}

impl<T> Default for KVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, K: Kpi> KVec<T, K> {
    const IS_ZST: bool = size_of::<T>() == 0;

    /// An empty vector charged to `ty`; allocates nothing.
    pub const fn new_in(ty: &'static MallocType) -> Self {
        KVec {
            ptr: NonNull::dangling(),
            len: 0,
            cap: if size_of::<T>() == 0 { usize::MAX } else { 0 },
            ty,
            owns: PhantomData,
            kernel: PhantomData,
        }
    }

    /// An empty vector with room for `capacity` elements.
    pub fn try_with_capacity_in(capacity: usize, flags: Flags, ty: &'static MallocType) -> Result<Self, Errno> {
        let mut v = Self::new_in(ty);
        v.try_reserve(capacity, flags)?;
        Ok(v)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of elements it can hold without allocating.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The malloc type the storage is charged to.
    pub fn malloc_type(&self) -> &'static MallocType {
        self.ty
    }

    /// Makes room for at least `additional` more elements. Fails with `EINVAL` for invalid
    /// flags and `ENOMEM` on allocation failure or capacity overflow, leaving the vector
    /// unchanged.
    pub fn try_reserve(&mut self, additional: usize, flags: Flags) -> Result<(), Errno> {
        let flags = flags.validate()?;
        let needed = self.len.checked_add(additional).ok_or(ENOMEM)?;
        if needed <= self.cap {
            return Ok(());
        }
        // Amortised growth: at least double, at least 4 elements; just `needed` when the
        // doubled size is beyond what the kernel can ever give (raw::fits_in_kmem).
        let grown = needed.max(self.cap.saturating_mul(2)).max(4);
        let new_cap = match Layout::array::<T>(grown) {
            Ok(l) if raw::fits_in_kmem::<K>(l) => grown,
            _ => needed,
        };
        let new_layout = Layout::array::<T>(new_cap).map_err(|_| ENOMEM)?;
        let p = if self.cap == 0 {
            // SAFETY: registered type; the size is not zero (T is not a ZST here).
            unsafe { raw::allocate::<K>(new_layout, self.ty, flags) }
        } else {
            // SAFETY: the old block is live with this layout (it was created with it).
            unsafe {
                let old = Layout::array::<T>(self.cap).unwrap_unchecked();
                raw::reallocate::<K>(self.ptr.as_ptr().cast(), old, new_layout.size(), self.ty, flags)
            }
        };
        self.ptr = NonNull::new(p.cast::<T>()).ok_or(ENOMEM)?;
        self.cap = new_cap;
        Ok(())
    }

    /// Appends `value`, growing with `flags` if needed. On failure `value` is dropped and
    /// the vector is unchanged.
    pub fn try_push(&mut self, value: T, flags: Flags) -> Result<(), Errno> {
        if self.len == self.cap {
            self.try_reserve(1, flags)?;
        }
        // SAFETY: len < cap, so the slot is inside the allocation and uninitialised.
        unsafe { self.ptr.as_ptr().add(self.len).write(value) };
        self.len += 1;
        Ok(())
    }

    /// Removes and returns the last element.
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: the slot at the old last index is initialised and no longer counted.
        Some(unsafe { self.ptr.as_ptr().add(self.len).read() })
    }

    /// Drops every element, keeping the storage.
    pub fn clear(&mut self) {
        let elems: *mut [T] = self.as_mut_slice();
        self.len = 0;
        // SAFETY: the elements were initialised and are no longer counted by `len`.
        unsafe { ptr::drop_in_place(elems) };
    }

    /// The elements as a slice.
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `len` elements from `ptr` are initialised (ptr is dangling-but-aligned
        // when nothing is allocated, which is valid for empty and ZST slices).
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The elements as a mutable slice.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in as_slice, with exclusive access.
        unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Clone, K: Kpi> KVec<T, K> {
    /// Appends clones of `items`, reserving once; on failure nothing is appended.
    pub fn try_extend_from_slice(&mut self, items: &[T], flags: Flags) -> Result<(), Errno> {
        self.try_reserve(items.len(), flags)?;
        for item in items {
            // SAFETY: reserved above, so len < cap.
            unsafe { self.ptr.as_ptr().add(self.len).write(item.clone()) };
            self.len += 1;
        }
        Ok(())
    }
}

impl<T, K: Kpi> Drop for KVec<T, K> {
    fn drop(&mut self) {
        self.clear();
        if !Self::IS_ZST && self.cap != 0 {
            // SAFETY: the storage is a live allocation from `ty`.
            unsafe { raw::deallocate::<K>(self.ptr.as_ptr().cast(), self.ty) };
        }
    }
}

impl<T, K: Kpi> Deref for KVec<T, K> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T, K: Kpi> DerefMut for KVec<T, K> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: fmt::Debug, K: Kpi> fmt::Debug for KVec<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{self, Call, MockKernel};
    use std::rc::Rc;

    type Vec<T> = KVec<T, MockKernel>;

    #[test]
    fn grows_and_frees() {
        mock::reset();
        let mut v = Vec::new_in(&M_RUST);
        for i in 0..100u32 {
            v.try_push(i, Flags::WAITOK).unwrap();
        }
        assert_eq!(v.len(), 100);
        assert_eq!(v.iter().copied().sum::<u32>(), 4950);
        assert_eq!(v.pop(), Some(99));
        drop(v);
        assert!(mock::with(|s| s.live.is_empty()));
    }

    #[test]
    fn failed_growth_leaves_the_vector_unchanged() {
        mock::reset();
        let mut v = Vec::try_with_capacity_in(4, Flags::NOWAIT, &M_RUST).unwrap();
        v.try_extend_from_slice(&[1u8, 2, 3, 4], Flags::NOWAIT).unwrap();
        mock::with(|s| s.fail_nowait = 1);
        assert_eq!(v.try_push(5, Flags::NOWAIT), Err(ENOMEM));
        assert_eq!(&v[..], &[1, 2, 3, 4]);
        mock::with(|s| s.fail_nowait = 1);
        assert_eq!(v.try_extend_from_slice(&[9; 10], Flags::NOWAIT), Err(ENOMEM));
        assert_eq!(&v[..], &[1, 2, 3, 4]);
        v.try_push(5, Flags::NOWAIT).unwrap();
        assert_eq!(&v[..], &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn capacity_overflow_is_enomem() {
        mock::reset();
        let mut v: Vec<u64> = Vec::new_in(&M_RUST);
        assert_eq!(v.try_reserve(usize::MAX / 4, Flags::WAITOK), Err(ENOMEM));
        assert!(mock::with(|s| s.calls.is_empty()));
    }

    #[test]
    fn impossible_sizes_are_enomem_whatever_the_flags() {
        mock::reset();
        mock::with(|s| s.kmem_size = Some(1 << 30));
        for flags in [Flags::WAITOK, Flags::NOWAIT, Flags::NOWAIT | Flags::USE_RESERVE] {
            assert_eq!(Vec::<u8>::try_with_capacity_in(1 << 40, flags, &M_RUST).err(), Some(ENOMEM));
            let mut v: Vec<u8> = Vec::new_in(&M_RUST);
            assert_eq!(v.try_reserve(1 << 40, flags), Err(ENOMEM));
            assert_eq!(v.try_reserve(usize::MAX / 2, flags), Err(ENOMEM));
            assert_eq!(v.try_reserve(usize::MAX, flags), Err(ENOMEM));
            v.try_push(1, flags).unwrap();
            assert_eq!(v.try_reserve(1 << 40, flags), Err(ENOMEM));
            assert_eq!(&v[..], &[1]);
        }
        mock::with(|s| {
            assert!(s.calls.iter().all(|c| !matches!(c, Call::Malloc { size, .. } | Call::Realloc { size, .. } if *size > 1 << 30)));
        });
    }

    #[test]
    fn growth_near_the_bound_asks_for_what_is_needed() {
        mock::reset();
        mock::with(|s| s.kmem_size = Some(1 << 20));
        let mut v: Vec<u8> = Vec::try_with_capacity_in(600 << 10, Flags::WAITOK, &M_RUST).unwrap();
        v.try_extend_from_slice(&[0; 600 << 10], Flags::WAITOK).unwrap();
        // Doubling to 1200 KiB would not fit a 1 MiB arena; 900 KiB does.
        v.try_reserve(300 << 10, Flags::WAITOK).unwrap();
        assert_eq!(v.capacity(), 900 << 10);
    }

    #[test]
    fn drops_every_element() {
        mock::reset();
        let rc = Rc::new(());
        let mut v = Vec::new_in(&M_RUST);
        for _ in 0..10 {
            v.try_push(rc.clone(), Flags::WAITOK).unwrap();
        }
        v.clear();
        assert_eq!(Rc::strong_count(&rc), 1);
        v.try_push(rc.clone(), Flags::WAITOK).unwrap();
        drop(v);
        assert_eq!(Rc::strong_count(&rc), 1);
        assert!(mock::with(|s| s.live.is_empty()));
    }

    #[test]
    fn zero_sized_elements_never_allocate() {
        mock::reset();
        let mut v = Vec::new_in(&M_RUST);
        for _ in 0..1000 {
            v.try_push((), Flags::NOWAIT).unwrap();
        }
        assert_eq!(v.len(), 1000);
        drop(v);
        assert!(mock::with(|s| s.calls.is_empty()));
    }

    #[test]
    fn over_aligned_elements_stay_aligned_when_growing() {
        #[derive(Clone, Copy)]
        #[repr(align(64))]
        struct Line(u8);
        mock::reset();
        let mut v = Vec::new_in(&M_RUST);
        for i in 0..50 {
            v.try_push(Line(i), Flags::WAITOK).unwrap();
            assert_eq!(v.as_ptr() as usize % 64, 0);
        }
        assert!(v.iter().enumerate().all(|(i, l)| l.0 as usize == i));
    }
}

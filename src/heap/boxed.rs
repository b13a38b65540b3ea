//! [`KBox`]: a fallible, flag-aware box.

use super::{M_RUST, raw};
use crate::errno::{ENOMEM, Errno};
use crate::kernel::Kernel;
use crate::malloc::{Flags, MallocType};
use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};
use freebsd_kpi::kpi::Kpi;

/// An owned heap value allocated with malloc(9) flags chosen per call.
///
/// Unlike `alloc::boxed::Box`, allocation failure is an `Err(ENOMEM)`, never an abort, so
/// with [`Flags::NOWAIT`] `KBox` can be used where sleeping is forbidden but malloc(9) is
/// allowed: with a sleep mutex held, in an ithread or callout handler. Creating or
/// dropping a `KBox` calls malloc(9)/free(9), which must never happen in an interrupt
/// filter, in a critical section or with a spin mutex held, whatever the flags (see
/// [`Flags`](crate::malloc::Flags#where-malloc9-may-be-called)).
///
/// ```no_run
/// use freebsd_kmi::heap::KBox;
/// use freebsd_kmi::malloc::Flags;
/// # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
/// let b = KBox::try_new([0u8; 64], Flags::NOWAIT)?;
/// assert_eq!(b.len(), 64);
/// # Ok(()) }
/// ```
pub struct KBox<T, K: Kpi = Kernel> {
    ptr: NonNull<T>,
    ty: &'static MallocType,
    owns: PhantomData<T>,
    kernel: PhantomData<fn() -> K>,
}

// SAFETY: KBox owns its T like Box does.
unsafe impl<T: Send, K: Kpi> Send for KBox<T, K> {}
// SAFETY: shared access only hands out &T.
unsafe impl<T: Sync, K: Kpi> Sync for KBox<T, K> {}

impl<T> KBox<T> {
    /// Moves `value` to the heap, charged to [`M_RUST`](super::M_RUST).
    pub fn try_new(value: T, flags: Flags) -> Result<Self, Errno> {
        Self::try_new_in(value, flags, &M_RUST)
    }
}

impl<T, K: Kpi> KBox<T, K> {
    /// Moves `value` to the heap, charged to `ty`. Fails with `EINVAL` for invalid flags and
    /// `ENOMEM` when a `NOWAIT` allocation fails; `value` is dropped in both cases.
    pub fn try_new_in(value: T, flags: Flags, ty: &'static MallocType) -> Result<Self, Errno> {
        let flags = flags.validate()?;
        let layout = Layout::new::<T>();
        let ptr = if layout.size() == 0 {
            NonNull::dangling()
        } else {
            // SAFETY: the size is not zero. An unregistered type gives null (ENOMEM).
            let p = unsafe { raw::allocate::<K>(layout, ty, flags) };
            NonNull::new(p.cast::<T>()).ok_or(ENOMEM)?
        };
        // SAFETY: `ptr` is valid for writes of a T (fresh allocation, or dangling for a ZST).
        unsafe { ptr.as_ptr().write(value) };
        Ok(KBox { ptr, ty, owns: PhantomData, kernel: PhantomData })
    }

    /// The malloc type the value is charged to.
    pub fn malloc_type(this: &Self) -> &'static MallocType {
        this.ty
    }

    /// Gives up ownership: the raw pointer and its malloc type. Rebuild with
    /// [`KBox::from_raw`] to free it.
    pub fn into_raw(this: Self) -> (*mut T, &'static MallocType) {
        let this = ManuallyDrop::new(this);
        (this.ptr.as_ptr(), this.ty)
    }

    /// Takes back ownership of a pointer from [`KBox::into_raw`].
    ///
    /// # Safety
    /// `ptr` and `ty` came from `into_raw` of a `KBox<T, K>` and are used once.
    pub unsafe fn from_raw(ptr: *mut T, ty: &'static MallocType) -> Self {
        // SAFETY: the caller passes a pointer from into_raw, which is non-null.
        let ptr = unsafe { NonNull::new_unchecked(ptr) };
        KBox { ptr, ty, owns: PhantomData, kernel: PhantomData }
    }

    /// Moves the value out, freeing the allocation.
    pub fn into_inner(this: Self) -> T {
        let (p, ty) = Self::into_raw(this);
        // SAFETY: `p` holds an initialised T that nothing else owns now.
        let value = unsafe { ptr::read(p) };
        if size_of::<T>() != 0 {
            // SAFETY: `p` is the live allocation from `ty`; its value was moved out.
            unsafe { raw::deallocate::<K>(p.cast(), ty) };
        }
        value
    }
}

impl<T, K: Kpi> Drop for KBox<T, K> {
    fn drop(&mut self) {
        // SAFETY: the box owns an initialised T and its allocation (none for a ZST).
        unsafe {
            ptr::drop_in_place(self.ptr.as_ptr());
            if size_of::<T>() != 0 {
                raw::deallocate::<K>(self.ptr.as_ptr().cast(), self.ty);
            }
        }
    }
}

impl<T, K: Kpi> Deref for KBox<T, K> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the pointer is valid and initialised while the box lives.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T, K: Kpi> DerefMut for KBox<T, K> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; &mut self gives exclusive access.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T: fmt::Debug, K: Kpi> fmt::Debug for KBox<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EINVAL;
    use crate::mock::{self, MockKernel};
    use std::rc::Rc;

    type Box<T> = KBox<T, MockKernel>;

    #[test]
    fn allocates_and_frees() {
        mock::reset();
        let b = Box::try_new_in([1u64, 2, 3], Flags::WAITOK, &M_RUST).unwrap();
        assert_eq!(*b, [1, 2, 3]);
        assert_eq!(mock::with(|s| s.live.len()), 1);
        drop(b);
        assert!(mock::with(|s| s.live.is_empty()));
    }

    #[test]
    fn nowait_failure_is_enomem_and_drops_the_value() {
        mock::reset();
        let rc = Rc::new(());
        mock::with(|s| s.fail_nowait = 1);
        let r = Box::try_new_in(rc.clone(), Flags::NOWAIT, &M_RUST);
        assert_eq!(r.err(), Some(ENOMEM));
        assert_eq!(Rc::strong_count(&rc), 1, "the value was dropped, not leaked");
        assert!(mock::with(|s| s.live.is_empty()));
    }

    #[test]
    fn unregistered_type_is_enomem() {
        mock::reset();
        crate::malloc_define!(M_UNREG, "unreg", "its SYSINIT never runs on the host");
        assert_eq!(Box::try_new_in(7u64, Flags::WAITOK, &M_UNREG).err(), Some(ENOMEM));
        let mut v = crate::heap::KVec::<u8, MockKernel>::new_in(&M_UNREG);
        assert_eq!(v.try_push(1, Flags::NOWAIT), Err(ENOMEM));
        assert!(mock::with(|s| s.calls.is_empty()), "malloc(9) never saw the type");
    }

    #[test]
    fn invalid_flags_are_einval() {
        mock::reset();
        assert_eq!(Box::try_new_in(1, Flags::WAITOK | Flags::NOWAIT, &M_RUST).err(), Some(EINVAL));
        assert_eq!(Box::try_new_in(1, Flags::ZERO, &M_RUST).err(), Some(EINVAL));
        assert_eq!(Box::try_new_in(1, Flags::WAITOK | Flags::USE_RESERVE, &M_RUST).err(), Some(EINVAL));
        assert!(mock::with(|s| s.calls.is_empty()));
    }

    #[test]
    fn zero_sized_values_do_not_allocate() {
        mock::reset();
        let b = Box::try_new_in((), Flags::NOWAIT, &M_RUST).unwrap();
        drop(b);
        assert!(mock::with(|s| s.calls.is_empty()));
    }

    #[test]
    fn over_aligned_values_are_aligned() {
        #[repr(align(256))]
        struct Big(u8);
        mock::reset();
        let b = Box::try_new_in(Big(5), Flags::WAITOK, &M_RUST).unwrap();
        assert_eq!(&*b as *const Big as usize % 256, 0);
        assert_eq!(b.0, 5);
    }

    #[test]
    fn into_inner_and_raw_round_trip() {
        mock::reset();
        let b = Box::try_new_in(String::from("x"), Flags::WAITOK, &M_RUST).unwrap();
        let (p, ty) = Box::into_raw(b);
        // SAFETY: straight from into_raw.
        let b = unsafe { Box::from_raw(p, ty) };
        assert_eq!(Box::into_inner(b), "x");
        assert!(mock::with(|s| s.live.is_empty()));
    }
}

//! The thread a callback runs for: [`Caller`], its privileges ([`Caller::priv_check`]) and
//! its user memory ([`UserSlice`]: copyin/copyout).
//!
//! One type for every callback that runs on behalf of a user thread: device methods get it
//! as an argument ([`crate::cdev::CharDevice`]), sysctl handlers from their request
//! ([`crate::sysctl::Request::caller`], `struct sysctl_req`'s `td`). It is also
//! re-exported as `freebsd_kmi::cdev::{Caller, Privilege, ...}`.
//!
//! # Contexts
//!
//! [`Caller::priv_check`] **does not sleep**: sys/kern/kern_priv.c `priv_check()` asserts
//! `td == curthread` and returns `priv_check_cred(td->td_ucred, priv)`, which evaluates the
//! MAC policies, `prison_priv_check()` and the superuser policy on the credential and takes
//! no sleepable lock. It may be called with a [`Mutex`](crate::sync::Mutex) held, inside
//! the callback that handed out the `Caller`. The [`UserSlice`] copies may sleep.

use crate::errno::{EFAULT, Errno, to_result};
use crate::kernel::Kernel;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use freebsd_kpi::common::kthread::thread;
use freebsd_kpi::common::r#priv::{PRIV_DRIVER, PRIV_IO};
use freebsd_kpi::kpi_cdev::KpiCdev;

/// Marks a value as tied to one callback call `'a` on its thread (not `Send`).
type CallMarker<'a, K> = PhantomData<(&'a thread, fn() -> K, *mut ())>;

/// A privilege `priv_check` can be asked about (sys/sys/priv.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Privilege(c_int);

impl Privilege {
    /// `PRIV_DRIVER`: low-level driver privilege (the usual "root only" check).
    pub const DRIVER: Privilege = Privilege(PRIV_DRIVER);
    /// `PRIV_IO`: low-level I/O.
    pub const IO: Privilege = Privilege(PRIV_IO);

    /// The `PRIV_*` number.
    pub const fn get(self) -> c_int {
        self.0
    }
}

/// The thread that called a device method (`d_open`, `d_close`, `d_ioctl`'s `td`) or
/// made a sysctl request (`struct sysctl_req`'s `td`, [`crate::sysctl::Request::caller`]):
/// the user process's thread (or, for in-kernel requests, the kernel thread that made
/// them), whose credential decides what it may do.
///
/// Lives for the duration of the call and stays on its thread (not `Send`), so
/// `priv_check` is always asked about the calling thread's credential. A module never
/// reads `struct thread` or `struct ucred` fields (their offsets move between releases).
///
/// It cannot leave its thread:
///
/// ```compile_fail
/// fn keep(c: freebsd_kmi::cdev::Caller<'static>) {
///     fn send<T: Send>(_: T) {}
///     send(c); // not Send: priv_check must ask about the calling thread
/// }
/// ```
///
/// # Invariants
/// `td` is the calling thread (curthread) of the current device method or sysctl handler
/// call, for `'a`.
pub struct Caller<'a, K: KpiCdev = Kernel> {
    td: *mut thread,
    call: CallMarker<'a, K>,
}

impl<'a, K: KpiCdev> Caller<'a, K> {
    /// # Safety
    /// `td` is the `td` argument of the current device method, or the `td` of the request of
    /// the current sysctl handler call: curthread, for `'a`.
    pub(crate) unsafe fn new(td: *mut thread) -> Self {
        // INVARIANT: guaranteed by the caller.
        Caller { td, call: PhantomData }
    }

    /// `priv_check(td, privilege)`: `Ok` when the caller holds it; `Err(EPERM)` otherwise
    /// (non-root; jailed root for [`Privilege::DRIVER`] and [`Privilege::IO`],
    /// sys/kern/kern_priv.c). Does not sleep (see the [module docs](self#contexts)): may be
    /// called with a mutex held.
    pub fn priv_check(&self, privilege: Privilege) -> Result<(), Errno> {
        // SAFETY: `td` is the calling thread (invariant).
        to_result(unsafe { K::priv_check(self.td, privilege.0) })
    }

    /// The caller's memory at `addr..addr + len` (a user pointer found in an ioctl
    /// argument), for [`UserSlice::reader`]/[`UserSlice::writer`]. Nothing is checked
    /// here: copyin/copyout check every access and answer EFAULT.
    pub fn user_slice(&self, addr: usize, len: usize) -> UserSlice<'a, K> {
        // INVARIANT: the caller's address space, used during this call only.
        UserSlice { addr, len, call: PhantomData }
    }
}

/// A range of the calling process's memory, usable during the callback only.
///
/// # Invariants
/// Belongs to the address space of the thread of the current callback, which is the
/// only thread using it (not `Send`).
pub struct UserSlice<'a, K: KpiCdev = Kernel> {
    addr: usize,
    len: usize,
    call: CallMarker<'a, K>,
}

impl<'a, K: KpiCdev> UserSlice<'a, K> {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the range from the start (copyin).
    pub fn reader(self) -> UserSliceReader<'a, K> {
        UserSliceReader { slice: self }
    }

    /// Writes the range from the start (copyout).
    pub fn writer(self) -> UserSliceWriter<'a, K> {
        UserSliceWriter { slice: self }
    }
}

/// Reads user memory front to back with copyin(9).
pub struct UserSliceReader<'a, K: KpiCdev = Kernel> {
    slice: UserSlice<'a, K>,
}

impl<K: KpiCdev> UserSliceReader<'_, K> {
    /// Bytes left.
    pub fn len(&self) -> usize {
        self.slice.len
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.slice.len == 0
    }

    /// Fills all of `buf` from the next `buf.len()` user bytes: `Err(EFAULT)` when the
    /// range is shorter than `buf` or unmapped. **May sleep** (page faults): never with a
    /// mutex held.
    pub fn read_slice(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.len() > self.slice.len {
            return Err(EFAULT);
        }
        // SAFETY: `buf` is valid for `buf.len()` bytes of writes; the user address belongs
        // to the calling thread (UserSlice invariant); copyin checks it.
        to_result(unsafe { K::copyin(self.slice.addr as *const c_void, buf.as_mut_ptr().cast(), buf.len()) })?;
        self.slice.addr += buf.len();
        self.slice.len -= buf.len();
        Ok(())
    }
}

/// Writes user memory front to back with copyout(9).
pub struct UserSliceWriter<'a, K: KpiCdev = Kernel> {
    slice: UserSlice<'a, K>,
}

impl<K: KpiCdev> UserSliceWriter<'_, K> {
    /// Bytes left.
    pub fn len(&self) -> usize {
        self.slice.len
    }

    /// Whether everything was written.
    pub fn is_empty(&self) -> bool {
        self.slice.len == 0
    }

    /// Copies all of `data` to the next `data.len()` user bytes: `Err(EFAULT)` when the
    /// range is shorter or unmapped. **May sleep**: never with a mutex held.
    pub fn write_slice(&mut self, data: &[u8]) -> Result<(), Errno> {
        if data.len() > self.slice.len {
            return Err(EFAULT);
        }
        // SAFETY: `data` is valid for reads; the user address belongs to the calling
        // thread (UserSlice invariant); copyout checks it.
        to_result(unsafe { K::copyout(data.as_ptr().cast(), self.slice.addr as *mut c_void, data.len()) })?;
        self.slice.addr += data.len();
        self.slice.len -= data.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EPERM;
    use crate::mock::MockKernel;

    #[test]
    fn priv_check_asks_about_the_calling_thread() {
        let mut t = [0u64; 4];
        // SAFETY: stands for the calling thread (the mock only tests for null).
        let root = unsafe { Caller::<MockKernel>::new(t.as_mut_ptr().cast()) };
        assert_eq!(root.priv_check(Privilege::DRIVER), Ok(()));
        // SAFETY: as above: null is the mock's unprivileged thread.
        let user = unsafe { Caller::<MockKernel>::new(core::ptr::null_mut()) };
        assert_eq!(user.priv_check(Privilege::DRIVER), Err(EPERM));
        assert_eq!((Privilege::DRIVER.get(), Privilege::IO.get()), (14, 12));
    }

    #[test]
    fn user_slices_read_and_write_front_to_back_and_fault() {
        // SAFETY: any non-null td for the mock.
        let caller = unsafe { Caller::<MockKernel>::new(core::ptr::dangling_mut()) };
        let mut user = *b"hello world";
        let mut r = caller.user_slice(user.as_ptr() as usize, user.len()).reader();
        let mut a = [0u8; 5];
        r.read_slice(&mut a).unwrap();
        assert_eq!((&a, r.len()), (b"hello", 6));
        let mut b = [0u8; 7];
        assert_eq!(r.read_slice(&mut b), Err(EFAULT), "longer than what is left");
        let mut w = caller.user_slice(user.as_mut_ptr() as usize, user.len()).writer();
        w.write_slice(b"HELLO").unwrap();
        w.write_slice(b" WORLD").unwrap();
        assert!(w.is_empty());
        assert_eq!(w.write_slice(b"!"), Err(EFAULT));
        assert_eq!(&user, b"HELLO WORLD");
        let mut bad = caller.user_slice(0x10, 4).reader();
        assert_eq!(bad.read_slice(&mut [0u8; 4]), Err(EFAULT), "unmapped");
    }
}

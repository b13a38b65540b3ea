//! The handlers the kernel calls (`int (*)(SYSCTL_HANDLER_ARGS)`), one generic trampoline
//! per kind of leaf, and [`Request`], the safe view of `struct sysctl_req`.

use super::value::{Opaque, Scalar, StringBuf};
use crate::caller::Caller;
use freebsd_kpi::kpi_cdev::KpiCdev;
use crate::errno::{EINVAL, EPERM, Errno};
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use freebsd_kpi::common::sysctl::{intmax_t, sysctl_req};
use freebsd_kpi::selected::sysctl_oid;

/// `int (*)(SYSCTL_HANDLER_ARGS)`, as `sysctl_add_oid` takes it.
pub(super) type RawHandler = Option<unsafe extern "C" fn(*mut sysctl_oid, *mut c_void, intmax_t, *mut sysctl_req) -> c_int>;

/// The request a handler serves (`struct sysctl_req`): who asks, where the old value goes
/// (`SYSCTL_OUT`) and where a new value comes from (`SYSCTL_IN`).
///
/// Only valid during the handler call (the lifetime ties it to the call).
///
/// # Invariants
///
/// `raw` points to the kernel's request for the handler call in progress, which only this
/// thread uses until the handler returns.
pub struct Request<'a> {
    raw: *mut sysctl_req,
    _call: PhantomData<&'a mut sysctl_req>,
}

impl Request<'_> {
    /// # Safety
    /// `raw` is the request of the handler call in progress on this thread.
    unsafe fn new(raw: *mut sysctl_req) -> Self {
        // INVARIANT: as the caller guarantees.
        Request { raw, _call: PhantomData }
    }

    fn get(&self) -> &sysctl_req {
        // SAFETY: # Invariants: valid for the call; fields are only changed by the kernel
        // functions this thread calls through `self`.
        unsafe { &*self.raw }
    }

    /// The thread that made the request (`req->td`): the `sysctl` process's thread, or the
    /// kernel thread of an in-kernel request (a tunable being loaded, `kernel_sysctl`).
    /// Ask it [`Caller::priv_check`] in the handler: e.g. refuse a write unless
    /// `req.caller().priv_check(Privilege::DRIVER)` passes, on an oid with
    /// [`Flags::ANYBODY`](super::Flags::ANYBODY) (without it, the kernel already refuses
    /// writes from non-root before calling the handler). `priv_check` does not sleep
    /// (sys/kern/kern_priv.c, see [`crate::caller`]): it may be called with a mutex held.
    pub fn caller(&self) -> Caller<'_> {
        self.caller_as::<crate::kernel::Kernel>()
    }

    /// [`Request::caller`] over any [`KpiCdev`] (the mock in unit tests).
    fn caller_as<K: KpiCdev>(&self) -> Caller<'_, K> {
        // SAFETY: `req->td` (FACTS.md section 6: offset 0) is curthread for every request:
        // sys/kern/kern_sysctl.c `userland_sysctl(td, ...)` sets `req.td = td` for the
        // calling thread of `__sysctl(2)`, `kernel_sysctl()` and
        // `sysctl_load_tunable_by_oid_locked()` set `req.td = curthread`; the request (and
        // so the `Caller`, which borrows `self`) lives only for this handler call.
        unsafe { Caller::new(self.get().td.cast()) }
    }

    /// The caller wants the old value (`req->oldptr != NULL`); `false` when it only asks
    /// for its size (sysctl(8) asks for the size first) or only writes.
    pub fn is_read(&self) -> bool {
        !self.get().oldptr.is_null()
    }

    /// The request carries a new value (`req->newptr != NULL`).
    pub fn has_new_value(&self) -> bool {
        !self.get().newptr.is_null()
    }

    /// Bytes of the new value not consumed yet (`newlen - newidx`).
    pub fn new_len(&self) -> usize {
        let r = self.get();
        r.newlen.saturating_sub(r.newidx)
    }

    /// `SYSCTL_OUT(req, bytes, len)`: appends `bytes` to the old value. A short (or absent)
    /// buffer still counts the length, so the caller learns the size it needs: `ENOMEM`
    /// when the buffer is too small. **May sleep** (copyout to user memory) unless the
    /// buffer was wired with [`Request::wire_old_buffer`]: do not hold a
    /// [`Mutex`](crate::sync::Mutex) guard across it.
    pub fn output(&self, bytes: &[u8]) -> Result<(), Errno> {
        // SAFETY: `bytes` is valid for reads of its length; SYSCTL_OUT only reads it.
        unsafe { self.output_raw(bytes.as_ptr().cast(), bytes.len()) }
    }

    /// # Safety
    /// `p` is valid for reads of `len` bytes.
    pub(super) unsafe fn output_raw(&self, p: *const c_void, len: usize) -> Result<(), Errno> {
        let Some(f) = self.get().oldfunc else { return Err(EINVAL) };
        // SAFETY: the kernel's oldfunc of this request, with the request and a readable
        // buffer.
        crate::errno::to_result(unsafe { f(self.raw, p, len) })
    }

    /// `SYSCTL_IN(req, buf, len)`: fills `buf` from the new value; `EINVAL` when fewer
    /// than `buf.len()` bytes remain. **May sleep** (copyin).
    pub fn input(&self, buf: &mut [u8]) -> Result<(), Errno> {
        let Some(f) = self.get().newfunc else { return Err(EINVAL) };
        // SAFETY: the kernel's newfunc of this request, writing at most `buf.len()` bytes
        // into the exclusive buffer.
        crate::errno::to_result(unsafe { f(self.raw, buf.as_mut_ptr().cast(), buf.len()) })
    }

    /// `sysctl_wire_old_buffer(req, len)`: wires (up to `len` bytes of, 0: all of) the
    /// caller's old buffer, so that later [`Request::output`]s do not fault: then they may
    /// be called with a sleep mutex held. **Sleeps**: call it before locking.
    pub fn wire_old_buffer(&self, len: usize) -> Result<(), Errno> {
        crate::errno::to_result(sys::wire_old_buffer(self.raw, len))
    }
}

/// The `arg1` of a scalar leaf.
pub(super) struct ScalarLeaf<T, V, G, S> {
    pub(super) data: *const T,
    pub(super) get: G,
    pub(super) set: S,
    pub(super) _v: PhantomData<fn(V) -> V>,
}

// SAFETY: `data` points at the context's `T: Sync`; the closures are Send + Sync.
unsafe impl<T: Sync, V, G: Send, S: Send> Send for ScalarLeaf<T, V, G, S> {}
// SAFETY: as above.
unsafe impl<T: Sync, V, G: Sync, S: Sync> Sync for ScalarLeaf<T, V, G, S> {}

/// The setter of a read-only leaf: the kernel refuses user writes to an oid without
/// `CTLFLAG_WR` before calling the handler (`EPERM`), so only a kernel-internal write
/// reaches this.
pub(super) fn refuse<T, V>(_: &T, _: V) -> Result<(), Errno> {
    Err(EPERM)
}

/// The setter of a read-only string leaf.
pub(super) fn refuse_string<T, const N: usize>(_: &T, _: &StringBuf<N>) -> Result<(), Errno> {
    Err(EPERM)
}

/// Maps a setter's result to the handler's return value.
fn errno(r: Result<(), Errno>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.get(),
    }
}

/// The handler of a scalar leaf: the pattern of C handlers around `sysctl_handle_int`
/// (copy the value, let the kernel's handler do `SYSCTL_OUT`/`SYSCTL_IN` on the copy,
/// validate and store a new value).
///
/// # Safety
/// Called by the kernel for an oid added by `SysctlCtx::add_scalar`: `arg1` is its live
/// `ScalarLeaf<T, V, G, S>`, `req` the request in progress.
pub(super) unsafe extern "C" fn scalar<T, V, G, S>(oidp: *mut sysctl_oid, arg1: *mut c_void, _arg2: intmax_t, req: *mut sysctl_req) -> c_int
where
    V: Scalar,
    G: Fn(&T, &Request<'_>) -> V,
    S: Fn(&T, V) -> Result<(), Errno>,
{
    // SAFETY: `arg1` is the leaf, alive while the oid is registered (SysctlCtx # Invariants).
    let leaf = unsafe { &*arg1.cast::<ScalarLeaf<T, V, G, S>>() };
    // SAFETY: the leaf's `data` is the context's `T`, which outlives the oid.
    let data = unsafe { &*leaf.data };
    // SAFETY: the kernel passes the request of this call.
    let r = unsafe { Request::new(req) };
    let mut v = (leaf.get)(data, &r);
    // SAFETY: `v` is a local of the handler's type; the kernel handler reads and writes it.
    let error = unsafe { V::handle(oidp, &mut v, req) };
    if error != 0 || !r.has_new_value() {
        return error;
    }
    errno((leaf.set)(data, v))
}

/// The `arg1` of a string leaf.
pub(super) struct StringLeaf<T, const N: usize, G, S> {
    pub(super) data: *const T,
    pub(super) get: G,
    pub(super) set: S,
}

// SAFETY: as for ScalarLeaf.
unsafe impl<T: Sync, const N: usize, G: Send, S: Send> Send for StringLeaf<T, N, G, S> {}
// SAFETY: as for ScalarLeaf.
unsafe impl<T: Sync, const N: usize, G: Sync, S: Sync> Sync for StringLeaf<T, N, G, S> {}

/// The handler of a string leaf, following kern_sysctl.c's `sysctl_handle_string` for a
/// writable string of `N` bytes: out goes the string and its NUL; a new value of `N` bytes
/// or more is `EINVAL`, an empty one clears the string.
///
/// # Safety
/// As [`scalar`], for a `StringLeaf<T, N, G, S>`.
pub(super) unsafe extern "C" fn string<T, const N: usize, G, S>(_oidp: *mut sysctl_oid, arg1: *mut c_void, _arg2: intmax_t, req: *mut sysctl_req) -> c_int
where
    G: Fn(&T) -> StringBuf<N>,
    S: Fn(&T, &StringBuf<N>) -> Result<(), Errno>,
{
    // SAFETY: as in `scalar`.
    let leaf = unsafe { &*arg1.cast::<StringLeaf<T, N, G, S>>() };
    // SAFETY: as in `scalar`.
    let data = unsafe { &*leaf.data };
    // SAFETY: as in `scalar`.
    let r = unsafe { Request::new(req) };
    let current = (leaf.get)(data);
    if let Err(e) = r.output(current.with_nul()) {
        return e.get();
    }
    if !r.has_new_value() {
        return 0;
    }
    let n = r.new_len();
    if n >= N {
        return EINVAL.get();
    }
    let mut new = StringBuf::<N>::new();
    if n > 0 {
        if let Err(e) = r.input(new.prefix_mut(n)) {
            return e.get();
        }
        new.terminate(n);
    }
    errno((leaf.set)(data, &new))
}

/// The `arg1` of an opaque leaf.
pub(super) struct OpaqueLeaf<T, D, G> {
    pub(super) data: *const T,
    pub(super) get: G,
    pub(super) _d: PhantomData<fn() -> D>,
}

// SAFETY: as for ScalarLeaf.
unsafe impl<T: Sync, D, G: Send> Send for OpaqueLeaf<T, D, G> {}
// SAFETY: as for ScalarLeaf.
unsafe impl<T: Sync, D, G: Sync> Sync for OpaqueLeaf<T, D, G> {}

/// The handler of a read-only opaque leaf (`sysctl_handle_opaque` on a copy).
///
/// # Safety
/// As [`scalar`], for an `OpaqueLeaf<T, D, G>`.
pub(super) unsafe extern "C" fn opaque<T, D, G>(oidp: *mut sysctl_oid, arg1: *mut c_void, _arg2: intmax_t, req: *mut sysctl_req) -> c_int
where
    D: Opaque,
    G: Fn(&T) -> D,
{
    // SAFETY: as in `scalar`.
    let leaf = unsafe { &*arg1.cast::<OpaqueLeaf<T, D, G>>() };
    // SAFETY: as in `scalar`.
    let data = unsafe { &*leaf.data };
    // SAFETY: as in `scalar`.
    let r = unsafe { Request::new(req) };
    if r.has_new_value() {
        return EPERM.get();
    }
    let mut v = (leaf.get)(data);
    // SAFETY: `v` is a local `D` (every byte initialised, `Opaque`); with no new value the
    // kernel handler only reads it.
    unsafe { sys::handle_opaque(oidp, (&raw mut v).cast(), size_of::<D>() as intmax_t, req) }
}

/// The `arg1` of a leaf with its own handler.
pub(super) struct ProcLeaf<T, H> {
    pub(super) data: *const T,
    pub(super) handler: H,
}

// SAFETY: as for ScalarLeaf.
unsafe impl<T: Sync, H: Send> Send for ProcLeaf<T, H> {}
// SAFETY: as for ScalarLeaf.
unsafe impl<T: Sync, H: Sync> Sync for ProcLeaf<T, H> {}

/// The handler of an `add_proc` leaf.
///
/// # Safety
/// As [`scalar`], for a `ProcLeaf<T, H>`.
pub(super) unsafe extern "C" fn proc_<T, H>(_oidp: *mut sysctl_oid, arg1: *mut c_void, _arg2: intmax_t, req: *mut sysctl_req) -> c_int
where
    H: Fn(&T, &Request<'_>) -> Result<(), Errno>,
{
    // SAFETY: as in `scalar`.
    let leaf = unsafe { &*arg1.cast::<ProcLeaf<T, H>>() };
    // SAFETY: as in `scalar`.
    let data = unsafe { &*leaf.data };
    // SAFETY: as in `scalar`.
    let r = unsafe { Request::new(req) };
    errno((leaf.handler)(data, &r))
}

/// The kernel functions, or (host builds) a panic.
pub(super) mod sys {
    use super::*;

    #[cfg(kernel)]
    pub(in crate::sysctl) fn wire_old_buffer(req: *mut sysctl_req, len: usize) -> c_int {
        // SAFETY: `req` is the request in progress (Request # Invariants).
        unsafe { freebsd_kpi::common::sysctl::sysctl_wire_old_buffer(req, len) }
    }
    #[cfg(kernel)]
    pub(in crate::sysctl) unsafe fn handle_opaque(oidp: *mut sysctl_oid, p: *mut c_void, len: intmax_t, req: *mut sysctl_req) -> c_int {
        // SAFETY: forwarded.
        unsafe { freebsd_kpi::selected::sysctl_handle_opaque(oidp, p, len, req) }
    }
    #[cfg(not(kernel))]
    pub(in crate::sysctl) fn wire_old_buffer(_: *mut sysctl_req, _: usize) -> c_int {
        crate::linker_set::host_sysinit("sysctl_wire_old_buffer")
    }
    #[cfg(not(kernel))]
    pub(in crate::sysctl) unsafe fn handle_opaque(_: *mut sysctl_oid, _: *mut c_void, _: intmax_t, _: *mut sysctl_req) -> c_int {
        crate::linker_set::host_sysinit("sysctl_handle_opaque")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Privilege;
    use crate::mock::MockKernel;

    #[test]
    fn the_caller_is_the_requests_thread() {
        let mut thread = [0u64; 4];
        // SAFETY: `sysctl_req` is plain data (pointers, integers, `Option<fn>`): all zeroes
        // is a valid value (null pointers, `None` functions).
        let mut raw: sysctl_req = unsafe { core::mem::zeroed() };
        raw.td = thread.as_mut_ptr().cast();
        // SAFETY: a request only this test uses; the mock's priv_check only tests `td` for null.
        let root = unsafe { Request::new(&raw mut raw) };
        assert_eq!(root.caller_as::<MockKernel>().priv_check(Privilege::DRIVER), Ok(()));
        // SAFETY: as above.
        let mut raw: sysctl_req = unsafe { core::mem::zeroed() };
        raw.td = core::ptr::null_mut();
        // SAFETY: as above; null is the mock's unprivileged thread.
        let user = unsafe { Request::new(&raw mut raw) };
        assert_eq!(user.caller_as::<MockKernel>().priv_check(Privilege::DRIVER), Err(EPERM));
    }
}

//! sysctl(9) and tunables: typed knobs and counters a module exposes, static and dynamic.
//!
//! # Dynamic sysctls: [`SysctlCtx`]
//!
//! A [`SysctlCtx<T>`] is a sysctl context (`struct sysctl_ctx_list`) that **owns** the data
//! `T` its handlers use. Keep it in the module's state: dropping it (at unload) runs
//! `sysctl_ctx_free`, which removes every oid the context created and **waits until the
//! handlers running on them have returned**; only then is `T` dropped. A handler therefore
//! never observes freed data, and no global is involved.
//!
//! - [`SysctlCtx::add_node`]: a node (`SYSCTL_ADD_NODE`) under one of the kernel's static
//!   roots ([`Root::DEBUG`], [`Root::KERN`], [`Root::HW`], ...) or under a node of the same
//!   context.
//! - [`SysctlCtx::add_ro`] / [`SysctlCtx::add_rw`]: typed leaves (`i32`, `u32`, `i64`,
//!   `u64`, `bool`, see [`Scalar`]) through the kernel's own `sysctl_handle_int` /
//!   `sysctl_handle_64` / `sysctl_handle_bool`, with the format strings `SYSCTL_ADD_INT`,
//!   `_UINT`, `_S64`, `_U64` and `_BOOL` use (`"I"`, `"IU"`, `"Q"`, `"QU"`, `"CU"`). A
//!   leaf is a getter (the current value) and, for writable leaves, a setter that validates
//!   the new value and returns an [`Errno`] to refuse it (`EINVAL` out of range).
//! - [`SysctlCtx::add_string_ro`] / [`SysctlCtx::add_string_rw`]: strings of at most `N - 1` bytes ([`StringBuf<N>`]),
//!   read-only or read-write, with `sysctl_handle_string`'s semantics (a write of `N` bytes
//!   or more is `EINVAL`).
//! - [`SysctlCtx::add_opaque`]: read-only structures (`"S,name"` formats).
//! - [`SysctlCtx::add_proc`]: a handler of your own over a [`Request`] (`SYSCTL_IN`,
//!   `SYSCTL_OUT`, `sysctl_wire_old_buffer`).
//!
//! ```no_run
//! # fn f() -> Result<(), freebsd_kmi::errno::Errno> {
//! use core::sync::atomic::{AtomicI32, Ordering};
//! use freebsd_kmi::errno::EINVAL;
//! use freebsd_kmi::sysctl::{Flags, Root, SysctlCtx};
//!
//! struct Knobs { level: AtomicI32 }
//!
//! let mut ctx = SysctlCtx::new(Knobs { level: AtomicI32::new(0) })?;
//! let node = ctx.add_node(Root::DEBUG, c"mydrv", c"my driver")?;
//! ctx.add_rw(node, c"level", Flags::empty(), c"verbosity, 0..=3",
//!     |k: &Knobs, _req| k.level.load(Ordering::Relaxed),
//!     |k: &Knobs, v: i32| {
//!         if !(0..=3).contains(&v) { return Err(EINVAL); }
//!         k.level.store(v, Ordering::Relaxed);
//!         Ok(())
//!     })?;
//! // keep `ctx` in the module state; `ctx.data().level` is the value
//! # Ok(()) }
//! ```
//!
//! # Who may write: the permission story
//!
//! The kernel checks access before any handler runs (kern_sysctl.c, `sysctl_root`):
//! - an oid without `CTLFLAG_WR` refuses every write with `EPERM`;
//! - a write needs root (`priv_check(td, PRIV_SYSCTL_WRITE)`) unless the oid has
//!   [`Flags::ANYBODY`]: `sysctl debug.counters.value=5` as user 1001 fails with
//!   `Operation not permitted`;
//! - [`Flags::SECURE`] oids refuse writes when the securelevel is above 0, even from root;
//! - jailed processes may write only [`Flags::PRISON`] (or `VNET`) oids.
//!
//! Reads are open to everybody. The default (no flag) is the safe one: root-only writes.
//!
//! A handler with a finer rule of its own (e.g. anybody may reset a counter, only a
//! privileged thread may set it) asks the requesting thread: [`Request::caller`] gives the
//! same [`Caller`] device methods get, whose [`Caller::priv_check`] answers `EPERM` for
//! non-root and, for [`Privilege::DRIVER`]/[`Privilege::IO`], for jailed root. Such an oid
//! needs [`Flags::ANYBODY`], or the kernel refuses non-root writes before the handler runs.
//! `priv_check` does not sleep (sys/kern/kern_priv.c): it may be called with a mutex held.
//!
//! # Static sysctls: [`sysctl_static!`](crate::sysctl_static)
//!
//! A `'static` atomic published through a `struct sysctl_oid` in `set_sysctl_set` (with the
//! release's layout: 96 bytes on 13.1, 112 on 14.0 and 15.0), like C's `SYSCTL_INT`. The
//! kernel registers it when the module loads and removes it when the module unloads.
//!
//! # Tunables: [`tunable`]
//!
//! [`tunable::fetch_i32`] and friends read the kernel environment (`loader.conf`, `kenv`),
//! like `TUNABLE_INT_FETCH`. A dynamic oid with [`Flags::TUN`] also gets its value from the
//! environment variable of its full name when it is added: the kernel calls its setter
//! with that value (a read-only `RDTUN` leaf needs a setter for that write).
//!
//! # Sleeping and contexts
//!
//! - Creating a context, adding oids and dropping the context **may sleep**: call them in
//!   thread context with no lock held (module load and unload qualify). `Drop` waits for
//!   running handlers: never drop a context while holding a lock a handler takes, and never
//!   from one of its own handlers.
//! - Handlers run in the requesting thread's context (the `sysctl` process, or the kernel
//!   for tunables), may sleep and may run concurrently with each other and with the module:
//!   share data through atomics or locks in `T`. `SYSCTL_OUT`/`SYSCTL_IN` to user memory may
//!   fault and sleep: do not hold a [`Mutex`](crate::sync::Mutex) across them (copy the value
//!   out first, as the typed leaves do), or wire the buffer first with
//!   [`Request::wire_old_buffer`]. WITNESS reports a violation.

mod handler;
mod static_oid;
pub mod tunable;
mod value;

pub use crate::caller::{Caller, Privilege};
pub use handler::Request;
pub use static_oid::{StaticOid, StaticScalar};
pub use value::{Opaque, Scalar, StringBuf};

use crate::errno::{EINVAL, ENOMEM, Errno};
use crate::heap::KBox;
use crate::malloc::Flags as MallocFlags;
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_int, c_void};
use core::marker::PhantomPinned;
use core::ops::BitOr;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use freebsd_kpi::common::sysctl as raw;
use freebsd_kpi::selected::{sysctl_oid, sysctl_oid_list};

/// Access and behaviour flags of an oid (`CTLFLAG_*`), for the leaf methods of
/// [`SysctlCtx`]. The leaf methods add the type (`CTLTYPE_*`), `CTLFLAG_MPSAFE` and the
/// read/write bits themselves ([`SysctlCtx::add_ro`] is `RD`, [`SysctlCtx::add_rw`] `RW`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    /// No flag: the defaults (root-only writes, MPSAFE handler).
    pub const fn empty() -> Flags {
        Flags(0)
    }
    /// `CTLFLAG_RD`: readable (every leaf is).
    pub const RD: Flags = Flags(raw::CTLFLAG_RD);
    /// `CTLFLAG_WR`: writable.
    pub const WR: Flags = Flags(raw::CTLFLAG_WR);
    /// `CTLFLAG_RW`.
    pub const RW: Flags = Flags(raw::CTLFLAG_RW);
    /// `CTLFLAG_ANYBODY`: every user may write (default: root only).
    pub const ANYBODY: Flags = Flags(raw::CTLFLAG_ANYBODY);
    /// `CTLFLAG_SECURE`: writes refused when securelevel > 0.
    pub const SECURE: Flags = Flags(raw::CTLFLAG_SECURE);
    /// `CTLFLAG_PRISON`: jailed root may write.
    pub const PRISON: Flags = Flags(raw::CTLFLAG_PRISON);
    /// `CTLFLAG_VNET`: prisons with their own vnet may write.
    pub const VNET: Flags = Flags(raw::CTLFLAG_VNET);
    /// `CTLFLAG_SKIP`: hidden from listings.
    pub const SKIP: Flags = Flags(raw::CTLFLAG_SKIP);
    /// `CTLFLAG_TUN`: loaded from the kernel environment variable of the oid's full name
    /// when added (through the setter).
    pub const TUN: Flags = Flags(raw::CTLFLAG_TUN);
    /// `CTLFLAG_RDTUN`.
    pub const RDTUN: Flags = Flags(raw::CTLFLAG_RD | raw::CTLFLAG_TUN);
    /// `CTLFLAG_RWTUN`.
    pub const RWTUN: Flags = Flags(raw::CTLFLAG_RW | raw::CTLFLAG_TUN);
    /// `CTLFLAG_NOFETCH`: a `TUN` oid whose value the module fetched itself.
    pub const NOFETCH: Flags = Flags(raw::CTLFLAG_NOFETCH);
    /// `CTLFLAG_STATS`: statistics, not a tunable.
    pub const STATS: Flags = Flags(raw::CTLFLAG_STATS);
    /// `CTLFLAG_CAPRD`: readable in capability mode.
    pub const CAPRD: Flags = Flags(raw::CTLFLAG_CAPRD);
    /// `CTLFLAG_CAPWR`: writable in capability mode.
    pub const CAPWR: Flags = Flags(raw::CTLFLAG_CAPWR);
    /// `CTLFLAG_MPSAFE`: always set by this API (handlers are `Sync` closures).
    pub const MPSAFE: Flags = Flags(raw::CTLFLAG_MPSAFE);

    /// The `CTLFLAG_*` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits a module may pass: no type, no kernel-owned flag (`DYN`, `DYING`,
    /// `DORMANT`), no `NEEDGIANT`.
    const fn validate(self) -> Result<u32, Errno> {
        let forbidden = raw::CTLTYPE | raw::CTLFLAG_DYN | raw::CTLFLAG_DYING | raw::CTLFLAG_DORMANT | raw::CTLFLAG_NEEDGIANT;
        if self.0 & forbidden != 0 { Err(EINVAL) } else { Ok(self.0) }
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// One of the kernel's static top-level nodes (`SYSCTL_DECL(_debug)` ...; kern_mib.c's
/// `SYSCTL_ROOT_NODE`s): [`Root::DEBUG`], [`Root::KERN`], [`Root::HW`], ... A module
/// imports only the roots it uses.
#[derive(Clone, Copy)]
pub struct Root {
    name: &'static str,
    children: fn() -> *mut sysctl_oid_list,
}

macro_rules! roots {
    ($($(#[$m:meta])* $konst:ident = $name:literal, $sym:ident;)*) => {
        impl Root {
            $(
                $(#[$m])*
                pub const $konst: Root = Root {
                    name: $name,
                    // SYSCTL_STATIC_CHILDREN(_<root>): `oid_children` is at offset 0 of
                    // `struct sysctl_oid` on every release.
                    children: || (&raw const freebsd_kpi::selected::$sym).cast_mut().cast::<sysctl_oid_list>(),
                };
            )*
        }
    };
}

roots! {
    /// `kern`.
    KERN = "kern", sysctl___kern;
    /// `vm`.
    VM = "vm", sysctl___vm;
    /// `vfs`.
    VFS = "vfs", sysctl___vfs;
    /// `net`.
    NET = "net", sysctl___net;
    /// `debug`.
    DEBUG = "debug", sysctl___debug;
    /// `dev`.
    DEV = "dev", sysctl___dev;
    /// `hw`.
    HW = "hw", sysctl___hw;
    /// `machdep`.
    MACHDEP = "machdep", sysctl___machdep;
    /// `user`.
    USER = "user", sysctl___user;
    /// `security`.
    SECURITY = "security", sysctl___security;
}

impl Root {
    /// The root's name (`"debug"`).
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// `SYSCTL_STATIC_CHILDREN(_<root>)`: `&sysctl___<root>.oid_children`.
    pub fn children(self) -> *mut sysctl_oid_list {
        (self.children)()
    }
}

impl PartialEq for Root {
    fn eq(&self, other: &Root) -> bool {
        self.name == other.name
    }
}
impl Eq for Root {}

impl core::fmt::Debug for Root {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Root({})", self.name)
    }
}

/// A node created by a [`SysctlCtx`]: a parent for further oids of **that** context.
///
/// A `Node` is a plain handle; using it with another context is refused (`EINVAL`), and
/// its oid lives as long as its context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    oid: NonNull<sysctl_oid>,
    ctx: u64,
}

// SAFETY: a `Node` is an identifier; it is dereferenced only by its own context, which
// keeps the oid alive.
unsafe impl Send for Node {}
// SAFETY: as above.
unsafe impl Sync for Node {}

/// Where an oid is added: a kernel root or a node of the same context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// A static top-level node of the kernel.
    Root(Root),
    /// A node of the context the oid is added to.
    Node(Node),
}

impl From<Root> for Parent {
    fn from(r: Root) -> Parent {
        Parent::Root(r)
    }
}

impl From<Node> for Parent {
    fn from(n: Node) -> Parent {
        Parent::Node(n)
    }
}

/// Contexts of this module that were created and not freed (see [`live_contexts`]).
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Context identities (never reused, so a [`Node`] of a dropped context matches no other).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many [`SysctlCtx`]s of this module exist (created and not dropped, or leaked with
/// `mem::forget`, or whose `sysctl_ctx_free` failed). While non-zero, the kernel may still
/// call handlers in this module's code, so `MOD_UNLOAD` answers `EBUSY`
/// ([`module!`](crate::module!)).
pub fn live_contexts() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// An allocation the context frees after `sysctl_ctx_free` (a leaf's handler data).
struct Owned {
    ptr: *mut c_void,
    free: unsafe fn(*mut c_void),
}

/// The pinned part of a context: the list head (whose address the kernel keeps in
/// `tqh_last` and in each entry), the data, and what the handlers point at.
struct Inner<T> {
    list: UnsafeCell<raw::sysctl_ctx_list>,
    data: T,
    _pin: PhantomPinned,
}

/// A sysctl context owning the data `T` of its handlers (see the [module docs](self)).
///
/// # Invariants
///
/// `inner` is a `KBox<Inner<T>>` allocation owned by this value, never moved, whose `list`
/// was initialised by `sysctl_ctx_init` and holds exactly the oids this value added. Every
/// handler argument (`arg1`) of those oids points at an allocation in `owned`, which
/// points at `inner.data`; both are freed only after `sysctl_ctx_free` returned 0 (no
/// handler runs, none can start). `LIVE` counts this value until then.
pub struct SysctlCtx<T: Send + Sync + 'static> {
    inner: NonNull<Inner<T>>,
    owned: crate::heap::KVec<Owned>,
    id: u64,
}

// SAFETY: the context may be dropped on any thread (`T: Send`); shared access gives `&T`
// (`T: Sync`); the kernel list is only touched through `&mut self` and by the kernel
// under its sysctl lock.
unsafe impl<T: Send + Sync + 'static> Send for SysctlCtx<T> {}
// SAFETY: `&SysctlCtx` only hands out `&T`.
unsafe impl<T: Send + Sync + 'static> Sync for SysctlCtx<T> {}

impl<T: Send + Sync + 'static> SysctlCtx<T> {
    /// A new, empty context owning `data` (`sysctl_ctx_init`). **May sleep** (`M_WAITOK`
    /// allocation).
    pub fn new(data: T) -> Result<Self, Errno> {
        let boxed = KBox::try_new(
            Inner { list: UnsafeCell::new(raw::sysctl_ctx_list { tqh_first: ptr::null_mut(), tqh_last: ptr::null_mut() }), data, _pin: PhantomPinned },
            MallocFlags::WAITOK,
        )?;
        let (p, _ty) = KBox::into_raw(boxed);
        // SAFETY: `p` is the fresh allocation; the list head stays at this address until
        // Drop (the box is never moved again).
        unsafe { sys::ctx_init((*p).list.get()) };
        LIVE.fetch_add(1, Ordering::AcqRel);
        // INVARIANT: `inner` initialised, empty list, counted in LIVE.
        Ok(SysctlCtx {
            // SAFETY: into_raw never gives null.
            inner: unsafe { NonNull::new_unchecked(p) },
            owned: crate::heap::KVec::new(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The data the handlers share.
    pub fn data(&self) -> &T {
        // SAFETY: `inner` is live while `self` is (# Invariants).
        unsafe { &self.inner.as_ref().data }
    }

    fn parent_list(&self, parent: Parent) -> Result<*mut sysctl_oid_list, Errno> {
        match parent {
            Parent::Root(r) => Ok(r.children()),
            Parent::Node(n) if n.ctx == self.id => Ok(n.oid.as_ptr().cast::<sysctl_oid_list>()),
            Parent::Node(_) => Err(EINVAL),
        }
    }

    /// `sysctl_add_oid` into this context.
    ///
    /// # Safety
    /// `handler` may be called with `arg1` from the moment this is called until the
    /// context is freed; `arg1` must stay valid for it that long.
    #[allow(clippy::too_many_arguments)]
    unsafe fn add_oid(
        &mut self, parent: Parent, name: &'static CStr, kind: u32, arg1: *mut c_void, arg2: i64, handler: handler::RawHandler,
        fmt: &'static CStr, descr: &'static CStr,
    ) -> Result<Node, Errno> {
        let parent = self.parent_list(parent)?;
        // SAFETY: `list` is this context's initialised head; the parent list is a kernel root
        // or a node of this context (alive); the strings are 'static; the caller keeps arg1
        // valid for the handler.
        let oid = unsafe {
            sys::add_oid(self.inner.as_ref().list.get(), parent, raw::OID_AUTO, name.as_ptr(), kind as c_int, arg1, arg2, handler, fmt.as_ptr(), descr.as_ptr())
        };
        // kern_sysctl.c sysctl_add_oid: NULL when the name exists with another type or the
        // parent is not a node (it prints why).
        NonNull::new(oid).map(|oid| Node { oid, ctx: self.id }).ok_or(EINVAL)
    }

    /// Keeps `leaf` until the context is freed and returns its address for `arg1`.
    fn own<L: Send + Sync + 'static>(&mut self, leaf: L) -> Result<*mut c_void, Errno> {
        self.owned.try_reserve(1, MallocFlags::WAITOK)?;
        let (p, _ty) = KBox::into_raw(KBox::try_new(leaf, MallocFlags::WAITOK)?);
        unsafe fn free<L>(p: *mut c_void) {
            // SAFETY: `p` came from `KBox::into_raw` of a `KBox<L>` charged to M_RUST (below).
            drop(unsafe { KBox::<L>::from_raw(p.cast(), &crate::heap::M_RUST) });
        }
        // Cannot fail: capacity reserved above.
        let _ = self.owned.try_push(Owned { ptr: p.cast(), free: free::<L> }, MallocFlags::NOWAIT);
        Ok(p.cast())
    }

    /// A node (`SYSCTL_ADD_NODE(ctx, parent, OID_AUTO, name, CTLFLAG_RD | CTLFLAG_MPSAFE,
    /// NULL, descr)`). Adding a node whose name exists as a node returns that node (as the
    /// kernel does). **May sleep.**
    pub fn add_node(&mut self, parent: impl Into<Parent>, name: &'static CStr, descr: &'static CStr) -> Result<Node, Errno> {
        let kind = raw::CTLTYPE_NODE | raw::CTLFLAG_RD | raw::CTLFLAG_MPSAFE;
        // SAFETY: a node has no handler and no argument.
        unsafe { self.add_oid(parent.into(), name, kind, ptr::null_mut(), 0, None, c"N", descr) }
    }

    /// A read-only leaf of type `V`: `get` gives the current value (it may look at the
    /// [`Request`], e.g. [`Request::is_read`]). `flags` adds to `CTLFLAG_RD |
    /// CTLFLAG_MPSAFE` (`SKIP`, `STATS`, ...); a `WR` or `TUN` flag is `EINVAL` (use
    /// [`SysctlCtx::add_rw`]). **May sleep.**
    pub fn add_ro<V, G>(&mut self, parent: impl Into<Parent>, name: &'static CStr, flags: Flags, descr: &'static CStr, get: G) -> Result<Node, Errno>
    where
        V: Scalar,
        G: Fn(&T, &Request<'_>) -> V + Send + Sync + 'static,
    {
        if flags.contains(Flags::WR) || flags.contains(Flags::TUN) {
            return Err(EINVAL);
        }
        self.add_scalar(parent.into(), name, flags | Flags::RD, descr, get, handler::refuse::<T, V>)
    }

    /// A leaf of type `V`: `get` gives the current value; `set` validates a new one and
    /// stores it, or refuses it with an errno the writer sees (`EINVAL`). `flags` adds to
    /// `CTLFLAG_MPSAFE` and defaults to `RW` when it has neither `RD` nor `WR`; `RDTUN`
    /// gives a read-only tunable whose environment value reaches `set` once, when added.
    /// **May sleep.**
    pub fn add_rw<V, G, S>(&mut self, parent: impl Into<Parent>, name: &'static CStr, flags: Flags, descr: &'static CStr, get: G, set: S) -> Result<Node, Errno>
    where
        V: Scalar,
        G: Fn(&T, &Request<'_>) -> V + Send + Sync + 'static,
        S: Fn(&T, V) -> Result<(), Errno> + Send + Sync + 'static,
    {
        let flags = if flags.bits() & raw::CTLFLAG_RW == 0 { flags | Flags::RW } else { flags };
        self.add_scalar(parent.into(), name, flags, descr, get, set)
    }

    fn add_scalar<V, G, S>(&mut self, parent: Parent, name: &'static CStr, flags: Flags, descr: &'static CStr, get: G, set: S) -> Result<Node, Errno>
    where
        V: Scalar,
        G: Fn(&T, &Request<'_>) -> V + Send + Sync + 'static,
        S: Fn(&T, V) -> Result<(), Errno> + Send + Sync + 'static,
    {
        let kind = V::CTLTYPE | raw::CTLFLAG_MPSAFE | flags.validate()?;
        let leaf = handler::ScalarLeaf::<T, V, G, S> { data: self.data_ptr(), get, set, _v: core::marker::PhantomData };
        let arg1 = self.own(leaf)?;
        // SAFETY: `arg1` is a `ScalarLeaf<T, V, G, S>` owned until the context is freed,
        // pointing at `inner.data`, which lives as long.
        unsafe { self.add_oid(parent, name, kind, arg1, 0, Some(handler::scalar::<T, V, G, S>), V::FMT, descr) }
    }

    /// A read-only string leaf (`SYSCTL_ADD_STRING` with `CTLFLAG_RD`): `get` copies the
    /// current value (at most `N - 1` bytes) out. `flags` adds to `RD | MPSAFE`; `WR` or
    /// `TUN` is `EINVAL`. **May sleep.**
    pub fn add_string_ro<const N: usize, G>(
        &mut self, parent: impl Into<Parent>, name: &'static CStr, flags: Flags, descr: &'static CStr, get: G,
    ) -> Result<Node, Errno>
    where
        G: Fn(&T) -> StringBuf<N> + Send + Sync + 'static,
    {
        if flags.contains(Flags::WR) || flags.contains(Flags::TUN) {
            return Err(EINVAL);
        }
        self.add_string(parent.into(), name, flags | Flags::RD, descr, get, handler::refuse_string::<T, N>)
    }

    /// A read-write string leaf holding at most `N - 1` bytes (C's `char buf[N]` with
    /// `SYSCTL_ADD_STRING(..., CTLFLAG_RW, buf, sizeof(buf), ...)`): `get` copies the current
    /// value out, `set` validates and stores a new one. A write of `N` bytes or more is
    /// `EINVAL` before `set` runs, as `sysctl_handle_string` does; an embedded NUL ends the
    /// string. `flags` defaults to `RW`. **May sleep.**
    pub fn add_string_rw<const N: usize, G, S>(
        &mut self, parent: impl Into<Parent>, name: &'static CStr, flags: Flags, descr: &'static CStr, get: G, set: S,
    ) -> Result<Node, Errno>
    where
        G: Fn(&T) -> StringBuf<N> + Send + Sync + 'static,
        S: Fn(&T, &StringBuf<N>) -> Result<(), Errno> + Send + Sync + 'static,
    {
        let flags = if flags.bits() & raw::CTLFLAG_RW == 0 { flags | Flags::RW } else { flags };
        self.add_string(parent.into(), name, flags, descr, get, set)
    }

    fn add_string<const N: usize, G, S>(&mut self, parent: Parent, name: &'static CStr, flags: Flags, descr: &'static CStr, get: G, set: S) -> Result<Node, Errno>
    where
        G: Fn(&T) -> StringBuf<N> + Send + Sync + 'static,
        S: Fn(&T, &StringBuf<N>) -> Result<(), Errno> + Send + Sync + 'static,
    {
        const { assert!(N >= 1 && N <= value::MAX_STRING, "StringBuf<N>: 1 <= N <= 1024") };
        let kind = raw::CTLTYPE_STRING | raw::CTLFLAG_MPSAFE | flags.validate()?;
        let leaf = handler::StringLeaf::<T, N, G, S> { data: self.data_ptr(), get, set };
        let arg1 = self.own(leaf)?;
        // SAFETY: as in `add_scalar`.
        unsafe { self.add_oid(parent, name, kind, arg1, N as i64, Some(handler::string::<T, N, G, S>), c"A", descr) }
    }

    /// A read-only structure (`SYSCTL_ADD_OPAQUE` / `SYSCTL_ADD_STRUCT`, format
    /// `"S,<type>"` for `sysctl -S`, or `"A"`...): `get` gives a copy, sent as its bytes.
    /// **May sleep.**
    pub fn add_opaque<D, G>(&mut self, parent: impl Into<Parent>, name: &'static CStr, fmt: &'static CStr, descr: &'static CStr, get: G) -> Result<Node, Errno>
    where
        D: Opaque,
        G: Fn(&T) -> D + Send + Sync + 'static,
    {
        let kind = raw::CTLTYPE_OPAQUE | raw::CTLFLAG_RD | raw::CTLFLAG_MPSAFE;
        let leaf = handler::OpaqueLeaf::<T, D, G> { data: self.data_ptr(), get, _d: core::marker::PhantomData };
        let arg1 = self.own(leaf)?;
        // SAFETY: as in `add_scalar`.
        unsafe { self.add_oid(parent.into(), name, kind, arg1, size_of::<D>() as i64, Some(handler::opaque::<T, D, G>), fmt, descr) }
    }

    /// A leaf with a handler of your own (`SYSCTL_ADD_PROC`): `kind` is a `CTLTYPE_*` value
    /// (from [`freebsd_kpi::common::sysctl`]) and `fmt` its format; the handler reads and
    /// writes through the [`Request`]. `flags` defaults to `RD`. **May sleep.**
    #[allow(clippy::too_many_arguments)]
    pub fn add_proc<H>(
        &mut self, parent: impl Into<Parent>, name: &'static CStr, ctltype: u32, flags: Flags, fmt: &'static CStr, descr: &'static CStr, handler: H,
    ) -> Result<Node, Errno>
    where
        H: Fn(&T, &Request<'_>) -> Result<(), Errno> + Send + Sync + 'static,
    {
        if ctltype == raw::CTLTYPE_NODE || ctltype & !raw::CTLTYPE != 0 || ctltype == 0 {
            return Err(EINVAL);
        }
        let mut bits = flags.validate()?;
        if bits & raw::CTLFLAG_RW == 0 {
            bits |= raw::CTLFLAG_RD;
        }
        let leaf = handler::ProcLeaf { data: self.data_ptr(), handler };
        let arg1 = self.own(leaf)?;
        // SAFETY: as in `add_scalar`.
        unsafe { self.add_oid(parent.into(), name, ctltype | raw::CTLFLAG_MPSAFE | bits, arg1, 0, Some(handler::proc_::<T, H>), fmt, descr) }
    }

    fn data_ptr(&self) -> *const T {
        self.data()
    }
}

impl<T: Send + Sync + 'static> Drop for SysctlCtx<T> {
    /// `sysctl_ctx_free`: removes the oids and **waits** until their running handlers have
    /// returned, then frees the handlers' data and `T`. Never call with a lock held that a
    /// handler may take. If the kernel refuses (`EBUSY`: another context hung an oid under
    /// one of ours), everything stays allocated and registered, and the module refuses to
    /// unload ([`live_contexts`]).
    fn drop(&mut self) {
        // SAFETY: the head was initialised by sysctl_ctx_init and holds this context's oids.
        let error = unsafe { sys::ctx_free(self.inner.as_ref().list.get()) };
        if error != 0 {
            crate::kprintln!("sysctl: sysctl_ctx_free failed ({}); the module stays loaded", error);
            // Keep everything: the oids are still registered and point at it.
            core::mem::forget(core::mem::take(&mut self.owned));
            return;
        }
        for o in self.owned.as_slice() {
            // SAFETY: each allocation was made by `own` and is freed once; no handler can
            // run any more.
            unsafe { (o.free)(o.ptr) };
        }
        // SAFETY: `inner` came from KBox::into_raw (M_RUST) in `new` and is freed once.
        drop(unsafe { KBox::<Inner<T>>::from_raw(self.inner.as_ptr(), &crate::heap::M_RUST) });
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

#[doc(hidden)]
pub const __ENOMEM: Errno = ENOMEM;

/// The kernel functions, or (host builds) a panic: nothing registers sysctls on the host.
mod sys {
    use super::*;

    #[cfg(kernel)]
    pub(super) unsafe fn ctx_init(list: *mut raw::sysctl_ctx_list) {
        // SAFETY: forwarded.
        unsafe { raw::sysctl_ctx_init(list) };
    }
    #[cfg(kernel)]
    pub(super) unsafe fn ctx_free(list: *mut raw::sysctl_ctx_list) -> c_int {
        // SAFETY: forwarded.
        unsafe { raw::sysctl_ctx_free(list) }
    }
    #[cfg(kernel)]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn add_oid(
        list: *mut raw::sysctl_ctx_list, parent: *mut sysctl_oid_list, nbr: c_int, name: *const core::ffi::c_char, kind: c_int, arg1: *mut c_void,
        arg2: i64, handler: handler::RawHandler, fmt: *const core::ffi::c_char, descr: *const core::ffi::c_char,
    ) -> *mut sysctl_oid {
        // SAFETY: forwarded.
        unsafe { freebsd_kpi::selected::sysctl_add_oid(list, parent, nbr, name, kind, arg1, arg2, handler, fmt, descr, ptr::null()) }
    }

    #[cfg(not(kernel))]
    pub(super) unsafe fn ctx_init(_: *mut raw::sysctl_ctx_list) {
        crate::linker_set::host_sysinit("sysctl_ctx_init")
    }
    #[cfg(not(kernel))]
    pub(super) unsafe fn ctx_free(_: *mut raw::sysctl_ctx_list) -> c_int {
        crate::linker_set::host_sysinit("sysctl_ctx_free")
    }
    #[cfg(not(kernel))]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn add_oid(
        _: *mut raw::sysctl_ctx_list, _: *mut sysctl_oid_list, _: c_int, _: *const core::ffi::c_char, _: c_int, _: *mut c_void, _: i64,
        _: handler::RawHandler, _: *const core::ffi::c_char, _: *const core::ffi::c_char,
    ) -> *mut sysctl_oid {
        crate::linker_set::host_sysinit("sysctl_add_oid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_compose_and_reject_kernel_bits() {
        assert_eq!((Flags::RD | Flags::WR).bits(), raw::CTLFLAG_RW);
        assert_eq!(Flags::RDTUN.bits(), 0x8008_0000);
        assert!(Flags::RWTUN.contains(Flags::TUN));
        assert_eq!(Flags::empty().validate(), Ok(0));
        assert_eq!(Flags(raw::CTLTYPE_INT).validate(), Err(EINVAL));
        assert_eq!(Flags(raw::CTLFLAG_DYN).validate(), Err(EINVAL));
        assert_eq!(Flags(raw::CTLFLAG_NEEDGIANT).validate(), Err(EINVAL));
        assert_eq!((Flags::ANYBODY | Flags::SECURE).validate(), Ok(0x1800_0000));
    }
}

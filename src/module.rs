//! The module lifecycle: [`Module`] and [`module!`](macro@crate::module).
//!
//! Implement [`Module`] for your module's state and declare it with
//! [`module!`](macro@crate::module). The macro emits what C's `DECLARE_MODULE` and
//! `MODULE_VERSION` emit, with the selected release's layouts:
//!
//! - a `moduledata_t` whose event handler maps `MOD_LOAD` to [`Module::load`],
//!   `MOD_QUIESCE` to [`Module::quiesce`], `MOD_UNLOAD` to [`Module::unload`] and then
//!   `Drop`, and `MOD_SHUTDOWN` to [`Module::shutdown`], returning errno values;
//! - `set_modmetadata_set` entries: `MDT_DEPEND` on `kernel` with
//!   `[V, V, roundup(V, 100000) - 1]` (V = the release's `__FreeBSD_version`),
//!   `MDT_MODULE`, `MDT_VERSION`, and one `MDT_DEPEND` per declared dependency;
//! - the `set_sysinit_set` entry (`SI_SUB_DRIVERS`, `SI_ORDER_MIDDLE`) that calls
//!   `module_register_init`;
//! - the name of the crate's malloc type ([`M_RUST`](crate::heap::M_RUST)): the module's.
//!
//! ```no_run
//! use freebsd_kmi::{errno::Errno, kprintln, module::Module};
//!
//! struct Hello;
//!
//! impl Module for Hello {
//!     fn load() -> Result<Self, Errno> {
//!         kprintln!("hello: loaded");
//!         Ok(Hello)
//!     }
//! }
//!
//! impl Drop for Hello {
//!     fn drop(&mut self) {
//!         kprintln!("hello: unloaded");
//!     }
//! }
//!
//! freebsd_kmi::module! {
//!     type: Hello,
//!     name: "hello",
//!     version: 1,
//! }
//! ```
//!
//! # Where the module's data lives, and how callbacks reach it
//!
//! The value [`Module::load`] returns is owned by the module's [`ModuleState`] (a static
//! the macro declares) from `MOD_LOAD` until `MOD_UNLOAD` drops it. Nothing hands out a
//! reference to it: there is no global getter, because a `&'static` to module data would
//! outlive `MOD_UNLOAD`. The kernel reaches the state only through the events, each of
//! which borrows it for the duration of the call.
//!
//! Code the kernel calls at other times (device methods, sysctl handlers, callouts and
//! taskqueues, as those APIs land) reaches module data through **registration objects the
//! state owns**: the state holds, say, a `Registration<CharDevice<Data>>` whose
//! creation in `load` registers the callback with a pointer to data the registration
//! itself owns, and whose `Drop` deregisters the callback and waits until no call of it
//! is running (`destroy_dev`, `callout_drain`, `taskqueue_drain`, `sysctl_ctx_free`).
//! Dropping the state in `MOD_UNLOAD` therefore ends every callback before the data it
//! uses is freed; a callback never outlives what it points at.
//!
//! The events themselves are not serialised by a lock Rust code could rely on
//! (kern_module.c sends them under Giant, which a sleeping handler drops), so
//! [`ModuleState`] serialises them itself: only `MOD_LOAD` and `MOD_UNLOAD` change the
//! state, with nothing else borrowing it; `MOD_QUIESCE` and `MOD_SHUTDOWN` borrow it
//! shared, and an unload that arrives while one of them runs is refused with `EBUSY`.
//!
//! # Refusing an unload
//!
//! [`Module::quiesce`] (`MOD_QUIESCE`) refuses a polite `kldunload`; `kldunload -f`
//! ignores that refusal and sends `MOD_UNLOAD` anyway (kern_linker.c,
//! `linker_file_unload` with `LINKER_UNLOAD_FORCE`). [`Module::unload`] runs at
//! `MOD_UNLOAD`, before `Drop`, and its `Err` keeps the module loaded even then, as a C
//! module returning `EBUSY` from `MOD_UNLOAD` does.

use crate::errno::{EBUSY, EEXIST, EOPNOTSUPP, Errno, from_result};
use crate::kernel::{MDT_DEPEND, MDT_MODULE, MDT_STRUCT_VERSION, MDT_VERSION, mod_depend, mod_metadata, mod_version, moduledata_t, module_t};
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_int, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

/// A kernel module's state and lifecycle.
///
/// `&self` methods may run concurrently with code your module registered (device
/// callbacks, sysctl handlers) and with each other, hence `Sync`. All of them run in a
/// sleepable context (module events come from `kldload`/`kldunload` and shutdown).
pub trait Module: Sized + Send + Sync + 'static {
    /// `MOD_LOAD`: build the module's state. An error fails the load (the kernel unloads the
    /// file); anything allocated so far is dropped, so a failed load leaves nothing behind.
    fn load() -> Result<Self, Errno>;

    /// `MOD_QUIESCE`: asked before unloading; return `Err(EBUSY)` to refuse (for example
    /// while a device is open). `kldunload -f` ignores the refusal and unloads anyway.
    /// Defaults to accepting.
    fn quiesce(&self) -> Result<(), Errno> {
        Ok(())
    }

    /// `MOD_UNLOAD`, before the state is dropped: return an error (`EBUSY`) to keep the
    /// module loaded, even on a forced unload (`kldunload -f`). On `Ok` the state is
    /// dropped (`Drop` deregisters what the module registered). Defaults to accepting.
    fn unload(&self) -> Result<(), Errno> {
        Ok(())
    }

    /// `MOD_SHUTDOWN`: the system is shutting down. Defaults to nothing.
    fn shutdown(&self) {}
}

/// The loaded instance of a [`Module`], owned by the event handler [`module!`] declares.
///
/// Events go through [`ModuleState::event`] with `&self`. Only `MOD_LOAD` and
/// `MOD_UNLOAD` write the instance, and only while nothing else borrows it; `MOD_QUIESCE`
/// and `MOD_SHUTDOWN` borrow it shared for the duration of the call. No reference to the
/// instance leaves an event.
///
/// [`module!`]: macro@crate::module
///
/// # Invariants
/// `phase` holds the phase in its low two bits and the number of shared borrows in
/// progress above them. `slot` is written only in phase `BUSY`, which is entered from
/// `EMPTY` or from `LOADED` with no shared borrow; shared borrows are taken only in phase
/// `LOADED`, where `slot` is `Some`.
pub struct ModuleState<M> {
    slot: UnsafeCell<Option<M>>,
    phase: AtomicUsize,
}

const EMPTY: usize = 0;
const BUSY: usize = 1;
const LOADED: usize = 2;
const PHASE: usize = 3;
const READER: usize = 4;

// SAFETY: the phase protocol (see # Invariants) gives writers exclusive access and readers
// only `&M`, with `M: Sync`; `M: Send` because the instance may be dropped on another
// thread than the one that built it.
unsafe impl<M: Module> Sync for ModuleState<M> {}

/// 0 when no kernel thread of this module is left, else `EBUSY`: a [`KThread`] handle was
/// leaked (`mem::forget`), so its thread may still run module code, and the module must
/// stay loaded (its state is already dropped; later unloads are refused the same way).
/// Likewise for a leaked (or unfreeable) [`SysctlCtx`]: its handlers are module code, and
/// for a leaked `Callout`, `Task`/`TimeoutTask` or `EventHandler`.
///
/// [`KThread`]: crate::thread::KThread
/// [`SysctlCtx`]: crate::sysctl::SysctlCtx
fn threads_gone() -> c_int {
    let live = crate::thread::live_threads()
        + crate::cdev::live_devices()
        + crate::callout::live_callouts()
        + crate::taskqueue::live_tasks()
        + crate::eventhandler::live_handlers()
        + crate::sysctl::live_contexts();
    if live == 0 { 0 } else { EBUSY.get() }
}

impl<M: Module> ModuleState<M> {
    /// No instance yet.
    pub const fn new() -> Self {
        ModuleState { slot: UnsafeCell::new(None), phase: AtomicUsize::new(EMPTY) }
    }

    /// Handles one module event (`modeventtype_t`), returning 0 or an errno. Safe to call
    /// concurrently: overlapping `MOD_LOAD`/`MOD_UNLOAD` get `EBUSY`.
    pub fn event(&self, what: c_int) -> c_int {
        match what {
            crate::kernel::MOD_LOAD => self.load(),
            crate::kernel::MOD_QUIESCE => from_result(self.with_shared(M::quiesce).unwrap_or(Ok(()))),
            crate::kernel::MOD_UNLOAD => self.unload(),
            crate::kernel::MOD_SHUTDOWN => {
                self.with_shared(M::shutdown);
                0
            }
            _ => EOPNOTSUPP.get(),
        }
    }

    fn load(&self) -> c_int {
        if let Err(now) = self.phase.compare_exchange(EMPTY, BUSY, Ordering::Acquire, Ordering::Relaxed) {
            return if now & PHASE == BUSY { EBUSY.get() } else { EEXIST.get() };
        }
        match M::load() {
            Ok(m) => {
                // SAFETY: phase BUSY: nothing else reads or writes the slot (# Invariants).
                unsafe { *self.slot.get() = Some(m) };
                // INVARIANT: LOADED with the slot Some.
                self.phase.store(LOADED, Ordering::Release);
                0
            }
            Err(e) => {
                self.phase.store(EMPTY, Ordering::Release);
                e.get()
            }
        }
    }

    fn unload(&self) -> c_int {
        match self.phase.compare_exchange(LOADED, BUSY, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => {}
            // Never loaded, or the load failed (the kernel sends MOD_UNLOAD then too), or an
            // earlier unload dropped the state but was refused for a leaked thread.
            Err(EMPTY) => return threads_gone(),
            // Another event is using the state (a quiesce or shutdown handler that slept).
            Err(_) => return EBUSY.get(),
        }
        // SAFETY: phase BUSY: exclusive access to the slot.
        let slot = unsafe { &mut *self.slot.get() };
        if let Some(Err(e)) = slot.as_ref().map(M::unload) {
            // INVARIANT: back to LOADED, the slot untouched.
            self.phase.store(LOADED, Ordering::Release);
            return e.get();
        }
        drop(slot.take());
        self.phase.store(EMPTY, Ordering::Release);
        threads_gone()
    }

    /// Runs `f` on a shared borrow of the instance, if loaded and not being unloaded.
    fn with_shared<R>(&self, f: impl FnOnce(&M) -> R) -> Option<R> {
        let mut now = self.phase.load(Ordering::Relaxed);
        loop {
            if now & PHASE != LOADED {
                return None;
            }
            match self.phase.compare_exchange_weak(now, now + READER, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(v) => now = v,
            }
        }
        // Ends the borrow even if `f` panics (a kernel panic does not return, but host
        // tests unwind).
        struct Release<'a>(&'a AtomicUsize);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(READER, Ordering::Release);
            }
        }
        let _release = Release(&self.phase);
        // SAFETY: phase LOADED with our borrow counted: the slot is Some and no writer runs
        // until the count drops back (# Invariants).
        let m = unsafe { (*self.slot.get()).as_ref() }?;
        Some(f(m))
    }
}

impl<M: Module> Default for ModuleState<M> {
    fn default() -> Self {
        Self::new()
    }
}

/// The event handler type of `moduledata_t`.
pub type EventHandler = unsafe extern "C" fn(module_t, c_int, *mut c_void) -> c_int;

/// A `moduledata_t` in a static.
#[repr(transparent)]
pub struct ModuleData(moduledata_t);

// SAFETY: immutable after construction; it only points at 'static data and code.
unsafe impl Sync for ModuleData {}

impl ModuleData {
    /// `{ name, evhand, NULL }`.
    pub const fn new(name: &'static CStr, evhand: EventHandler) -> Self {
        ModuleData(moduledata_t { name: name.as_ptr(), evhand: Some(evhand), priv_: core::ptr::null_mut() })
    }

    /// The raw `moduledata_t *`.
    pub const fn as_ptr(&self) -> *const moduledata_t {
        &self.0
    }
}

/// A `struct mod_metadata` in a static.
#[repr(transparent)]
pub struct Metadata(mod_metadata);

// SAFETY: immutable; it only points at 'static data.
unsafe impl Sync for Metadata {}

impl Metadata {
    /// `MODULE_DEPEND`'s entry: `{MDT_STRUCT_VERSION, MDT_DEPEND, &range, "dependency"}`.
    pub const fn depend(range: &'static mod_depend, dependency: &'static CStr) -> Self {
        Metadata(mod_metadata {
            md_version: MDT_STRUCT_VERSION,
            md_type: MDT_DEPEND,
            md_data: range as *const mod_depend as *const c_void,
            md_cval: dependency.as_ptr(),
        })
    }

    /// `DECLARE_MODULE`'s entry: `{MDT_STRUCT_VERSION, MDT_MODULE, &moduledata, "name"}`.
    pub const fn module(data: &'static ModuleData, name: &'static CStr) -> Self {
        Metadata(mod_metadata {
            md_version: MDT_STRUCT_VERSION,
            md_type: MDT_MODULE,
            md_data: data.as_ptr() as *const c_void,
            md_cval: name.as_ptr(),
        })
    }

    /// `MODULE_VERSION`'s entry: `{MDT_STRUCT_VERSION, MDT_VERSION, &version, "name"}`.
    pub const fn version(version: &'static mod_version, name: &'static CStr) -> Self {
        Metadata(mod_metadata {
            md_version: MDT_STRUCT_VERSION,
            md_type: MDT_VERSION,
            md_data: version as *const mod_version as *const c_void,
            md_cval: name.as_ptr(),
        })
    }
}

/// The kernel dependency every module carries (`DECLARE_MODULE`'s
/// `MODULE_DEPEND(name, kernel, V, V, MODULE_KERNEL_MAXVER)`).
pub const KERNEL_DEPEND: mod_depend = mod_depend {
    md_ver_minimum: crate::release::KERNEL_MIN,
    md_ver_preferred: crate::release::FREEBSD_VERSION,
    md_ver_maximum: crate::release::KERNEL_MAX,
};

/// `module_register_init` as a SYSINIT function.
#[cfg(kernel)]
pub const REGISTER_INIT: crate::linker_set::SysInitFn = crate::kernel::module_register_init;

/// `module_register_init` as a SYSINIT function (host builds: only a kernel runs it).
#[cfg(not(kernel))]
pub const REGISTER_INIT: crate::linker_set::SysInitFn = host_register_init;

#[cfg(not(kernel))]
unsafe extern "C" fn host_register_init(_data: *const c_void) {
    crate::linker_set::host_sysinit("module_register_init")
}

#[doc(hidden)]
pub const fn __name_bytes<const N: usize>(name: &CStr) -> [u8; N] {
    let bytes = name.to_bytes_with_nul();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Declares a kernel module: what C's `DECLARE_MODULE(name, moduledata, SI_SUB_DRIVERS,
/// SI_ORDER_MIDDLE)` plus `MODULE_VERSION(name, version)` and any `MODULE_DEPEND`s emit.
///
/// It also names the crate's malloc type ([`M_RUST`](crate::heap::M_RUST)) after the
/// module, through the symbol `__freebsd_kmi_module_name`: use `module!` once per `.ko`
/// (a second one is a duplicate-symbol link error).
///
/// ```no_run
/// # use freebsd_kmi::{errno::Errno, module::Module};
/// # struct MyDriver;
/// # impl Module for MyDriver { fn load() -> Result<Self, Errno> { Ok(MyDriver) } }
/// freebsd_kmi::module! {
///     type: MyDriver,          // implements freebsd_kmi::module::Module
///     name: "mydriver",
///     version: 1,              // optional, default 1
///     depends: [("otherdrv", 1, 1, 1)],  // optional: (module, min, preferred, max)
/// }
/// ```
#[macro_export]
macro_rules! module {
    (
        type: $ty:ty,
        name: $name:literal
        $(, version: $version:expr)?
        $(, depends: [ $( ($dep:literal, $min:expr, $pref:expr, $max:expr) ),* $(,)? ])?
        $(,)?
    ) => {
        const _: () = {
            use $crate::linker_set::{SetEntry, SysInit, WritableSetEntry};
            use $crate::module::{Metadata, ModuleData, ModuleState};

            static STATE: ModuleState<$ty> = ModuleState::new();

            unsafe extern "C" fn event_handler(
                _module: $crate::kernel::module_t,
                what: ::core::ffi::c_int,
                _arg: *mut ::core::ffi::c_void,
            ) -> ::core::ffi::c_int {
                STATE.event(what)
            }

            const NAME: &::core::ffi::CStr = $crate::__cstr!($name);

            // The name of the crate's malloc type (freebsd_kmi::heap::M_RUST).
            #[cfg(target_os = "none")]
            #[unsafe(export_name = "__freebsd_kmi_module_name")]
            static MODULE_NAME: [u8; NAME.to_bytes_with_nul().len()] =
                $crate::module::__name_bytes(NAME);
            static DATA: ModuleData = ModuleData::new(NAME, event_handler);

            // MODULE_DEPEND(name, kernel, V, V, MODULE_KERNEL_MAXVER)
            static KERNEL_RANGE: $crate::kernel::mod_depend = $crate::module::KERNEL_DEPEND;
            static KERNEL_MD: Metadata = Metadata::depend(&KERNEL_RANGE, c"kernel");
            #[used]
            #[unsafe(link_section = "set_modmetadata_set")]
            static KERNEL_ENTRY: SetEntry<Metadata> = SetEntry::new(&KERNEL_MD);

            // MODULE_METADATA(_md_name, MDT_MODULE, &data, "name")
            static MODULE_MD: Metadata = Metadata::module(&DATA, NAME);
            #[used]
            #[unsafe(link_section = "set_modmetadata_set")]
            static MODULE_ENTRY: SetEntry<Metadata> = SetEntry::new(&MODULE_MD);

            // MODULE_VERSION(name, version)
            static VERSION: $crate::kernel::mod_version =
                $crate::kernel::mod_version { mv_version: $crate::module!(@version $($version)?) };
            static VERSION_MD: Metadata = Metadata::version(&VERSION, NAME);
            #[used]
            #[unsafe(link_section = "set_modmetadata_set")]
            static VERSION_ENTRY: SetEntry<Metadata> = SetEntry::new(&VERSION_MD);

            // MODULE_DEPEND(name, dep, min, pref, max)
            $($(
                const _: () = {
                    static RANGE: $crate::kernel::mod_depend = $crate::kernel::mod_depend {
                        md_ver_minimum: $min,
                        md_ver_preferred: $pref,
                        md_ver_maximum: $max,
                    };
                    static MD: Metadata = Metadata::depend(&RANGE, $crate::__cstr!($dep));
                    #[used]
                    #[unsafe(link_section = "set_modmetadata_set")]
                    static ENTRY: SetEntry<Metadata> = SetEntry::new(&MD);
                };
            )*)?

            // SYSINIT(namemodule, SI_SUB_DRIVERS, SI_ORDER_MIDDLE, module_register_init, &data)
            static SYSINIT: SysInit = SysInit::new(
                $crate::kernel::SI_SUB_DRIVERS,
                $crate::kernel::SI_ORDER_MIDDLE,
                $crate::module::REGISTER_INIT,
                DATA.as_ptr() as *const ::core::ffi::c_void,
            );
            #[used]
            #[unsafe(link_section = "set_sysinit_set")]
            static SYSINIT_ENTRY: WritableSetEntry<SysInit> = WritableSetEntry::new(&SYSINIT);
        };
    };
    (@version) => { 1 };
    (@version $v:expr) => { $v };
    ($($other:tt)*) => {
        ::core::compile_error!(
            "usage: module! { type: MyModule, name: \"mymodule\", version: 1, depends: [(\"other\", 1, 1, 1)] } \
             (type and name required, in this order; version and depends optional)"
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::{EBUSY, EIO};
    use crate::kernel::{MOD_LOAD, MOD_QUIESCE, MOD_SHUTDOWN, MOD_UNLOAD};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static FAIL_LOAD: AtomicBool = AtomicBool::new(false);
    static BUSY: AtomicBool = AtomicBool::new(false);
    static VETO: AtomicBool = AtomicBool::new(false);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static SHUTDOWNS: AtomicUsize = AtomicUsize::new(0);

    struct Test;
    impl Module for Test {
        fn load() -> Result<Self, Errno> {
            if FAIL_LOAD.load(Ordering::SeqCst) { Err(EIO) } else { Ok(Test) }
        }
        fn quiesce(&self) -> Result<(), Errno> {
            if BUSY.load(Ordering::SeqCst) { Err(EBUSY) } else { Ok(()) }
        }
        fn shutdown(&self) {
            SHUTDOWNS.fetch_add(1, Ordering::SeqCst);
        }
    }
    impl Drop for Test {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn lifecycle_maps_events_to_the_trait() {
        let state = ModuleState::<Test>::new();
        FAIL_LOAD.store(true, Ordering::SeqCst);
        assert_eq!(state.event(MOD_LOAD), EIO.get());
        assert_eq!(SHUTDOWNS.load(Ordering::SeqCst), 0);
        assert_eq!(state.event(MOD_SHUTDOWN), 0);
        assert_eq!(SHUTDOWNS.load(Ordering::SeqCst), 0, "a failed load keeps nothing");
        let before = DROPS.load(Ordering::SeqCst);
        assert_eq!(state.event(MOD_UNLOAD), 0, "the kernel sends MOD_UNLOAD after a failed load");
        assert_eq!(DROPS.load(Ordering::SeqCst), before);
        FAIL_LOAD.store(false, Ordering::SeqCst);
        assert_eq!(state.event(MOD_LOAD), 0);
        assert_eq!(state.event(MOD_LOAD), EEXIST.get());
        BUSY.store(true, Ordering::SeqCst);
        assert_eq!(state.event(MOD_QUIESCE), EBUSY.get());
        BUSY.store(false, Ordering::SeqCst);
        assert_eq!(state.event(MOD_QUIESCE), 0);
        assert_eq!(state.event(MOD_SHUTDOWN), 0);
        assert_eq!(SHUTDOWNS.load(Ordering::SeqCst), 1);
        assert_eq!(state.event(99), EOPNOTSUPP.get());
        let before = DROPS.load(Ordering::SeqCst);
        assert_eq!(state.event(MOD_UNLOAD), 0);
        assert_eq!(DROPS.load(Ordering::SeqCst), before + 1);
        assert_eq!(state.event(MOD_SHUTDOWN), 0);
        assert_eq!(SHUTDOWNS.load(Ordering::SeqCst), 1, "nothing left after unload");
    }

    // Counters of its own: tests run in parallel.
    static VETO_DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Vetoing;
    impl Module for Vetoing {
        fn load() -> Result<Self, Errno> {
            Ok(Vetoing)
        }
        fn quiesce(&self) -> Result<(), Errno> {
            Err(EBUSY)
        }
        fn unload(&self) -> Result<(), Errno> {
            if VETO.load(Ordering::SeqCst) { Err(EBUSY) } else { Ok(()) }
        }
    }
    impl Drop for Vetoing {
        fn drop(&mut self) {
            VETO_DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn unload_veto_keeps_the_module_even_when_quiesce_is_ignored() {
        let state = ModuleState::<Vetoing>::new();
        const DROPS: &AtomicUsize = &VETO_DROPS;
        assert_eq!(state.event(MOD_LOAD), 0);
        let before = DROPS.load(Ordering::SeqCst);
        // kldunload -f: MOD_QUIESCE's refusal is ignored and MOD_UNLOAD sent.
        assert_eq!(state.event(MOD_QUIESCE), EBUSY.get());
        VETO.store(true, Ordering::SeqCst);
        assert_eq!(state.event(MOD_UNLOAD), EBUSY.get());
        assert_eq!(DROPS.load(Ordering::SeqCst), before, "a vetoed unload does not drop");
        assert_eq!(state.event(MOD_LOAD), EEXIST.get(), "still loaded");
        VETO.store(false, Ordering::SeqCst);
        assert_eq!(state.event(MOD_UNLOAD), 0);
        assert_eq!(DROPS.load(Ordering::SeqCst), before + 1);
        assert_eq!(state.event(MOD_LOAD), 0, "loads again after the unload");
        assert_eq!(state.event(MOD_UNLOAD), 0);
    }

    // A quiesce handler that, while it runs (as if it slept and dropped Giant), sees an
    // unload and a load arrive: both are refused, and its `&self` stays valid.
    static NESTED: ModuleState<Nested> = ModuleState::new();
    static NESTED_SEEN: AtomicUsize = AtomicUsize::new(0);
    struct Nested(u64);
    impl Module for Nested {
        fn load() -> Result<Self, Errno> {
            Ok(Nested(0x5eed))
        }
        fn quiesce(&self) -> Result<(), Errno> {
            assert_eq!(NESTED.event(MOD_UNLOAD), EBUSY.get(), "unload while a quiesce borrows the state");
            assert_eq!(NESTED.event(MOD_LOAD), EEXIST.get());
            assert_eq!(NESTED.event(MOD_SHUTDOWN), 0, "shared borrows nest");
            NESTED_SEEN.store(self.0 as usize, Ordering::SeqCst);
            Ok(())
        }
        fn shutdown(&self) {
            NESTED_SEEN.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn unload_during_a_shared_event_is_refused() {
        assert_eq!(NESTED.event(MOD_LOAD), 0);
        assert_eq!(NESTED.event(MOD_QUIESCE), 0);
        assert_eq!(NESTED_SEEN.load(Ordering::SeqCst), 0x5eed);
        assert_eq!(NESTED.event(MOD_UNLOAD), 0, "once the quiesce returned, the unload goes through");
        assert_eq!(NESTED.event(MOD_SHUTDOWN), 0);
        assert_eq!(NESTED_SEEN.load(Ordering::SeqCst), 0x5eed, "no shutdown after unload");
    }

    #[test]
    fn module_name_bytes_are_nul_terminated() {
        assert_eq!(__name_bytes::<6>(c"hello"), *b"hello\0");
    }

    #[test]
    fn kernel_dependency_is_the_release_range() {
        let r = crate::release::RELEASE;
        assert_eq!(KERNEL_DEPEND.md_ver_minimum as u32, r.freebsd_version);
        assert_eq!(KERNEL_DEPEND.md_ver_preferred as u32, r.freebsd_version);
        assert_eq!(KERNEL_DEPEND.md_ver_maximum as u32, r.freebsd_version.div_ceil(100_000) * 100_000 - 1);
    }
}

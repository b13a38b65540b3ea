//! The module lifecycle: [`Module`] and [`module!`](macro@crate::module).
//!
//! Implement [`Module`] for your module's state and declare it with
//! [`module!`](macro@crate::module). The macro emits what C's `DECLARE_MODULE` and
//! `MODULE_VERSION` emit, with the selected release's layouts:
//!
//! - a `moduledata_t` whose event handler maps `MOD_LOAD` to [`Module::load`],
//!   `MOD_QUIESCE` to [`Module::quiesce`], `MOD_UNLOAD` to `Drop` and `MOD_SHUTDOWN` to
//!   [`Module::shutdown`], returning errno values;
//! - `set_modmetadata_set` entries: `MDT_DEPEND` on `kernel` with
//!   `[V, V, roundup(V, 100000) - 1]` (V = the release's `__FreeBSD_version`),
//!   `MDT_MODULE`, `MDT_VERSION`, and one `MDT_DEPEND` per declared dependency;
//! - the `set_sysinit_set` entry (`SI_SUB_DRIVERS`, `SI_ORDER_MIDDLE`) that calls
//!   `module_register_init`.
//!
//! ```ignore
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

use crate::errno::{EEXIST, EOPNOTSUPP, Errno, from_result};
use crate::kernel::{MDT_DEPEND, MDT_MODULE, MDT_STRUCT_VERSION, MDT_VERSION, mod_depend, mod_metadata, mod_version, moduledata_t, module_t};
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_int, c_void};

/// A kernel module's state and lifecycle.
///
/// The kernel delivers module events one at a time (under the kernel linker's lock), so
/// the methods never run concurrently with each other; `&self` methods may run
/// concurrently with code your module registered (device callbacks, sysctl handlers), hence
/// `Sync`.
pub trait Module: Sized + Send + Sync + 'static {
    /// `MOD_LOAD`: build the module's state. An error fails the load (the kernel unloads the
    /// file); anything allocated so far is dropped, so a failed load leaves nothing behind.
    fn load() -> Result<Self, Errno>;

    /// `MOD_QUIESCE`: asked before unloading; return `Err(EBUSY)` to refuse (for example
    /// while a device is open). Defaults to accepting.
    fn quiesce(&self) -> Result<(), Errno> {
        Ok(())
    }

    /// `MOD_SHUTDOWN`: the system is shutting down. Defaults to nothing.
    fn shutdown(&self) {}
}

/// The loaded instance of a [`Module`], owned by the event handler.
pub struct ModuleState<M>(UnsafeCell<Option<M>>);

// SAFETY: the kernel serialises module events, the only writers (see `event`); other
// threads only get `&M`, and `M: Sync`.
unsafe impl<M: Module> Sync for ModuleState<M> {}

impl<M: Module> ModuleState<M> {
    /// No instance yet.
    pub const fn new() -> Self {
        ModuleState(UnsafeCell::new(None))
    }

    /// Handles one module event (`modeventtype_t`), returning 0 or an errno.
    ///
    /// # Safety
    /// Calls must not overlap, as the kernel guarantees for module events.
    pub unsafe fn event(&self, what: c_int) -> c_int {
        // SAFETY: events are serialised (the caller's contract), so this is the only
        // access to the slot while it runs.
        let slot = unsafe { &mut *self.0.get() };
        match what {
            crate::kernel::MOD_LOAD => {
                if slot.is_some() {
                    return EEXIST.get();
                }
                match M::load() {
                    Ok(m) => {
                        *slot = Some(m);
                        0
                    }
                    Err(e) => e.get(),
                }
            }
            crate::kernel::MOD_QUIESCE => from_result(slot.as_ref().map_or(Ok(()), M::quiesce)),
            crate::kernel::MOD_UNLOAD => {
                drop(slot.take());
                0
            }
            crate::kernel::MOD_SHUTDOWN => {
                if let Some(m) = slot.as_ref() {
                    m.shutdown();
                }
                0
            }
            _ => EOPNOTSUPP.get(),
        }
    }

    /// The instance, while loaded.
    pub fn get(&self) -> Option<&M> {
        // SAFETY: the slot only changes during MOD_LOAD/MOD_UNLOAD, when no other module
        // code runs (the module registers its callbacks after load and removes them in
        // Drop).
        unsafe { (*self.0.get()).as_ref() }
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

/// Declares a kernel module: what C's `DECLARE_MODULE(name, moduledata, SI_SUB_DRIVERS,
/// SI_ORDER_MIDDLE)` plus `MODULE_VERSION(name, version)` and any `MODULE_DEPEND`s emit.
///
/// ```ignore
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
                // SAFETY: the kernel delivers module events one at a time.
                unsafe { STATE.event(what) }
            }

            const NAME: &::core::ffi::CStr = $crate::__cstr!($name);
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
        // SAFETY: one thread, events in sequence.
        unsafe {
            FAIL_LOAD.store(true, Ordering::SeqCst);
            assert_eq!(state.event(MOD_LOAD), EIO.get());
            assert!(state.get().is_none(), "a failed load keeps nothing");
            assert_eq!(state.event(MOD_UNLOAD), 0, "the kernel sends MOD_UNLOAD after a failed load");
            FAIL_LOAD.store(false, Ordering::SeqCst);
            assert_eq!(state.event(MOD_LOAD), 0);
            assert!(state.get().is_some());
            assert_eq!(state.event(MOD_LOAD), EEXIST.get());
            BUSY.store(true, Ordering::SeqCst);
            assert_eq!(state.event(MOD_QUIESCE), EBUSY.get());
            assert!(state.get().is_some(), "refused quiesce keeps the module");
            BUSY.store(false, Ordering::SeqCst);
            assert_eq!(state.event(MOD_QUIESCE), 0);
            assert_eq!(state.event(MOD_SHUTDOWN), 0);
            assert_eq!(SHUTDOWNS.load(Ordering::SeqCst), 1);
            assert_eq!(state.event(99), EOPNOTSUPP.get());
            let before = DROPS.load(Ordering::SeqCst);
            assert_eq!(state.event(MOD_UNLOAD), 0);
            assert_eq!(DROPS.load(Ordering::SeqCst), before + 1);
            assert!(state.get().is_none());
        }
    }

    #[test]
    fn kernel_dependency_is_the_release_range() {
        let r = crate::release::RELEASE;
        assert_eq!(KERNEL_DEPEND.md_ver_minimum as u32, r.freebsd_version);
        assert_eq!(KERNEL_DEPEND.md_ver_preferred as u32, r.freebsd_version);
        assert_eq!(KERNEL_DEPEND.md_ver_maximum as u32, r.freebsd_version.div_ceil(100_000) * 100_000 - 1);
    }
}

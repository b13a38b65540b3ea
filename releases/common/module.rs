//! Kernel modules and their metadata (`sys/sys/module.h`; layouts identical on 13.x, 14.x
//! and 15.0: probed from the 14.2 and 15.0 headers, 13.x from the 13.0 module.h text).

use core::ffi::{c_char, c_int, c_void};

/// `struct module`: opaque.
#[repr(C)]
pub struct module {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<*mut u8>,
}
/// `typedef struct module *module_t`.
pub type module_t = *mut module;

abi_consts! {
    table MODEVENT_CONSTS, header "sys/sys/module.h";
    /// `modeventtype_t` MOD_LOAD.
    pub const MOD_LOAD: c_int = 0;
    /// MOD_UNLOAD.
    pub const MOD_UNLOAD: c_int = 1;
    /// MOD_SHUTDOWN.
    pub const MOD_SHUTDOWN: c_int = 2;
    /// MOD_QUIESCE.
    pub const MOD_QUIESCE: c_int = 3;
}

/// `typedef int (*modeventhand_t)(module_t, int /* modeventtype_t */, void *)`.
pub type modeventhand_t = Option<unsafe extern "C" fn(module_t, c_int, *mut c_void) -> c_int>;

/// `moduledata_t`: what `DECLARE_MODULE` registers through `module_register_init`.
#[repr(C)]
pub struct moduledata_t {
    /// Module name.
    pub name: *const c_char,
    /// Event handler.
    pub evhand: modeventhand_t,
    /// Extra data passed to the handler.
    pub priv_: *mut c_void,
}

abi_consts! {
    table MODULE_CONSTS, header "sys/sys/module.h";
    /// `MDT_DEPEND`: argument is a module name.
    pub const MDT_DEPEND: c_int = 1;
    /// `MDT_MODULE`: module declaration.
    pub const MDT_MODULE: c_int = 2;
    /// `MDT_VERSION`: module version(s).
    pub const MDT_VERSION: c_int = 3;
    /// `MDT_PNP_INFO`: plug-and-play hints.
    pub const MDT_PNP_INFO: c_int = 4;
    /// `MDT_STRUCT_VERSION`: version of `struct mod_metadata`.
    pub const MDT_STRUCT_VERSION: c_int = 1;
    /// `MDT_SETNAME`: the linker set holding pointers to the metadata.
    pub const MDT_SETNAME: &str = "modmetadata_set";
}

/// `struct mod_depend`: accepted version range of a dependency.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mod_depend {
    /// Oldest accepted version.
    pub md_ver_minimum: c_int,
    /// Preferred version.
    pub md_ver_preferred: c_int,
    /// Newest accepted version.
    pub md_ver_maximum: c_int,
}

/// `struct mod_version`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mod_version {
    /// The version.
    pub mv_version: c_int,
}

/// `struct mod_metadata`: one entry of `set_modmetadata_set`.
#[repr(C)]
pub struct mod_metadata {
    /// `MDT_STRUCT_VERSION`.
    pub md_version: c_int,
    /// `MDT_*`.
    pub md_type: c_int,
    /// `struct mod_depend`, `moduledata_t` or `struct mod_version`.
    pub md_data: *const c_void,
    /// Module name (the dependency's name for MDT_DEPEND).
    pub md_cval: *const c_char,
}

abi_structs! {
    table MODULE_STRUCTS, header "sys/sys/module.h";
    moduledata_t = "moduledata_t", size 24, align 8, { name: 0, evhand: 8, priv_ as "priv": 16 };
    mod_depend = "struct mod_depend", size 12, align 4,
        { md_ver_minimum: 0, md_ver_preferred: 4, md_ver_maximum: 8 };
    mod_version = "struct mod_version", size 4, align 4, { mv_version: 0 };
    mod_metadata = "struct mod_metadata", size 24, align 8,
        { md_version: 0, md_type: 4, md_data: 8, md_cval: 16 };
}

kpi_functions! {
    table MODULE_FUNCTIONS, header "sys/sys/module.h";
    /// The SYSINIT function of `DECLARE_MODULE`: registers the `moduledata_t` and delivers
    /// MOD_LOAD.
    pub fn module_register_init(data: *const c_void);
}

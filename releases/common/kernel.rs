//! SYSINIT ordering (`sys/sys/kernel.h`). The values are part of the kernel ABI and equal
//! on 13.x, 14.x and 15.0 (14.2/15.0 headers probed; 13.x kernel.h read in a 13.0 tree).
//! `struct sysinit` itself differs between releases and lives in the release folders.

use core::ffi::{c_uint, c_void};

/// `enum sysinit_sub_id` (4 bytes).
pub type sysinit_sub_id = c_uint;
/// `enum sysinit_elem_order` (4 bytes).
pub type sysinit_elem_order = c_uint;
/// `typedef void (*sysinit_cfunc_t)(const void *)`.
pub type sysinit_cfunc_t = Option<unsafe extern "C" fn(*const c_void)>;

abi_structs! {
    table SYSINIT_ENUMS, header "sys/sys/kernel.h";
    sysinit_sub_id = "enum sysinit_sub_id", size 4, align 4, {};
    sysinit_elem_order = "enum sysinit_elem_order", size 4, align 4, {};
    sysinit_cfunc_t = "sysinit_cfunc_t", size 8, align 8, {};
}

abi_consts! {
    table SYSINIT_CONSTS, header "sys/sys/kernel.h";
    /// Not run.
    pub const SI_SUB_DUMMY: sysinit_sub_id = 0x0000000;
    /// Tunables.
    pub const SI_SUB_TUNABLES: sysinit_sub_id = 0x0700000;
    /// malloc(9) types (MALLOC_DEFINE registers here).
    pub const SI_SUB_KMEM: sysinit_sub_id = 0x1800000;
    /// Lock initialisation.
    pub const SI_SUB_LOCK: sysinit_sub_id = 0x1B00000;
    /// Kernel linker.
    pub const SI_SUB_KLD: sysinit_sub_id = 0x2000000;
    /// Device drivers (DEV_MODULE).
    pub const SI_SUB_DRIVERS: sysinit_sub_id = 0x3100000;
    /// Device configuration.
    pub const SI_SUB_CONFIGURE: sysinit_sub_id = 0x3800000;
    /// Pseudo devices.
    pub const SI_SUB_PSEUDO: sysinit_sub_id = 0x7000000;
    /// Exec formats.
    pub const SI_SUB_EXEC: sysinit_sub_id = 0x7400000;
    /// Protocol domains.
    pub const SI_SUB_PROTO_DOMAIN: sysinit_sub_id = 0x8800000;
    /// System calls.
    pub const SI_SUB_SYSCALLS: sysinit_sub_id = 0xD800000;
    /// Last.
    pub const SI_SUB_LAST: sysinit_sub_id = 0xfffffff;

    /// First within a subsystem.
    pub const SI_ORDER_FIRST: sysinit_elem_order = 0x0000000;
    /// Second.
    pub const SI_ORDER_SECOND: sysinit_elem_order = 0x0000001;
    /// Third (MALLOC_DEFINE's malloc_init).
    pub const SI_ORDER_THIRD: sysinit_elem_order = 0x0000002;
    /// Fourth.
    pub const SI_ORDER_FOURTH: sysinit_elem_order = 0x0000003;
    /// Middle (DECLARE_MODULE users such as DEV_MODULE).
    pub const SI_ORDER_MIDDLE: sysinit_elem_order = 0x1000000;
    /// Any (MALLOC_DEFINE's malloc_uninit).
    pub const SI_ORDER_ANY: sysinit_elem_order = 0xfffffff;
}

kpi_statics! {
    table CLOCK_DATA, header "sys/sys/kernel.h";
    /// `hz`: clock ticks per second.
    pub static hz: core::ffi::c_int;
    /// `ticks` (`volatile int`): ticks since boot; read it with `read_volatile`.
    pub static ticks: core::ffi::c_int;
}

//! eventhandler(9) (`sys/sys/eventhandler.h`): `EVENTHANDLER_REGISTER(name, fn, arg, pri)` =
//! `eventhandler_register(NULL, "name", fn, arg, pri)`; `EVENTHANDLER_DEREGISTER(name, tag)`
//! = `eventhandler_find_list("name")` then `eventhandler_deregister(list, tag)`, which waits
//! for running handlers. `shutdown_fn` and `vm_lowmem_handler_t` are `void (*)(void *,
//! int)`.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor `eventhandler.h`), 14.2 and 15.0 (probed).

use core::ffi::{c_char, c_int, c_void};

/// `struct eventhandler_list` (opaque).
#[repr(C)]
pub struct eventhandler_list {
    _opaque: [u8; 0],
}

/// `struct eventhandler_entry` (opaque).
#[repr(C)]
pub struct eventhandler_entry {
    _opaque: [u8; 0],
}

/// `eventhandler_tag` (`struct eventhandler_entry *`; the prototypes spell it out).
pub type eventhandler_tag = *mut eventhandler_entry;

abi_consts! {
    table EVENTHANDLER_CONSTS, header "sys/sys/eventhandler.h";
    /// `EVENTHANDLER_PRI_FIRST`.
    pub const EVENTHANDLER_PRI_FIRST: c_int = 0;
    /// `EVENTHANDLER_PRI_ANY` (= `SHUTDOWN_PRI_DEFAULT`).
    pub const EVENTHANDLER_PRI_ANY: c_int = 10000;
    /// `EVENTHANDLER_PRI_LAST`.
    pub const EVENTHANDLER_PRI_LAST: c_int = 20000;
}

kpi_functions! {
    table EVENTHANDLER_FUNCTIONS, header "sys/sys/eventhandler.h";
    /// `eventhandler_register(list, name, func, arg, priority)`: `func` is the handler cast
    /// to `void *`.
    pub fn eventhandler_register(list: *mut eventhandler_list, name: *const c_char, func: *mut c_void, arg: *mut c_void, priority: c_int) -> *mut eventhandler_entry;
    /// `eventhandler_find_list(name)`: NULL when no such list exists.
    pub fn eventhandler_find_list(name: *const c_char) -> *mut eventhandler_list;
    /// `eventhandler_deregister(list, tag)`: sleeps while the list's handlers run.
    pub fn eventhandler_deregister(list: *mut eventhandler_list, tag: *mut eventhandler_entry);
}

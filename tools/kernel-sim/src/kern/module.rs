//! Modules (`sys/kern/kern_module.c`): registration, `module_register_init`, events.
//!
//! `module_register()` refuses a second module of the same name with EEXIST;
//! `module_register_init(const void *moduledata)` (the SYSINIT of `DECLARE_MODULE`) sends
//! `MOD_LOAD`; on error it sends `MOD_UNLOAD`, releases the module and prints
//! `module_register_init: MOD_LOAD (%s, %p, %p) error %d`; on success it moves the module to
//! the head of its file's list, so files unload their modules in reverse order.
//! A module without an event handler gets `modevent_nop` (LOAD 0, UNLOAD EBUSY, else
//! EOPNOTSUPP).

use super::panic::kernel_panic;
use super::{console_write, cstr, with};
use crate::ksyms::KsymDef;

/// `MOD_LOAD` (sys/sys/module.h).
pub const MOD_LOAD: i32 = 0;
/// `MOD_UNLOAD`.
pub const MOD_UNLOAD: i32 = 1;
/// `MOD_SHUTDOWN`.
pub const MOD_SHUTDOWN: i32 = 2;
/// `MOD_QUIESCE`.
pub const MOD_QUIESCE: i32 = 3;
/// errno values (sys/sys/errno.h).
pub const EBUSY: i32 = 16;
/// `EEXIST`.
pub const EEXIST: i32 = 17;
/// `EINVAL`.
pub const EINVAL: i32 = 22;
/// `ENOENT`.
pub const ENOENT: i32 = 2;
/// `ENOEXEC`.
pub const ENOEXEC: i32 = 8;
/// `EOPNOTSUPP`.
pub const EOPNOTSUPP: i32 = 45;
/// `ENOSYS`.
pub const ENOSYS: i32 = 78;

/// One registered module (`struct module`).
#[derive(Debug)]
pub struct ModRec {
    /// Module name (`moduledata_t.name`).
    pub name: String,
    /// Event handler (0 = modevent_nop).
    pub handler: usize,
    /// `priv` argument.
    pub arg: usize,
    /// Linker file id that contains it.
    pub file: u32,
    /// Module id.
    pub id: i32,
    /// The opaque `module_t` passed to the handler (stable host memory).
    pub handle: Box<[u64; 8]>,
}

/// All registered modules, in `modules` list order.
#[derive(Debug, Default)]
pub struct ModuleRegistry {
    /// The list.
    pub mods: Vec<ModRec>,
    next_id: i32,
}

impl ModuleRegistry {
    /// `module_register(data, container)`.
    pub fn register(&mut self, name: &str, handler: usize, arg: usize, file: u32) -> Result<(), i32> {
        if self.mods.iter().any(|m| m.name == name) {
            return Err(EEXIST);
        }
        self.next_id += 1;
        self.mods.push(ModRec { name: name.into(), handler, arg, file, id: self.next_id, handle: Box::new([0; 8]) });
        Ok(())
    }

    /// Name of the file registering module `name` (for the clash message).
    pub fn file_of(&self, name: &str) -> Option<u32> {
        self.mods.iter().find(|m| m.name == name).map(|m| m.file)
    }

    /// `module_release` of the module named `name`.
    pub fn release(&mut self, name: &str) {
        self.mods.retain(|m| m.name != name);
    }

    /// Modules of file `file`, in file-list order: `(name, handler, handle, arg)`.
    pub fn of_file(&self, file: u32) -> Vec<(String, usize, usize, usize)> {
        self.mods.iter().filter(|m| m.file == file).map(|m| (m.name.clone(), m.handler, m.handle.as_ptr() as usize, m.arg)).collect()
    }
}

/// `modevent_nop` of kern_module.c.
pub fn modevent_nop(what: i32) -> i32 {
    match what {
        MOD_LOAD => 0,
        MOD_UNLOAD => EBUSY,
        _ => EOPNOTSUPP,
    }
}

/// Call a module event handler directly (we are already on the kernel stack).
fn event(handler: usize, handle: usize, what: i32, arg: usize) -> i32 {
    if handler == 0 {
        return modevent_nop(what);
    }
    // SAFETY: handler is module code with the modeventhand_t signature
    // `int (*)(module_t, int, void *)`; we run inside a gate call, so faults are recovered.
    let f: extern "C" fn(usize, i32, usize) -> i32 = unsafe { std::mem::transmute(handler) };
    f(handle, what, arg)
}

extern "C" fn k_module_register_init(data: usize) {
    // SAFETY: data is the module's moduledata_t {name@0, evhand@8, priv@16}.
    let (name, evhand, priv_) = unsafe {
        (cstr(*(data as *const usize)), *((data + 8) as *const usize), *((data + 16) as *const usize))
    };
    let m = with(|k| k.modules.mods.iter().find(|m| m.name == name).map(|m| (m.handler, m.handle.as_ptr() as usize, m.arg)));
    let Some((handler, handle, arg)) = m else {
        kernel_panic(format!("module_register_init: module named {name} not found\n"), 0)
    };
    let error = event(handler, handle, MOD_LOAD, arg);
    if error != 0 {
        event(handler, handle, MOD_UNLOAD, arg);
        with(|k| {
            k.modules.release(&name);
            k.mod_load_errors.push((name.clone(), error));
        });
        console_write(
            format!("module_register_init: MOD_LOAD ({name}, {evhand:#x}, {priv_:#x}) error {error}\n").as_bytes(),
        );
    } else {
        with(|k| {
            if let Some(i) = k.modules.mods.iter().position(|m| m.name == name) {
                let r = k.modules.mods.remove(i);
                k.modules.mods.insert(0, r);
            }
        });
    }
}

extern "C" fn k_module_getname(handle: usize) -> usize {
    // The name is kept NUL-terminated in the handle's registry entry on demand.
    thread_local! { static NAMES: std::cell::RefCell<Vec<std::ffi::CString>> = const { std::cell::RefCell::new(Vec::new()) }; }
    let name = with(|k| k.modules.mods.iter().find(|m| m.handle.as_ptr() as usize == handle).map(|m| m.name.clone()));
    let c = std::ffi::CString::new(name.unwrap_or_default()).unwrap_or_default();
    let p = c.as_ptr() as usize;
    NAMES.with(|n| n.borrow_mut().push(c));
    p
}

/// Register the module KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("module_register_init", k_module_register_init as *const () as usize));
    v.push(KsymDef::function("module_getname", k_module_getname as *const () as usize));
}

//! Event handlers (`sys/kern/subr_eventhandler.c`, `sys/sys/eventhandler.h`).
//!
//! * `EVENTHANDLER_REGISTER(name, func, arg, pri)` = `eventhandler_register(NULL, "name",
//!   func, arg, pri)`: returns a tag (the entry); entries run in ascending priority, after
//!   the ones of equal priority registered before.
//! * `EVENTHANDLER_DEREGISTER(name, tag)` = `if ((_el = eventhandler_find_list("name")) !=
//!   NULL) eventhandler_deregister(_el, tag)`: the entry is removed, then the caller sleeps
//!   (`"evhrm"`) while handlers of the list run (`el_runcount`); a NULL tag removes every
//!   entry. `eventhandler_deregister_nowait` does not wait.
//! * The lists a kernel creates at boot exist from the start (`shutdown_pre_sync`,
//!   `shutdown_post_sync`, `shutdown_final`, `vm_lowmem`, `mbuf_lowmem`, ...); other lists
//!   are created by their first registration.
//! * The simulator invokes them like the kernel: `kern_reboot()` (sys/kern/kern_shutdown.c)
//!   runs `shutdown_pre_sync(howto)`, then `shutdown_post_sync` (where `module_shutdown`
//!   sends `MOD_SHUTDOWN`), then `shutdown_final(howto)`; `vm_pageout_lowmem()`
//!   (sys/vm/vm_pageout.c) runs `vm_lowmem(VM_LOW_PAGES)` (`VM_LOW_PAGES` = 2,
//!   vm/vm_pageout.h) — the `lowmem` command.
//! * A module unloaded with a handler still registered in its code is reported.

use super::kern_switch::{Wait, block, sched};
use super::panic::kernel_panic;
use super::subr_witness::{self as witness, caller, caller_shim, sym};
use crate::ksyms::KsymDef;

/// `VM_LOW_PAGES` (vm/vm_pageout.h).
pub const VM_LOW_PAGES: i32 = 0x02;
/// `RB_AUTOBOOT` (sys/reboot.h): the `howto` of a plain reboot.
pub const RB_AUTOBOOT: i32 = 0;

/// Lists that exist at boot.
const BOOT_LISTS: &[&str] = &["shutdown_pre_sync", "shutdown_post_sync", "shutdown_final", "vm_lowmem", "mbuf_lowmem"];

#[derive(Debug)]
struct Entry {
    id: Box<[u64; 2]>,
    func: usize,
    arg: usize,
    pri: i32,
}

#[derive(Debug)]
struct List {
    id: Box<[u64; 2]>,
    name: String,
    entries: Vec<Entry>,
    runcount: u32,
}

/// All event handler lists.
#[derive(Debug, Default)]
pub struct State {
    lists: Vec<List>,
}

fn st<R>(f: impl FnOnce(&mut State) -> R) -> R {
    super::with(|k| f(&mut k.evh))
}

fn new_list(s: &mut State, name: &str) -> usize {
    let l = List { id: Box::new([0; 2]), name: name.into(), entries: Vec::new(), runcount: 0 };
    let a = l.id.as_ptr() as usize;
    s.lists.push(l);
    a
}

/// Create the lists of a booted kernel.
pub fn boot() {
    st(|s| {
        for n in BOOT_LISTS {
            new_list(s, n);
        }
    });
}

fn list_addr(l: &List) -> usize {
    l.id.as_ptr() as usize
}

extern "C" fn k_eventhandler_register(list: usize, name: usize, func: usize, arg: usize, pri: i32) -> usize {
    super::kern_switch::preempt();
    let name = if name != 0 {
        // SAFETY: the module's C string.
        Some(unsafe { super::cstr(name) })
    } else {
        None
    };
    st(|s| {
        let li = match s.lists.iter().position(|l| list_addr(l) == list || (list == 0 && Some(&l.name) == name.as_ref())) {
            Some(i) => i,
            None => {
                new_list(s, name.as_deref().unwrap_or(""));
                s.lists.len() - 1
            }
        };
        let e = Entry { id: Box::new([0; 2]), func, arg, pri };
        let tag = e.id.as_ptr() as usize;
        let l = &mut s.lists[li];
        let at = l.entries.iter().position(|x| pri < x.pri).unwrap_or(l.entries.len());
        l.entries.insert(at, e);
        tag
    })
}

extern "C" fn k_eventhandler_find_list(name: usize) -> usize {
    // SAFETY: the module's C string.
    let name = unsafe { super::cstr(name) };
    st(|s| s.lists.iter().find(|l| l.name == name).map(list_addr).unwrap_or(0))
}

fn deregister(list: usize, tag: usize, wait: bool, caller: usize) {
    super::kern_switch::preempt();
    let found = st(|s| {
        let l = s.lists.iter_mut().find(|l| list_addr(l) == list)?;
        if tag == 0 {
            l.entries.clear();
            return Some(true);
        }
        let n = l.entries.len();
        l.entries.retain(|e| e.id.as_ptr() as usize != tag);
        Some(l.entries.len() != n)
    });
    match found {
        None => kernel_panic(format!("eventhandler_deregister: {list:#x} is not an event handler list\n  offending call at {}\n", sym(caller)), caller),
        Some(false) => kernel_panic(format!("eventhandler_deregister: tag {tag:#x} is not registered on this list (deregistered twice?)\n  offending call at {}\n", sym(caller)), caller),
        Some(true) => {}
    }
    if wait {
        witness::warn_sleep(0, "eventhandler_deregister", caller);
        while st(|s| s.lists.iter().find(|l| list_addr(l) == list).map_or(0, |l| l.runcount)) > 0 {
            block(Wait { chan: list, wmesg: "evhrm".into(), deadline: None, caller, on_lock: false, seq: 0, pri: 0 });
        }
    }
}

extern "C" fn k_eventhandler_deregister(list: usize, tag: usize) {
    let caller = caller();
    deregister(list, tag, true, caller)
}

extern "C" fn k_eventhandler_deregister_nowait(list: usize, tag: usize) {
    let caller = caller();
    deregister(list, tag, false, caller)
}

/// `EVENTHANDLER_INVOKE(name, arg)` from host code running on a simulated thread.
pub fn invoke(name: &str, arg: i32) {
    let Some((list, entries)) = st(|s| {
        let l = s.lists.iter_mut().find(|l| l.name == name)?;
        l.runcount += 1;
        Some((list_addr(l), l.entries.iter().map(|e| (e.id.as_ptr() as usize, e.func, e.arg)).collect::<Vec<_>>()))
    }) else {
        return;
    };
    for (tag, func, earg) in entries {
        // A handler deregistered by an earlier one is skipped (EHE_DEAD_PRIORITY).
        let live = st(|s| s.lists.iter().find(|l| list_addr(l) == list).is_some_and(|l| l.entries.iter().any(|e| e.id.as_ptr() as usize == tag)));
        if !live {
            continue;
        }
        // SAFETY: the module's handler, `void (*)(void *arg, int)` for the lists invoked here.
        let f: extern "C" fn(usize, i32) = unsafe { std::mem::transmute(func) };
        f(earg, arg);
    }
    let done = st(|s| {
        let l = s.lists.iter_mut().find(|l| list_addr(l) == list)?;
        l.runcount -= 1;
        Some(l.runcount == 0)
    });
    if done == Some(true) {
        sched().wake_chan(list, false, false);
    }
}

/// Gate entry: invoke list `which` (0 `shutdown_pre_sync`, 1 `shutdown_final`, 2
/// `vm_lowmem`) with `arg`.
pub(crate) extern "C" fn invoke_entry(which: u64, arg: u64) -> u64 {
    let name = match which {
        0 => "shutdown_pre_sync",
        1 => "shutdown_final",
        _ => "vm_lowmem",
    };
    invoke(name, arg as i32);
    0
}

/// Handlers registered whose function or argument lies in `[lo, hi)`: `(list, function)`.
pub fn registered_in(lo: usize, hi: usize) -> Vec<(String, usize)> {
    let inside = |a: usize| a >= lo && a < hi;
    st(|s| s.lists.iter().flat_map(|l| l.entries.iter().filter(|e| inside(e.func)).map(|e| (l.name.clone(), e.func))).collect())
}

/// Forget what [`registered_in`] reported.
pub fn forget_in(lo: usize, hi: usize) {
    let inside = |a: usize| a >= lo && a < hi;
    st(|s| {
        for l in s.lists.iter_mut() {
            l.entries.retain(|e| !inside(e.func));
        }
    });
}

caller_shim!(sim_eventhandler_deregister, k_eventhandler_deregister);
caller_shim!(sim_eventhandler_deregister_nowait, k_eventhandler_deregister_nowait);

/// Register the event handler KPI.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("eventhandler_register", k_eventhandler_register as *const () as usize));
    v.push(KsymDef::function("eventhandler_find_list", k_eventhandler_find_list as *const () as usize));
    v.push(KsymDef::function("eventhandler_deregister", sim_eventhandler_deregister as *const () as usize));
    v.push(KsymDef::function("eventhandler_deregister_nowait", sim_eventhandler_deregister_nowait as *const () as usize));
}

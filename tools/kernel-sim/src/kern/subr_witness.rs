//! WITNESS-like checks (`sys/kern/subr_witness.c`), reported in WITNESS's own words and
//! turned into panics so that a run fails, each with the module location (symbol+offset) of
//! every lock acquisition and of the offending call:
//!
//! * `witness_checkorder`: acquiring a sleep lock inside a spin-mutex section
//!   (`acquiring blockable sleep lock with spinlock or critical section held (%s) %s @ %s:%d`)
//!   a sleepable lock taken while holding a non-sleepable one (`lock order reversal:
//!   (sleepable after non-sleepable)`), and lock-order reversals between two witnesses (`lock order reversal:` ` 1st %p %s (%s)
//!   @ %s:%d` ` 2nd ...`, then both orders: `lock order %s -> %s established at:` and
//!   `lock order %s -> %s attempted at:`);
//! * `witness_lock`: `recursed on non-recursive lock (%s) %s @ %s:%d` / `first acquired @
//!   %s:%d`;
//! * `witness_unlock`: `lock (%s) %s not locked @ %s:%d`;
//! * `witness_warn(WARN_GIANTOK | WARN_SLEEPOK, ...)`: `Sleeping on "%s" with the following
//!   non-sleepable locks held:` (and `Waiting on "%s"` for condition variables, the
//!   `uma_zalloc_debug` text for `M_WAITOK` allocations), each lock listed by
//!   `witness_list_lock` as `exclusive sleep mutex NAME (TYPE) r = 0 (0xADDR) locked @
//!   FILE:LINE`;
//! * `userret()`'s `WITNESS_WARN(WARN_PANIC, NULL, "userret: returning")`: `userret:
//!   returning with the following locks held:` when a call returns to user space holding a
//!   lock;
//! * `witness_thread_exit`: `Thread %p exiting with the following locks held:` then
//!   `Thread %p cannot exit while holding sleeplocks`.
//!
//! Module addresses are written as `{{sym:0x...}}` markers that the [`crate::Kernel`]
//! replaces with `symbol+0xoff (file.ko)` when the text reaches the console or a report
//! (host stubs cannot see the loaded files).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::kern_switch::{Held, sched};
use super::panic::kernel_panic;
use super::subr_lock::{Class, rec};

/// Return address of the module's call into the last `caller_shim!` stub.
pub static CALLER: AtomicUsize = AtomicUsize::new(0);

/// Define `$shim`, which records its return address in [`CALLER`] and jumps to `$imp`
/// (every register and stack argument is passed through unchanged).
macro_rules! caller_shim {
    ($shim:ident, $imp:path) => {
        core::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($shim)),
            concat!(".type ", stringify!($shim), ",@function"),
            concat!(stringify!($shim), ":"),
            "mov r11, [rsp]",
            "mov [rip + {caller}], r11",
            "jmp {imp}",
            concat!(".size ", stringify!($shim), ", . - ", stringify!($shim)),
            imp = sym $imp,
            caller = sym $crate::kern::subr_witness::CALLER,
        );
        unsafe extern "C" {
            fn $shim();
        }
    };
}
pub(crate) use caller_shim;

/// The caller recorded by the shim of the running stub (read it first thing).
pub fn caller() -> usize {
    CALLER.load(Ordering::Relaxed)
}

/// A marker for module address `addr`, resolved by the kernel (see the module docs).
pub fn sym(addr: usize) -> String {
    format!("{{{{sym:{addr:#x}}}}}")
}

/// Read the `file` argument of a lock call (LOCK_FILE; may be NULL).
pub fn file_arg(p: usize) -> String {
    if p == 0 {
        return "(null)".into();
    }
    // SAFETY: the module passes __FILE__ (a C string) or NULL.
    let f = unsafe { super::cstr(p) };
    // fixup_filename(): strip leading "../" components.
    let mut s = f.as_str();
    while let Some(r) = s.strip_prefix("../") {
        s = r;
    }
    s.to_string()
}

/// `witness_list_lock` of one held lock, plus where the module took it.
pub fn list_lock(h: &Held) -> String {
    let (cname, name, wname) = match rec(h.lock) {
        Some(r) => (r.class.name(), r.name, r.wname),
        None => ("?", "(destroyed)".into(), "(destroyed)".into()),
    };
    let ty = if wname != name { format!(" ({wname})") } else { String::new() };
    format!(
        "{} {cname} {name}{ty} r = {} ({:#x}) locked @ {}:{}\n  acquired at {}\n",
        if h.exclusive { "exclusive" } else { "shared" },
        h.recursed,
        h.lock,
        h.file,
        h.line,
        sym(h.caller)
    )
}

/// `witness_checkorder` for acquiring `lo` (not a trylock).
pub fn checkorder(lo: usize, file: &str, line: i32, caller: usize) {
    let Some(r) = rec(lo) else { return };
    let s = sched();
    let cur = s.current();
    if r.class != Class::SpinMutex && cur.crit > 0 {
        kernel_panic(
            format!(
                "acquiring blockable sleep lock with spinlock or critical section held ({}) {} @ {file}:{line}\n  offending call at {}\n",
                r.class.name(),
                r.name,
                sym(caller)
            ),
            caller,
        );
    }
    if !r.witness() || cur.held.iter().any(|h| h.lock == lo) {
        return;
    }
    let held: Vec<Held> = cur.held.clone();
    for h in held {
        let Some(hr) = rec(h.lock) else { continue };
        if !hr.witness() || hr.wname == r.wname {
            continue;
        }
        // "If we are locking a sleepable lock and this lock isn't sleepable, we want to treat
        // it as a lock order violation to enforce a general lock order of sleepable locks
        // before non-sleepable locks" (witness_checkorder).
        if r.sleepable() && !hr.sleepable() {
            let msg = format!(
                "lock order reversal: (sleepable after non-sleepable)\n 1st {:#x} {} ({}) @ {}:{}\n 2nd {lo:#x} {} ({}) @ {file}:{line}\n  first acquired at {}\n  offending call at {}\n",
                h.lock,
                hr.name,
                hr.wname,
                h.file,
                h.line,
                r.name,
                r.wname,
                sym(h.caller),
                sym(caller),
            );
            kernel_panic(msg, caller);
        }
        let s = sched();
        if let Some(&(est_first, est_second)) = s.order.get(&(r.wname.clone(), hr.wname.clone())) {
            let msg = format!(
                "lock order reversal:\n 1st {:#x} {} ({}) @ {}:{}\n 2nd {lo:#x} {} ({}) @ {file}:{line}\n\
                 lock order {} -> {} established at:\n  {} (first acquired)\n  {} (then acquired)\n\
                 lock order {} -> {} attempted at:\n  {} (first acquired)\n  {} (then acquired)\n",
                h.lock,
                hr.name,
                hr.wname,
                h.file,
                h.line,
                r.name,
                r.wname,
                r.wname,
                hr.wname,
                sym(est_first),
                sym(est_second),
                hr.wname,
                r.wname,
                sym(h.caller),
                sym(caller),
            );
            kernel_panic(msg, caller);
        }
        s.order.entry((hr.wname.clone(), r.wname.clone())).or_insert((h.caller, caller));
    }
}

/// `witness_lock`: record the acquisition (or a recursion, checked against LO_RECURSABLE).
pub fn lock(lo: usize, exclusive: bool, file: String, line: i32, caller: usize) {
    let r = rec(lo);
    let s = sched();
    let cur = s.current_mut();
    if let Some(h) = cur.held.iter_mut().find(|h| h.lock == lo) {
        if let Some(r) = &r
            && !r.recursable()
        {
            let msg = format!(
                "recursed on non-recursive lock ({}) {} @ {file}:{line}\nfirst acquired @ {}:{}\n  first acquired at {}\n  recursed at {}\n",
                r.class.name(),
                r.name,
                h.file,
                h.line,
                sym(h.caller),
                sym(caller)
            );
            kernel_panic(msg, caller);
        }
        h.recursed += 1;
        return;
    }
    cur.held.push(Held { lock: lo, exclusive, recursed: 0, file, line, caller });
}

/// Whether the running thread holds `lo` according to WITNESS, and the instance.
pub fn held(lo: usize) -> Option<Held> {
    sched().current().held.iter().find(|h| h.lock == lo).cloned()
}

/// `witness_unlock`.
pub fn unlock(lo: usize, file: &str, line: i32, caller: usize) {
    let s = sched();
    let cur = s.current_mut();
    match cur.held.iter().position(|h| h.lock == lo) {
        Some(i) => {
            if cur.held[i].recursed > 0 {
                cur.held[i].recursed -= 1;
            } else {
                cur.held.remove(i);
            }
        }
        None => {
            let (cname, name) = rec(lo).map(|r| (r.class.name(), r.name)).unwrap_or(("?", "(unknown)".into()));
            kernel_panic(
                format!("lock ({cname}) {name} not locked @ {file}:{line}\n  offending call at {}\n", sym(caller)),
                caller,
            );
        }
    }
}

/// `witness_warn(WARN_GIANTOK | WARN_SLEEPOK, except, "<what>")`: the running thread is about
/// to sleep; any non-sleepable lock it holds (other than the interlock `except`) is a bug.
pub fn warn_sleep(except: usize, what: &str, caller: usize) {
    let Some(s) = super::kern_switch::try_sched() else { return };
    let bad: Vec<Held> = s
        .current()
        .held
        .iter()
        .filter(|h| h.lock != except && !rec(h.lock).is_some_and(|r| r.sleepable()))
        .cloned()
        .collect();
    if bad.is_empty() {
        return;
    }
    let mut msg = format!("{what} with the following non-sleepable locks held:\n");
    for h in bad.iter().rev() {
        msg.push_str(&list_lock(h));
    }
    msg.push_str(&format!("  offending call at {}\n", sym(caller)));
    kernel_panic(msg, caller);
}

/// Called by every malloc(9) of module code (kern/malloc.rs): a KPI call, so a preemption
/// point of seeded schedules, and for `M_WAITOK` the sleep check below.
pub fn malloc_check(size: usize, flags: i32, caller: usize) {
    super::kern_switch::preempt();
    if flags & super::malloc::M_WAITOK != 0 {
        warn_sleep_malloc(size, caller);
    }
}

/// `M_WAITOK` allocation check: `uma_zalloc_debug()`'s
/// `WITNESS_WARN(WARN_GIANTOK | WARN_SLEEPOK, NULL, "uma_zalloc_debug: zone \"%s\"", ...)`
/// with the kmemzone's name (`malloc-<size>`).
pub fn warn_sleep_malloc(size: usize, caller: usize) {
    let zone = super::malloc::zone_size(size);
    warn_sleep(0, &format!("uma_zalloc_debug: zone \"malloc-{zone}\""), caller);
}

/// `witness_thread_exit`.
pub fn thread_exit(caller: usize) {
    let s = sched();
    let cur = s.current();
    if cur.held.is_empty() {
        return;
    }
    let td = cur.td;
    let mut msg = format!("Thread {td:#x} exiting with the following locks held:\n");
    for h in cur.held.iter().rev() {
        msg.push_str(&list_lock(h));
    }
    msg.push_str(&format!("Thread {td:#x} cannot exit while holding sleeplocks\n  offending call at {}\n", sym(caller)));
    kernel_panic(msg, caller);
}

/// `userret()`'s `WITNESS_WARN(WARN_PANIC, NULL, "userret: returning")`: thread 0 goes back
/// to user space (the call returns) holding a lock.
pub fn userret() {
    let Some(s) = super::kern_switch::try_sched() else { return };
    let t0 = &s.threads[0];
    if t0.held.is_empty() {
        // userret() (sys/kern/subr_trap.c), after its WITNESS_WARN: `KASSERT(td->td_critnest
        // == 0, ("userret: Returning in a critical section"))`: a module call that returns
        // inside its own critical_enter() (a spin mutex would be listed above instead).
        if t0.crit > 0 {
            kernel_panic("userret: Returning in a critical section".into(), 0);
        }
        return;
    }
    let mut msg = String::from("userret: returning with the following locks held:\n");
    for h in t0.held.iter().rev() {
        msg.push_str(&list_lock(h));
    }
    msg.push_str("witness_warn\n");
    let caller = t0.held.last().map(|h| h.caller).unwrap_or(0);
    kernel_panic(msg, caller);
}

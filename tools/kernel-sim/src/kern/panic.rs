//! panic(9) and the stack protector.
//!
//! `panic(fmt, ...)` prints `panic: <message>` (`vpanic()` in `sys/kern/kern_shutdown.c`) and,
//! in the simulator, aborts the running module call: the call returns an error carrying the
//! formatted message. `__stack_chk_fail` panics with the message of
//! `sys/kern/stack_protector.c`; `__stack_chk_guard` is a data symbol (FreeBSD and LLVM use a
//! global guard, not a TLS one).

use super::{VaList, console_write, printf::format, va_shim, with};
use crate::exec::{AbortInfo, abort_active};
use crate::ksyms::KsymDef;

/// Raise a kernel panic from a host stub: print it, record it, abort the module call.
pub fn kernel_panic(message: String, caller: usize) -> ! {
    console_write(format!("panic: {message}\n").as_bytes());
    with(|k| k.panics.push(message.clone()));
    // SAFETY: host stubs only run inside a module call; nothing below holds a lock.
    unsafe { abort_active(AbortInfo::Panic { message, caller }) }
}

extern "C" fn panic_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: called only from the panic shim; gp[0] is the format, stack[-1] the return
    // address pushed by the module's call instruction.
    let (msg, caller) = unsafe {
        let mut ap = VaList::new(gp, 1, stack);
        (format(*gp as *const u8, &mut ap), *stack.sub(1) as usize)
    };
    kernel_panic(String::from_utf8_lossy(&msg).into_owned(), caller)
}

extern "C" fn vpanic_host(fmt: *const u8, ap: *const u8) -> u64 {
    // SAFETY: ap is the caller's va_list.
    let msg = unsafe {
        let mut va = VaList::from_sysv(ap);
        format(fmt, &mut va)
    };
    kernel_panic(String::from_utf8_lossy(&msg).into_owned(), 0)
}

extern "C" fn stack_chk_fail() -> u64 {
    kernel_panic("stack overflow detected; backtrace may be corrupted".into(), 0)
}

va_shim!(sim_va_panic, panic_impl);

/// Register panic, vpanic and the stack protector.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::variadic("panic", sim_va_panic as *const () as usize));
    v.push(KsymDef::function("vpanic", vpanic_host as *const () as usize));
    v.push(KsymDef::function("__stack_chk_fail", stack_chk_fail as *const () as usize));
    // A fixed, recognisable canary with a NUL byte (like arc4random-seeded guards often have).
    v.push(KsymDef::data("__stack_chk_guard", 0x00c0_ffee_5eed_f00du64.to_le_bytes().to_vec(), 8));
}

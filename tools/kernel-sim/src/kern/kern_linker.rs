//! What `linker_file_unload()` (`sys/kern/kern_linker.c`) leaves behind: once kldunload has
//! sent `MOD_UNLOAD`, run the SYSUNINITs and freed the file (`LINKER_UNLOAD(file)`, the text
//! and data go back to the kernel map), no thread may still execute the file's text or have
//! a return address into it on its stack. The kernel does not check this: such a thread runs
//! freed memory later (a page fault, or whatever was loaded there since). The classic case
//! is a module thread that wakes the unloader and then still has code of its own to run
//! (`wakeup(&count); mtx_unlock(&mtx); kthread_exit();` while `MOD_UNLOAD` sleeps until
//! `count == 0`): the unloader can return and the file be freed before that thread has
//! returned from `mtx_unlock` into module text and called `kthread_exit` there.
//!
//! The simulator checks it conservatively at file teardown: every live thread (not exited)
//! whose stack, from its saved `%rsp` to its top, holds a return address into the file's
//! text (a word pointing into an `SHF_EXECINSTR` section right after a `call` instruction),
//! or whose thread function is in the file and has not started, is a use after unload.
//! Being a conservative stack scan, it could take a stale word of a live frame for a return
//! address; words that are function entry points are never taken.

use crate::loader::Image;

use super::kern_switch::{TState, sched};

/// A thread that would still run the text of an unloaded file.
#[derive(Debug, Clone)]
pub struct StaleThread {
    /// Thread id.
    pub tid: u32,
    /// `td_name`.
    pub name: String,
    /// The innermost return address into the file, or the thread function when the thread
    /// has not started yet.
    pub addr: usize,
    /// Whether `addr` is a return address (false: the thread function, not started).
    pub is_return: bool,
}

/// Whether `w` points into an executable section of `img` right after a `call`: `E8 rel32`
/// (5 bytes), `FF /2` with a register or through one (`FF D0+r`, `FF 10+r`, 2 bytes,
/// optionally REX-prefixed), or with
/// memory operands of 3 (`FF 14 24`, `FF 55 d8`), 4 (`FF 54 24 d8`), 6 (`FF 15 disp32`,
/// `FF 90+r disp32`) or 7 (`FF 94 24 disp32`) bytes.
fn is_return_address(img: &Image, w: usize) -> bool {
    let exec = img.sections.iter().any(|s| s.flags & 4 /* SHF_EXECINSTR */ != 0 && w > s.addr && w <= s.addr + s.size);
    if !exec || w < img.base + 7 || !img.contains(w - 7, 7) {
        return false;
    }
    // A function's first byte is a function pointer, not a return address, even right after
    // a call (the previous function ending with a call to a noreturn function such as
    // kthread_exit or panic, whose return address is never used).
    if img.syms.iter().any(|s| s.stype == object::elf::STT_FUNC && s.value == Some(w)) {
        return false;
    }
    // SAFETY: the 7 bytes before `w` lie in the file's mapping (checked above), still mapped.
    let b: [u8; 7] = unsafe { std::ptr::read_unaligned((w - 7) as *const [u8; 7]) };
    let reg2 = |modrm: u8| (modrm >> 3) & 7 == 2;
    b[2] == 0xe8
        || (b[5] == 0xff && reg2(b[6]) && (b[6] >> 6 == 3 || (b[6] >> 6 == 0 && b[6] & 7 != 4 && b[6] & 7 != 5)))
        || (b[4] == 0xff && reg2(b[5]) && (b[5] >> 6 == 1 || b[5] & 7 == 4))
        || (b[3] == 0xff && reg2(b[4]) && b[4] >> 6 == 1 && b[4] & 7 == 4)
        || (b[1] == 0xff && reg2(b[2]) && (b[2] & 0xc7 == 0x05 || b[2] >> 6 == 2))
        || (b[0] == 0xff && reg2(b[1]) && b[1] >> 6 == 2 && b[1] & 7 == 4)
}

/// The live threads that would still execute `img`'s text once it is freed, innermost
/// return address first for each.
pub fn threads_in_text(img: &Image) -> Vec<StaleThread> {
    let s = sched();
    let mut out = Vec::new();
    for t in s.threads.iter().skip(1) {
        if matches!(t.state, TState::Exited) {
            continue;
        }
        let found = t.saved_stack().and_then(|(lo, hi)| {
            (lo..hi).step_by(8).find_map(|p| {
                // SAFETY: [lo, hi) is the live part of the switched-out thread's mapped stack.
                let w = unsafe { (p as *const usize).read() };
                is_return_address(img, w).then_some(w)
            })
        });
        match found {
            Some(addr) => out.push(StaleThread { tid: t.tid, name: t.name.clone(), addr, is_return: true }),
            None if img.contains(t.func, 1) => out.push(StaleThread { tid: t.tid, name: t.name.clone(), addr: t.func, is_return: false }),
            None => {}
        }
    }
    out
}

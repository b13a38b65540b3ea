//! `lowmem`: make the page daemon run the `vm_lowmem` event handlers
//! (`EVENTHANDLER_INVOKE(vm_lowmem, VM_LOW_PAGES)` in `vm_pageout_lowmem()`,
//! sys/vm/vm_pageout.c), as when the system runs short of free pages. Not a FreeBSD
//! program: the simulator's way to trigger the event.

use super::shell::Shell;

/// `lowmem`: runs every `vm_lowmem` handler once (on thread 0, as the page daemon).
pub fn run(sh: &mut Shell<'_>, argv: &[String]) -> i32 {
    if argv.len() != 1 {
        sh.err.push_str("usage: lowmem\n");
        return 1;
    }
    if let Err(f) = sh.k.lowmem() {
        sh.fault = Some(Box::new(f));
        return 1;
    }
    0
}

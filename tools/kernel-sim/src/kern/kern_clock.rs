//! The simulated clock (`sys/kern/kern_clock.c`, `sys/kern/kern_tc.c`, `sys/sys/time.h`,
//! `sys/sys/kernel.h`).
//!
//! `hz` = 1000, `tick` = 1000 (usec per tick), `tick_sbt` = `SBT_1S / hz`; `ticks` (an `int`,
//! overlapped by the 64-bit `ticksl` on 15.0) counts hardclock ticks. Time is simulated: it
//! only moves when every thread is blocked and some wait has a deadline (the scheduler jumps
//! to the earliest one) or through [`crate::Kernel::sleep`] (the `sleep SECONDS` command).
//! `sbinuptime()`/`getsbinuptime()` are inline in the headers and call `binuptime()` /
//! `getbinuptime()` (`struct bintime { time_t sec; uint64_t frac; }`). `DELAY(usec)` moves the
//! clock forward while the thread keeps the CPU.

use super::kern_switch::sched;
use crate::ksyms::KsymDef;

/// `hz`.
pub const HZ: i64 = 1000;
/// `SBT_1S` (sys/sys/time.h).
pub const SBT_1S: i64 = 1 << 32;
/// `tick_sbt` = `SBT_1S / hz`.
pub const TICK_SBT: i64 = SBT_1S / HZ;
/// Uptime at boot: one second (so that `ticks` starts at `hz`).
pub const BOOT_SBT: i64 = SBT_1S;

/// `ticks` at uptime `sbt`.
pub fn ticks_at(sbt: i64) -> i64 {
    sbt / TICK_SBT
}

fn now() -> i64 {
    super::kern_switch::try_sched().map(|s| s.now).unwrap_or(BOOT_SBT)
}

fn write_bintime(bt: usize, sbt: i64) {
    // bttosbt/sbttobt: sec = sbt >> 32, frac = (sbt & 0xffffffff) << 32.
    // SAFETY: bt points to the module's struct bintime (16 bytes).
    unsafe {
        (bt as *mut i64).write(sbt >> 32);
        ((bt + 8) as *mut u64).write(((sbt as u64) & 0xffff_ffff) << 32);
    }
}

fn write_timespec(ts: usize, sbt: i64) {
    let nsec = ((sbt as u64 & 0xffff_ffff) * 1_000_000_000) >> 32;
    // SAFETY: ts points to the module's struct timespec (16 bytes).
    unsafe {
        (ts as *mut i64).write(sbt >> 32);
        ((ts + 8) as *mut i64).write(nsec as i64);
    }
}

fn write_timeval(tv: usize, sbt: i64) {
    let usec = ((sbt as u64 & 0xffff_ffff) * 1_000_000) >> 32;
    // SAFETY: tv points to the module's struct timeval (16 bytes).
    unsafe {
        (tv as *mut i64).write(sbt >> 32);
        ((tv + 8) as *mut i64).write(usec as i64);
    }
}

/// `DELAY(usec)` (`void DELAY(int usec)`, sys/sys/systm.h; a busy-wait in
/// `sys/x86/x86/delay.c`): the simulated clock moves forward by `usec` while the thread
/// keeps the CPU (threads whose deadline passes become runnable; nothing sleeps, so it is
/// allowed with any lock held). Module code busy-waiting on `ticks` therefore needs
/// `DELAY`, `pause` or a sleep, as on a kernel without a clock interrupt.
extern "C" fn k_delay(usec: i32) {
    super::kern_switch::preempt();
    if usec > 0
        && let Some(s) = super::kern_switch::try_sched()
    {
        let t = s.now + i64::from(usec) * (SBT_1S / 1_000_000);
        s.advance_to(t);
    }
}

extern "C" fn k_binuptime(bt: usize) {
    write_bintime(bt, now());
}
extern "C" fn k_getbinuptime(bt: usize) {
    // The get* variants return the time of the last tick.
    write_bintime(bt, ticks_at(now()) * TICK_SBT);
}
extern "C" fn k_nanouptime(ts: usize) {
    write_timespec(ts, now());
}
extern "C" fn k_getnanouptime(ts: usize) {
    write_timespec(ts, ticks_at(now()) * TICK_SBT);
}
extern "C" fn k_microuptime(tv: usize) {
    write_timeval(tv, now());
}
extern "C" fn k_getmicrouptime(tv: usize) {
    write_timeval(tv, ticks_at(now()) * TICK_SBT);
}

/// Register the clock symbols.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::data("hz", (HZ as i32).to_le_bytes().to_vec(), 4));
    v.push(KsymDef::data("tick", 1000i32.to_le_bytes().to_vec(), 4));
    v.push(KsymDef::data("ticks", ticks_at(BOOT_SBT).to_le_bytes().to_vec(), 8));
    v.push(KsymDef::data("ticksl", ticks_at(BOOT_SBT).to_le_bytes().to_vec(), 8));
    v.push(KsymDef::data("tick_sbt", TICK_SBT.to_le_bytes().to_vec(), 8));
    v.push(KsymDef::function("DELAY", k_delay as *const () as usize));
    v.push(KsymDef::function("binuptime", k_binuptime as *const () as usize));
    v.push(KsymDef::function("getbinuptime", k_getbinuptime as *const () as usize));
    v.push(KsymDef::function("nanouptime", k_nanouptime as *const () as usize));
    v.push(KsymDef::function("getnanouptime", k_getnanouptime as *const () as usize));
    v.push(KsymDef::function("microuptime", k_microuptime as *const () as usize));
    v.push(KsymDef::function("getmicrouptime", k_getmicrouptime as *const () as usize));
}

/// Tell the scheduler where `ticks`/`ticksl` live (after the symbol table is built).
pub(crate) fn attach(addrs: Vec<usize>) {
    sched().ticks_addrs = addrs;
}

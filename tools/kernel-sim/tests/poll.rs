//! poll(2) and selinfo from a C module built from the real headers
//! (`examples/c-twins/poll_fixture.c`): the kern_conf.c `no_poll` answer for a device
//! without `d_poll`, `POLLNVAL`/`EFAULT`/`EINVAL`, a timeout in simulated time, a sleeping
//! poll woken by another process's write (`selrecord`/`selwakeup`, `SEL_WAITING`), a device
//! destroyed under a sleeping poller (`seldrain`: it wakes with the destroyed device's
//! answer, `dead_poll`), and the bugs: freeing a selinfo with a poller still queued, a third
//! `selrecord` for one descriptor, `selwakeup` under a spin mutex.
mod common;
use std::cell::RefCell;
use std::rc::Rc;

use kernel_sim::kern::sys_generic::pollbits::*;
use kernel_sim::kern::sys_generic::{PollFd, kern_poll_kfds, sys_open, sys_poll};
use kernel_sim::user::Ucred;
use kernel_sim::user::errno::*;
use kernel_sim::user::shell::Shell;
use kernel_sim::user::shell::oflags::*;
use kernel_sim::{Kernel, SimOptions, SimRelease};

const PFIX_CLEAR: u64 = 0x2000_5001;
const PFIX_WAITING: u64 = 0x4004_5002;
const PFIX_POLLS: u64 = 0x4004_5003;

fn boot_variant(tag: &str, flags: &[&str], target: common::Target, release: SimRelease) -> (Kernel, kernel_sim::ModuleId) {
    let ko = common::build_with(&format!("pollfix-{tag}-{target:?}"), &["poll_fixture.c"], target, flags);
    let mut k = Kernel::boot(release, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    (k, id)
}

fn boot() -> (Kernel, kernel_sim::ModuleId) {
    boot_variant("plain", &[], common::Target::Fbsd14, SimRelease::V14_0)
}

const RW: i16 = (POLLIN | POLLOUT) as i16;

#[test]
fn without_d_poll_the_kernel_answers_no_poll_and_bad_arguments_fail() {
    let _g = common::lock();
    for (t, r) in [(common::Target::Fbsd14, SimRelease::V14_0), (common::Target::Fbsd15, SimRelease::V15_0)] {
        let (mut k, id) = boot_variant("plain", &[], t, r);
        let pid = k.spawn("t", Ucred::root());
        {
            let mut sh = Shell::new(&mut k, pid);
            let fd = sh.open("/dev/pollfix_nopoll", O_RDWR).unwrap();
            // kern_conf.c no_poll: read and write always ready; POLLPRI never; an event outside
            // POLLSTANDARD is POLLNVAL.
            assert_eq!(sh.poll(&[(fd, RW)], 0), Ok((1, vec![RW])));
            assert_eq!(sh.poll(&[(fd, (POLLRDNORM | POLLPRI) as i16)], 0), Ok((1, vec![POLLRDNORM as i16])));
            assert_eq!(sh.poll(&[(fd, POLLPRI as i16)], 0), Ok((0, vec![0])));
            assert_eq!(sh.poll(&[(fd, 0x2000)], 0), Ok((1, vec![POLLNVAL as i16])));
            // A descriptor that is not open: POLLNVAL; a negative one: ignored.
            assert_eq!(sh.poll(&[(17, RW), (-1, RW)], 0), Ok((1, vec![POLLNVAL as i16, 0])));
            // EFAULT for an unmapped array, EINVAL for a negative timeout (not INFTIM) and
            // for more than FD_SETSIZE descriptors.
            assert_eq!(sh.sys(|| sys_poll(0x10, 1, 0)), Err(EFAULT));
            assert_eq!(sh.poll(&[(fd, RW)], -2), Err(EINVAL));
            assert_eq!(sh.sys(|| sys_poll(0x10, 1025, 0)), Err(EINVAL));
            sh.close(fd).unwrap();
        }
        k.exit_process(pid).unwrap();
        k.unload(id).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
        assert!(k.panics().is_empty(), "{:?}", k.panics());
        assert_eq!(k.malloc_type("pollfix").map(|t| t.live_allocs), Some(0));
    }
}

#[test]
fn a_poll_times_out_in_simulated_time_and_answers_writable_at_once() {
    let _g = common::lock();
    let (mut k, id) = boot();
    let pid = k.spawn("t", Ucred::root());
    {
        let mut sh = Shell::new(&mut k, pid);
        let fd = sh.open("/dev/pollfix", O_RDWR).unwrap();
        // Writable now: no sleep.
        assert_eq!(sh.poll(&[(fd, RW)], 1000), Ok((1, vec![POLLOUT as i16])));
        let t0 = sh.k.ticks();
        // Nothing to read: sleeps 250 ms, returns 0.
        assert_eq!(sh.poll(&[(fd, POLLIN as i16)], 250), Ok((0, vec![0])));
        assert_eq!(sh.k.ticks() - t0, 250);
        // The thread is no longer queued on the selinfo (seltdclear).
        let b = sh.alloc(4).unwrap();
        sh.ioctl(fd, PFIX_WAITING, b).unwrap();
        assert_eq!(sh.peek(b, 4), 0i32.to_ne_bytes());
        // Written: readable.
        assert_eq!(sh.write(fd, b, 1), Ok(1));
        assert_eq!(sh.poll(&[(fd, (POLLIN | POLLRDNORM) as i16)], 250), Ok((1, vec![(POLLIN | POLLRDNORM) as i16])));
        sh.close(fd).unwrap();
    }
    k.exit_process(pid).unwrap();
    k.unload(id).unwrap();
    assert!(k.panics().is_empty(), "{:?}", k.panics());
}

/// A poller on a thread of its own, forever (`INFTIM`); its result lands in the cell.
fn poll_in_background(k: &mut Kernel, pid: i32, fd: i32, events: i16) -> Rc<RefCell<Option<(i32, i16)>>> {
    let out: Rc<RefCell<Option<(i32, i16)>>> = Rc::new(RefCell::new(None));
    let o = out.clone();
    k.syscall_in_background(pid, move || {
        let mut fds = [PollFd { fd, events, revents: 0 }];
        let e = kern_poll_kfds(&mut fds, INFTIM);
        *o.borrow_mut() = Some((e, fds[0].revents));
    })
    .unwrap();
    out
}

#[test]
fn a_sleeping_poll_is_woken_by_another_process_write() {
    let _g = common::lock();
    let (mut k, id) = boot();
    let poller = k.spawn("poller", Ucred::root());
    let writer = k.spawn("writer", Ucred::root());
    let fd = k.syscall(poller, || sys_open("/dev/pollfix", O_RDWR)).unwrap().unwrap();
    let out = poll_in_background(&mut k, poller, fd, (POLLIN | POLLRDNORM) as i16);
    assert!(out.borrow().is_none(), "nothing to read yet");
    assert!(k.threads().iter().any(|t| t.2.contains("select")), "{:?}", k.threads());
    {
        let mut sh = Shell::new(&mut k, writer);
        let wfd = sh.open("/dev/pollfix", O_RDWR).unwrap();
        let b = sh.alloc(4).unwrap();
        // SEL_WAITING: the poller is queued on the selinfo.
        sh.ioctl(wfd, PFIX_WAITING, b).unwrap();
        assert_eq!(sh.peek(b, 4), 1i32.to_ne_bytes());
        assert_eq!(sh.write(wfd, b, 1), Ok(1));
        sh.close(wfd).unwrap();
    }
    k.sleep(std::time::Duration::from_millis(1)).unwrap();
    assert_eq!(*out.borrow(), Some((0, (POLLIN | POLLRDNORM) as i16)));
    {
        let mut sh = Shell::new(&mut k, poller);
        sh.ioctl(fd, PFIX_CLEAR, 0).unwrap();
        sh.close(fd).unwrap();
    }
    k.exit_process(writer).unwrap();
    k.exit_process(poller).unwrap();
    k.unload(id).unwrap();
    assert!(k.panics().is_empty(), "{:?}", k.panics());
}

#[test]
fn unloading_under_a_sleeping_poller_wakes_it_with_the_destroyed_device_answer() {
    let _g = common::lock();
    let (mut k, id) = boot();
    let pid = k.spawn("poller", Ucred::root());
    let fd = k.syscall(pid, || sys_open("/dev/pollfix", O_RDWR)).unwrap().unwrap();
    let out = poll_in_background(&mut k, pid, fd, (POLLIN | POLLRDNORM) as i16);
    assert!(out.borrow().is_none());
    // kldunload -f: destroy_dev does not wait for the poller (it is not in a method), the
    // module's seldrain wakes it before the softc is freed.
    k.unload_force(id).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    k.sleep(std::time::Duration::from_millis(1)).unwrap();
    assert!(k.panics().is_empty(), "{:?}", k.panics());
    // dead_poll: POLLHUP | (events & (POLLIN | POLLRDNORM)).
    assert_eq!(*out.borrow(), Some((0, (POLLHUP | POLLIN | POLLRDNORM) as i16)));
    // Later polls of the revoked file answer the same at once, without POLLOUT.
    {
        let mut sh = Shell::new(&mut k, pid);
        assert_eq!(sh.poll(&[(fd, RW)], INFTIM), Ok((1, vec![(POLLHUP | POLLIN) as i16])));
        sh.close(fd).unwrap();
    }
    k.exit_process(pid).unwrap();
    assert_eq!(k.malloc_type("pollfix").map(|t| t.live_allocs), Some(0));
}

#[test]
fn freeing_a_selinfo_with_a_queued_poller_is_reported() {
    let _g = common::lock();
    let (mut k, id) = boot_variant("no-seldrain", &["-DFIX_BUG_NO_SELDRAIN"], common::Target::Fbsd14, SimRelease::V14_0);
    let pid = k.spawn("poller", Ucred::root());
    let fd = k.syscall(pid, || sys_open("/dev/pollfix", O_RDWR)).unwrap().unwrap();
    let _out = poll_in_background(&mut k, pid, fd, POLLIN as i16);
    let r = k.unload_force(id);
    let all = format!("{r:?}\n{:?}\n{}", k.panics(), k.console());
    assert!(all.contains("still queued by selrecord: seldrain() it before freeing"), "{all}");
}

#[test]
fn a_third_selrecord_for_one_descriptor_panics_like_the_kernel() {
    let _g = common::lock();
    let (mut k, _id) = boot_variant("three-records", &["-DFIX_BUG_THREE_RECORDS"], common::Target::Fbsd14, SimRelease::V14_0);
    let pid = k.spawn("t", Ucred::root());
    let mut sh = Shell::new(&mut k, pid);
    let fd = sh.open("/dev/pollfix", O_RDWR).unwrap();
    assert_eq!(sh.poll(&[(fd, POLLIN as i16)], 0), Err(EIO));
    let f = sh.fault.take().expect("a panic");
    assert!(f.to_string().contains("selrecord: No free selfd on selq"), "{f}");
}

#[test]
fn the_fuzzer_polls_and_survives() {
    let _g = common::lock();
    let (mut k, id) = boot();
    let r = k.fuzz(3000, 4, 11);
    assert!(r.failure.is_none() && r.fault.is_none(), "{:?} {:?}\n{}", r.failure, r.fault, k.console());
    let pid = k.spawn("t", Ucred::root());
    {
        let mut sh = Shell::new(&mut k, pid);
        let fd = sh.open("/dev/pollfix", O_RDONLY).unwrap();
        let b = sh.alloc(4).unwrap();
        sh.ioctl(fd, PFIX_POLLS, b).unwrap();
        let polls = i32::from_ne_bytes(sh.peek(b, 4).try_into().unwrap());
        assert!(polls > 20, "the fuzzer made {polls} d_poll calls");
        sh.close(fd).unwrap();
    }
    k.exit_process(pid).unwrap();
    k.unload(id).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    assert!(k.panics().is_empty(), "{:?}", k.panics());
    assert_eq!(k.malloc_type("pollfix").map(|t| t.live_allocs), Some(0));
}

#[test]
fn selwakeup_with_a_spin_mutex_held_is_reported_by_witness() {
    let _g = common::lock();
    let (mut k, _id) = boot_variant("spin", &["-DFIX_BUG_WAKEUP_UNDER_SPIN"], common::Target::Fbsd14, SimRelease::V14_0);
    let pid = k.spawn("t", Ucred::root());
    let mut sh = Shell::new(&mut k, pid);
    let fd = sh.open("/dev/pollfix", O_RDWR).unwrap();
    let b = sh.alloc(4).unwrap();
    assert_eq!(sh.write(fd, b, 1), Err(EIO));
    let f = sh.fault.take().expect("a WITNESS panic");
    assert!(f.to_string().contains("acquiring blockable sleep lock with spinlock or critical section held (sleep mutex) select mtxpool"), "{f}");
}

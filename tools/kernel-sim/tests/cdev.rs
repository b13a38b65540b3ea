//! Devices from a C module built from the real headers (`examples/c-twins/cdev_fixture.c`):
//! devfs, `--exec`-style commands as user processes with credentials, uiomove/copyout
//! EFAULT, ioctl encoding (ENOTTY, EINVAL, IOC_OUT copy-out), cdevpriv (EBUSY, destructor
//! at close), devfs modes (EACCES), priv_check (EPERM, jailed root).
mod common;
use kernel_sim::user::Ucred;
use kernel_sim::user::errno::*;
use kernel_sim::user::shell::oflags::*;
use kernel_sim::{Kernel, SimOptions, SimRelease};

const FIX_GETLEN: u64 = 0x4004_4601;
const FIX_CLEAR: u64 = 0x2000_4602;
const FIX_SETLEN: u64 = 0x8004_4603;
const FIX_GETPRIV: u64 = 0x4004_4604;
const FIX_SETPRIV: u64 = 0x2000_4605;
const FIX_COPYOUT: u64 = 0x8008_4606;

fn boot(target: common::Target, release: SimRelease) -> (Kernel, kernel_sim::ModuleId) {
    let ko = common::build(&format!("cdevfix-{target:?}"), &["cdev_fixture.c"], target);
    let mut k = Kernel::boot(release, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    (k, id)
}

fn sh(k: &mut Kernel, cred: Ucred, line: &str) -> (i32, String, String) {
    let pid = k.spawn("sh", cred);
    let o = k.run_command(pid, line);
    k.exit_process(pid).expect("exit");
    assert!(o.fault.is_none(), "{line}: {:?}\n{}", o.fault, k.console());
    (o.status, String::from_utf8_lossy(&o.stdout).into_owned(), o.stderr)
}

#[test]
fn commands_echo_cat_dd_and_permissions() {
    let _g = common::lock();
    for (t, r) in [(common::Target::Fbsd14, SimRelease::V14_0), (common::Target::Fbsd15, SimRelease::V15_0)] {
        let (mut k, id) = boot(t, r);
        assert_eq!(k.devices(), vec!["cdevfix", "cdevfix_pub"]);
        assert_eq!(sh(&mut k, Ucred::root(), "echo hi > /dev/cdevfix"), (0, String::new(), String::new()));
        assert_eq!(sh(&mut k, Ucred::root(), "cat /dev/cdevfix"), (0, "hi\n".into(), String::new()));
        let (st, out, err) = sh(&mut k, Ucred::root(), "dd if=/dev/cdevfix of=- bs=1 count=1 skip=1");
        assert_eq!((st, out.as_str()), (0, "i"));
        assert!(err.starts_with("1+0 records in\n1+0 records out\n1 bytes transferred in "), "{err}");
        // devfs modes: 0600 root:wheel refuses others; 0666 does not.
        assert_eq!(sh(&mut k, Ucred::user(1001, 1001), "cat /dev/cdevfix"), (1, String::new(), "cat: /dev/cdevfix: Permission denied\n".into()));
        assert_eq!(sh(&mut k, Ucred::user(1001, 1001), "echo x > /dev/cdevfix").2, "sh: cannot create /dev/cdevfix: Permission denied\n");
        assert_eq!(sh(&mut k, Ucred::user(1001, 1001), "cat /dev/cdevfix_pub").0, 0);
        assert_eq!(sh(&mut k, Ucred::root(), "cat /dev/nope"), (1, String::new(), "cat: /dev/nope: No such file or directory\n".into()));
        assert_eq!(sh(&mut k, Ucred::root(), "frobnicate"), (127, String::new(), "sh: frobnicate: not found\n".into()));
        let t0 = k.ticks();
        assert_eq!(sh(&mut k, Ucred::root(), "sleep 2").0, 0);
        assert_eq!(k.ticks() - t0, 2000);
        k.unload(id).expect("unload");
        assert!(k.devices().is_empty());
        assert!(k.panics().is_empty(), "{:?}", k.panics());
        assert_eq!(k.malloc_type("cdevfix").map(|t| t.live_allocs), Some(0));
    }
}

#[test]
fn errno_paths_efault_enotty_einval_ebusy_eperm() {
    let _g = common::lock();
    let (mut k, id) = boot(common::Target::Fbsd14, SimRelease::V14_0);
    let run = |k: &mut Kernel, cred: Ucred, f: &dyn Fn(&mut kernel_sim::user::shell::Shell<'_>)| {
        let pid = k.spawn("t", cred);
        let mut s = kernel_sim::user::shell::Shell::new(k, pid);
        f(&mut s);
        assert!(s.fault.is_none(), "{:?}", s.fault);
        let _ = s;
        k.exit_process(pid).expect("exit");
    };
    run(&mut k, Ucred::root(), &|s| {
        let fd = s.open("/dev/cdevfix_pub", O_RDWR).expect("open");
        let buf = s.alloc(64).unwrap();
        s.poke(buf, b"abcdef");
        assert_eq!(s.write(fd, buf, 6), Ok(6));
        // uiomove to/from an unmapped user address: EFAULT, no crash.
        assert_eq!(s.lseek(fd, 0, 0), Ok(0));
        assert_eq!(s.read(fd, 0x1000, 4), Err(EFAULT));
        assert_eq!(s.write(fd, usize::MAX - 2, 2), Err(EFAULT));
        // DEVFS_IOSIZE_MAX is INT_MAX.
        assert_eq!(s.read(fd, buf, 1 << 31), Err(EINVAL));
        // ioctl: IOC_OUT copy-out, unknown command ENOTTY, bad encodings ENOTTY.
        assert_eq!(s.ioctl(fd, FIX_GETLEN, buf), Ok(()));
        assert_eq!(s.peek(buf, 4), 6i32.to_le_bytes());
        assert_eq!(s.ioctl(fd, FIX_GETLEN, 0x10), Err(EFAULT));
        assert_eq!(s.ioctl(fd, 0xc004_46ff, buf), Err(ENOTTY));
        assert_eq!(s.ioctl(fd, 0x0000_4601, buf), Err(ENOTTY));
        assert_eq!(s.ioctl(fd, 0x4000_4601, buf), Err(ENOTTY));
        assert_eq!(s.ioctl(fd, 0x2008_4601, buf), Err(ENOTTY));
        // EINVAL from the driver for a bad size argument; IOC_IN from unmapped memory: EFAULT.
        s.poke(buf, &5000i32.to_le_bytes());
        assert_eq!(s.ioctl(fd, FIX_SETLEN, buf), Err(EINVAL));
        assert_eq!(s.ioctl(fd, FIX_SETLEN, 8), Err(EFAULT));
        // cdevpriv: per open, EBUSY when set twice.
        assert_eq!(s.ioctl(fd, FIX_GETPRIV, buf), Ok(()));
        let first = i32::from_le_bytes(s.peek(buf, 4).try_into().unwrap());
        let fd2 = s.open("/dev/cdevfix_pub", O_RDONLY).expect("open");
        assert_eq!(s.ioctl(fd2, FIX_GETPRIV, buf), Ok(()));
        assert_eq!(i32::from_le_bytes(s.peek(buf, 4).try_into().unwrap()), first + 1);
        assert_eq!(s.ioctl(fd, FIX_SETPRIV, 0), Err(EBUSY));
        // copyout to a user pointer carried in the argument.
        let dst = s.alloc(8).unwrap();
        s.poke(buf, &(dst as u64).to_le_bytes());
        assert_eq!(s.ioctl(fd, FIX_COPYOUT, buf), Ok(()));
        assert_eq!(s.peek(dst, 8), 0x1122334455667788u64.to_le_bytes());
        s.poke(buf, &0x10u64.to_le_bytes());
        assert_eq!(s.ioctl(fd, FIX_COPYOUT, buf), Err(EFAULT));
        assert_eq!(s.ioctl(fd, FIX_CLEAR, 0), Ok(()));
        assert_eq!(s.close(fd2), Ok(()));
        assert_eq!(s.close(fd), Ok(()));
        assert_eq!(s.close(fd), Err(EBADF));
    });
    // priv_check(PRIV_DRIVER): non-root and jailed root get EPERM.
    for cred in [Ucred::user(1001, 1001), Ucred { jailed: true, ..Ucred::root() }] {
        run(&mut k, cred, &|s| {
            let fd = s.open("/dev/cdevfix_pub", O_RDWR).expect("open");
            assert_eq!(s.ioctl(fd, FIX_CLEAR, 0), Err(EPERM));
            s.close(fd).unwrap();
        });
    }
    // Jailed root passes the devfs mode check (PRIV_VFS_READ is allowed in jails).
    assert_eq!(sh(&mut k, Ucred { jailed: true, ..Ucred::root() }, "cat /dev/cdevfix").0, 0);
    // Every cdevpriv destructor ran at close.
    assert_eq!(k.malloc_type("cdevfix").map(|t| t.live_allocs), Some(0));
    k.unload(id).expect("unload");
    assert!(k.panics().is_empty(), "{:?}", k.panics());
}

#[test]
fn fuzz_the_fixture_from_four_processes() {
    let _g = common::lock();
    for seed in [1u64, 2] {
        let (mut k, id) = boot(common::Target::Fbsd14, SimRelease::V14_0);
        let cmds = k.ioctl_commands();
        // Found in the compiled switch (gcc may derive some constants arithmetically).
        let found = [FIX_GETLEN, FIX_CLEAR, FIX_SETLEN, FIX_GETPRIV, FIX_SETPRIV, FIX_COPYOUT].iter().filter(|c| cmds.contains(&(**c as u32))).count();
        assert!(found >= 5, "{found} of 6 commands found in {cmds:x?}");
        assert!(cmds.len() < 20, "{cmds:x?}");
        let r = k.fuzz(2000, 4, seed);
        assert!(r.fault.is_none() && r.failure.is_none(), "{:?} {:?}\n{}", r.fault, r.failure, k.console());
        assert_eq!(r.ops, 2000);
        assert!(r.errors > 0 && r.errors < r.ops, "{} errors", r.errors);
        k.unload(id).expect("unload");
        assert!(k.panics().is_empty(), "{:?}", k.panics());
        assert_eq!(k.malloc_type("cdevfix").map(|t| t.live_allocs), Some(0));
    }
}

const FIX_GETCLOSES: u64 = 0x4004_4607;
const FIX_SLEEP: u64 = 0x2000_4608;

fn boot_variant(tag: &str, flags: &[&str]) -> (Kernel, kernel_sim::ModuleId) {
    let ko = common::build_with(&format!("cdevfix-{tag}"), &["cdev_fixture.c"], common::Target::Fbsd14, flags);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    (k, id)
}

fn closes_after_three_opens(k: &mut Kernel) -> Vec<i32> {
    let pid = k.spawn("t", Ucred::root());
    let mut s = kernel_sim::user::shell::Shell::new(k, pid);
    let buf = s.alloc(4).unwrap();
    let fds: Vec<i32> = (0..3).map(|_| s.open("/dev/cdevfix", O_RDONLY).unwrap()).collect();
    let mut seen = Vec::new();
    for fd in &fds[..2] {
        s.close(*fd).unwrap();
        s.ioctl(fds[2], FIX_GETCLOSES, buf).unwrap();
        seen.push(i32::from_le_bytes(s.peek(buf, 4).try_into().unwrap()));
    }
    s.close(fds[2]).unwrap();
    let fd = s.open("/dev/cdevfix", O_RDONLY).unwrap();
    s.ioctl(fd, FIX_GETCLOSES, buf).unwrap();
    seen.push(i32::from_le_bytes(s.peek(buf, 4).try_into().unwrap()));
    s.close(fd).unwrap();
    k.exit_process(pid).unwrap();
    seen
}

#[test]
fn d_close_only_on_last_close_unless_trackclose() {
    let _g = common::lock();
    let (mut k, id) = boot_variant("plain", &[]);
    assert_eq!(closes_after_three_opens(&mut k), vec![0, 0, 1]);
    k.unload(id).unwrap();
    drop(k);
    let (mut k, id) = boot_variant("trackclose", &["-DFIX_TRACKCLOSE"]);
    assert_eq!(closes_after_three_opens(&mut k), vec![1, 2, 3]);
    k.unload(id).unwrap();
}

#[test]
fn destroy_dev_waits_for_a_sleeping_method_and_revokes_open_files() {
    let _g = common::lock();
    let (mut k, id) = boot(common::Target::Fbsd14, SimRelease::V14_0);
    let pid = k.spawn("sleeper", Ucred::root());
    let fd = k.syscall(pid, || kernel_sim::kern::sys_generic::sys_open("/dev/cdevfix_pub", O_RDWR)).unwrap().unwrap();
    k.syscall_in_background(pid, move || {
        let r = kernel_sim::kern::sys_generic::sys_ioctl(fd, FIX_SLEEP, 0);
        assert_eq!(r, Ok(()));
    })
    .unwrap();
    assert!(k.threads().iter().any(|t| t.2.contains("fixslp")), "{:?}", k.threads());
    let t0 = k.ticks();
    // kldunload -f: MOD_UNLOAD's destroy_dev sleeps on "devdrn" until the ioctl returns.
    k.unload(id).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    assert!(k.ticks() - t0 >= 1000, "destroy_dev did not wait: {} ticks", k.ticks() - t0);
    assert!(!k.console().contains("after destroy_dev"), "{}", k.console());
    assert!(k.panics().is_empty(), "{:?}", k.panics());
    // The file is revoked: its calls fail with ENXIO; closing it calls nothing; the
    // cdevpriv destructor already ran in destroy_dev.
    let buf = k.syscall(pid, || 0).unwrap();
    let _ = buf;
    assert_eq!(k.syscall(pid, move || kernel_sim::kern::sys_generic::sys_ioctl(fd, FIX_GETCLOSES, 0)).unwrap(), Err(ENXIO));
    assert_eq!(k.syscall(pid, move || kernel_sim::kern::sys_generic::sys_close(fd)).unwrap(), Ok(()));
    k.exit_process(pid).unwrap();
    assert_eq!(k.malloc_type("cdevfix").map(|t| t.live_allocs), Some(0));
}

#[test]
fn destroy_dev_from_own_d_close_is_reported() {
    let _g = common::lock();
    let (mut k, _id) = boot_variant("destroy-in-close", &["-DFIX_BUG_DESTROY_IN_CLOSE"]);
    let pid = k.spawn("sh", Ucred::root());
    let o = k.run_command(pid, "cat /dev/cdevfix");
    let f = o.fault.expect("a panic");
    assert!(f.to_string().contains("called from a d_* method of the device itself"), "{f}");
}

#[test]
fn device_left_at_unload_is_reported() {
    let _g = common::lock();
    let (mut k, id) = boot_variant("no-destroy", &["-DFIX_BUG_NO_DESTROY"]);
    k.unload(id).unwrap();
    assert!(k.panics().iter().any(|p| p.contains("/dev/cdevfix_pub still exist")), "{:?}", k.panics());
    assert!(k.devices().is_empty());
}

#[test]
fn fuzz_catches_an_ignored_priv_check() {
    let _g = common::lock();
    let (mut k, _id) = boot_variant("ignore-priv", &["-DFIX_BUG_IGNORE_PRIV"]);
    let r = k.fuzz(3000, 4, 7);
    let f = r.failure.expect("the fuzzer must notice");
    assert!(f.contains("priv_check refused privilege 14"), "{f}");
}

#[test]
fn make_dev_make_dev_p_dev2unit_devtoname_uiomove_frombuf() {
    let _g = common::lock();
    let (mut k, id) = boot_variant("old-api", &["-DFIX_OLD_API"]);
    assert!(k.console().contains("cdevfix: made /dev/cdevfix unit 7\n"), "{}", k.console());
    assert_eq!(k.devices(), vec!["cdevfix", "cdevfix_pub"]);
    assert_eq!(sh(&mut k, Ucred::root(), "echo hello > /dev/cdevfix").0, 0);
    assert_eq!(sh(&mut k, Ucred::root(), "cat /dev/cdevfix").1, "hello\n");
    let (st, out, _) = sh(&mut k, Ucred::root(), "dd if=/dev/cdevfix bs=2 skip=1");
    assert_eq!((st, out.as_str()), (0, "llo\n"));
    let pid = k.spawn("t", Ucred::root());
    let mut s = kernel_sim::user::shell::Shell::new(&mut k, pid);
    let buf = s.alloc(4).unwrap();
    let fd = s.open("/dev/cdevfix", O_RDONLY).unwrap();
    s.ioctl(fd, 0x4004_4609, buf).unwrap();
    assert_eq!(s.peek(buf, 4), 7i32.to_le_bytes());
    s.close(fd).unwrap();
    k.exit_process(pid).unwrap();
    k.unload(id).unwrap();
    assert!(k.panics().is_empty(), "{:?}", k.panics());
}

#[test]
fn witness_uiomove_with_a_mutex_and_returning_to_user_space_locked() {
    let _g = common::lock();
    let (mut k, _id) = boot_variant("uiomove-locked", &["-DFIX_BUG_UIOMOVE_LOCKED"]);
    assert_eq!(sh(&mut k, Ucred::root(), "echo x > /dev/cdevfix").0, 0);
    let pid = k.spawn("sh", Ucred::root());
    let f = k.run_command(pid, "cat /dev/cdevfix").fault.expect("WITNESS panic");
    assert!(f.to_string().contains("Calling uiomove() with the following non-sleepable locks held"), "{f}");
    drop(k);
    let (mut k, _id) = boot_variant("return-locked", &["-DFIX_BUG_RETURN_LOCKED"]);
    let r = k.fuzz(1000, 4, 1);
    let f = r.fault.clone().unwrap_or_else(|| panic!("no WITNESS panic: {:?} {:?}\n{}", r.ops, k.panics(), k.console()));
    assert!(f.to_string().contains("userret: returning with the following locks held"), "{f}");
}

#[test]
fn a_crash_in_a_method_does_not_hang_the_unload() {
    let _g = common::lock();
    // The WITNESS panic in d_read abandons the thread inside the method (si_threadcount 1):
    // MOD_UNLOAD's destroy_dev must not wait for the dead thread until the watchdog fires.
    let (mut k, id) = boot_variant("uiomove-locked", &["-DFIX_BUG_UIOMOVE_LOCKED"]);
    assert_eq!(sh(&mut k, Ucred::root(), "echo x > /dev/cdevfix").0, 0);
    let pid = k.spawn("sh", Ucred::root());
    assert!(k.run_command(pid, "cat /dev/cdevfix").fault.is_some());
    let t = std::time::Instant::now();
    let _ = k.unload(id);
    assert!(t.elapsed() < std::time::Duration::from_secs(3), "unload after a crash took {:?}", t.elapsed());
}

#[test]
fn td_proc_and_td_ucred_seen_from_c_on_14_and_15() {
    let _g = common::lock();
    for (t, r) in [(common::Target::Fbsd14, SimRelease::V14_0), (common::Target::Fbsd15, SimRelease::V15_0)] {
        let (mut k, id) = boot(t, r);
        for (cred, eperm) in [(Ucred::user(1001, 20), EPERM), (Ucred::root(), 0), (Ucred { jailed: true, ..Ucred::root() }, EPERM)] {
            let pid = k.spawn("who", cred.clone());
            let mut s = kernel_sim::user::shell::Shell::new(&mut k, pid);
            let buf = s.alloc(16).unwrap();
            let fd = s.open("/dev/cdevfix_pub", O_RDONLY).unwrap();
            s.ioctl(fd, 0x4010_460a, buf).unwrap();
            let w: Vec<i32> = s.peek(buf, 16).chunks(4).map(|c| i32::from_le_bytes(c.try_into().unwrap())).collect();
            assert_eq!(w, vec![pid, cred.uid as i32, cred.ruid as i32, cred.gid as i32], "{t:?} {cred:?}");
            // priv_check_cred(td->td_ucred, PRIV_DRIVER)
            assert_eq!(s.ioctl(fd, 0x2000_460b, 0).err().unwrap_or(0), eperm, "{t:?} {cred:?}");
            s.close(fd).unwrap();
            k.exit_process(pid).unwrap();
        }
        k.unload(id).unwrap();
        drop(k);
    }
}

#[test]
fn a_device_without_eof_stops_the_command_at_the_output_limit() {
    let _g = common::lock();
    let (mut k, id) = boot_variant("endless", &["-DFIX_ENDLESS"]);
    let (st, out, err) = sh(&mut k, Ucred::root(), "dd if=/dev/cdevfix bs=1m");
    assert_eq!(st, 1);
    assert_eq!(out.len(), 64 << 20);
    assert!(err.starts_with("sh: output limit of 64 MiB reached") && err.contains("dd: stdout: File too large\n"), "{err}");
    k.unload(id).unwrap();
}

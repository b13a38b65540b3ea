//! Character devices from C and Rust: examples/echo and its C twin examples/c-twins/echo.c
//! (built with gcc against the real FreeBSD 14.2 headers) answer the same system calls the
//! same way in the simulated 14.0 kernel: reads and writes at offsets and across iovecs,
//! every ioctl and errno path (EINVAL on a bad size, ENOTTY, EPERM from priv_check for a
//! jailed root, EACCES from devfs for a non-root user, EFAULT for an unmapped buffer),
//! MOD_QUIESCE's EBUSY while open and a forced unload with the device open (later calls get
//! ENXIO), ENOMEM from a resize when memory runs out, and a leaked registration keeping the
//! module loaded; poll(2) (readable while the buffer holds data, always writable, a
//! destroyed device's `POLLHUP`), a poller asleep woken by a write and by a forced unload
//! (the selinfo is drained before it is freed). `cargo kmod run --exec` prints `hi` for both;
//! both pass cycles, schedules and --fuzz (which polls).
//!
//! In-process: one simulated kernel per process at a time, hence the lock.

mod kmod_cli;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use cargo_kmod::build::{BuildOptions, build};
use cargo_kmod::release::resolve;
use cargo_kmod::run::user::ExecStep;
use cargo_kmod::run::{self, RunConfig, RunOptions, RunReport};
use cargo_kmod::workspace::Workspace;
use kernel_sim::twins::{self, Target};
use kernel_sim::user::Ucred;
use kernel_sim::user::shell::Shell;
use kernel_sim::user::shell::oflags::{O_RDONLY, O_RDWR, O_WRONLY};
use kernel_sim::{Kernel, SimOptions, SimRelease, UnloadError};

fn lock() -> MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}

fn rust_ko() -> PathBuf {
    let ws = Workspace::locate().expect("workspace");
    let release = resolve(Some("14.0")).expect("release");
    build(&ws, &BuildOptions { module: "echo".into(), release, jobs: Some(2), verbose: false })
        .unwrap_or_else(|e| panic!("cargo kmod build echo: {e:#}"))
        .ko
}

fn c_ko() -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    twins::build(&out, "echo", &["echo.c"], Target::Fbsd14, &[]).unwrap_or_else(|e| panic!("{e}"))
}

// The echo ioctls (sys/sys/ioccom.h encoding): _IOR('E', 1, uint32_t), _IO('E', 2),
// _IOW('E', 3, uint32_t).
const ECHO_GETLEN: u64 = 0x4000_0000 | 4 << 16 | 0x4501;
const ECHO_CLEAR: u64 = 0x2000_0000 | 0x4502;
const ECHO_RESIZE: u64 = 0x8000_0000 | 4 << 16 | 0x4503;

// sys/sys/poll.h
const POLLIN: i16 = 0x0001;
const POLLOUT: i16 = 0x0004;
const POLLRDNORM: i16 = 0x0040;
const POLLHUP: i16 = 0x0010;
const POLLNVAL: i16 = 0x0020;

const EPERM: i32 = 1;
const ENXIO: i32 = 6;
const EFAULT: i32 = 14;
const EBUSY: i32 = 16;
const EINVAL: i32 = 22;
const ENOSPC: i32 = 28;
const ENOTTY: i32 = 25;
const EACCES: i32 = 13;

/// Every system call of the script and its result, in order.
type Trace = Vec<(String, Result<String, i32>)>;

fn rec<T: std::fmt::Debug + Clone>(t: &mut Trace, what: &str, r: Result<T, i32>) -> Result<T, i32> {
    t.push((what.to_string(), r.clone().map(|v| format!("{v:?}"))));
    r
}

/// The same script against `ko`: what a user process observes.
fn script(ko: &Path) -> (Trace, String) {
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(ko).unwrap_or_else(|e| panic!("load {}: {e}\n{}", ko.display(), k.console()));
    let mut t = Trace::new();
    let root = k.spawn("sh", Ucred::root());
    let user = k.spawn("sh", Ucred::user(1001, 1001));
    let jailed = k.spawn("sh", Ucred { jailed: true, ..Ucred::root() });

    // A non-root user: devfs refuses the 0600 root:wheel node.
    {
        let mut sh = Shell::new(&mut k, user);
        let r = sh.open("/dev/echo", O_RDONLY);
        rec(&mut t, "user open", r).ok();
    }
    let fd;
    {
        let mut sh = Shell::new(&mut k, root);
        fd = rec(&mut t, "root open", sh.open("/dev/echo", O_RDWR)).expect("root opens /dev/echo");
        let buf = sh.alloc(65536 + 64).expect("user memory");
        sh.poke(buf, b"hello world\n");
        // Empty: writable, not readable (the 0 timeout does not sleep).
        let r = sh.poll(&[(fd, POLLIN | POLLOUT)], 0);
        rec(&mut t, "poll empty", r).ok();
        let r = sh.write(fd, buf, 12);
        rec(&mut t, "write 12", r).ok();
        let r = sh.poll(&[(fd, POLLIN | POLLRDNORM | POLLOUT)], 0);
        rec(&mut t, "poll with data", r).ok();
        // Events outside POLLSTANDARD, a descriptor not open, a negative one.
        let r = sh.poll(&[(fd, 0x2000), (77, POLLIN), (-1, POLLIN)], 0);
        rec(&mut t, "poll odd", r).ok();
        let r = sh.lseek(fd, 0, 0);
        rec(&mut t, "lseek 0", r).ok();
        let r = sh.read(fd, buf + 100, 5);
        rec(&mut t, "read 5", r).ok();
        let r = sh.read(fd, buf + 105, 100);
        rec(&mut t, "read rest", r).ok();
        t.push(("read data".into(), Ok(String::from_utf8_lossy(&sh.peek(buf + 100, 12)).into_owned())));
        let r = sh.read(fd, buf + 200, 100);
        rec(&mut t, "read at EOF", r).ok();
        // readv across three iovecs from offset 0 (preadv).
        let r = sh.sys(|| kernel_sim::kern::sys_generic::sys_rw(fd, &[(buf + 300, 3), (buf + 310, 0), (buf + 320, 4)], Some(0), false));
        rec(&mut t, "preadv 3+0+4", r).ok();
        t.push(("preadv data".into(), Ok(format!("{:?} {:?}", String::from_utf8_lossy(&sh.peek(buf + 300, 3)), String::from_utf8_lossy(&sh.peek(buf + 320, 4))))));
        // pwritev at offset 6: "WOR" + "LD" replaces the tail.
        sh.poke(buf + 400, b"WORLD");
        let r = sh.sys(|| kernel_sim::kern::sys_generic::sys_rw(fd, &[(buf + 400, 3), (buf + 403, 2)], Some(6), true));
        rec(&mut t, "pwritev at 6", r).ok();
        let mut len = buf + 500;
        sh.poke(len, &[0xff; 4]);
        let r = sh.ioctl(fd, ECHO_GETLEN, len);
        rec(&mut t, "GETLEN", r).ok();
        t.push(("GETLEN value".into(), Ok(format!("{:?}", sh.peek(len, 4)))));
        // An unmapped buffer: EFAULT (from offset 0, where there is data to copy).
        let r = sh.lseek(fd, 0, 0);
        rec(&mut t, "lseek 0 again", r).ok();
        let r = sh.read(fd, 0x10, 4);
        rec(&mut t, "read to unmapped", r).ok();
        let r = sh.write(fd, 0x10, 4);
        rec(&mut t, "write from unmapped", r).ok();
        let r = sh.ioctl(fd, ECHO_GETLEN, 0x10);
        rec(&mut t, "GETLEN to unmapped", r).ok();
        // A write past the buffer: ENOSPC.
        let r = sh.sys(|| kernel_sim::kern::sys_generic::sys_rw(fd, &[(buf, 4)], Some(4096), true));
        rec(&mut t, "write at 4096", r).ok();
        // Wrong size for our command, unknown command.
        let r = sh.ioctl(fd, 0x4000_0000 | 8 << 16 | 0x4501, buf + 600);
        rec(&mut t, "GETLEN with 8 bytes", r).ok();
        let r = sh.ioctl(fd, 0x2000_0000 | 0x5a01, 0);
        rec(&mut t, "unknown ioctl", r).ok();
        // RESIZE: 0 and 65537 are EINVAL; 8 keeps the first 8 bytes; 65536 is allowed.
        for size in [0u32, 65537, 8, 65536] {
            sh.poke(buf + 700, &size.to_ne_bytes());
            let r = sh.ioctl(fd, ECHO_RESIZE, buf + 700);
            rec(&mut t, &format!("RESIZE {size}"), r).ok();
        }
        len = buf + 504;
        let r = sh.ioctl(fd, ECHO_GETLEN, len);
        rec(&mut t, "GETLEN after resize", r).ok();
        t.push(("GETLEN value".into(), Ok(format!("{:?}", sh.peek(len, 4)))));
        // A 64 KiB write now fits.
        let r = sh.sys(|| kernel_sim::kern::sys_generic::sys_rw(fd, &[(buf, 65536)], Some(0), true));
        rec(&mut t, "write 64 KiB", r).ok();
    }
    {
        // Jailed root opens the node (uid 0) but priv_check(PRIV_DRIVER) refuses CLEAR.
        let mut sh = Shell::new(&mut k, jailed);
        let jfd = rec(&mut t, "jailed open", sh.open("/dev/echo", O_WRONLY));
        if let Ok(jfd) = jfd {
            let r = sh.ioctl(jfd, ECHO_CLEAR, 0);
            rec(&mut t, "jailed CLEAR", r).ok();
            let r = sh.close(jfd);
            rec(&mut t, "jailed close", r).ok();
        }
    }
    {
        let mut sh = Shell::new(&mut k, root);
        let r = sh.ioctl(fd, ECHO_CLEAR, 0);
        rec(&mut t, "root CLEAR", r).ok();
        let b = sh.alloc(8).unwrap();
        let r = sh.ioctl(fd, ECHO_GETLEN, b);
        rec(&mut t, "GETLEN after CLEAR", r).ok();
        t.push(("GETLEN value".into(), Ok(format!("{:?}", sh.peek(b, 4)))));
    }
    // Open: the polite unload is refused.
    let e = k.unload(id).expect_err("quiesce refuses while open");
    t.push(("kldunload while open".into(), Err(e.errno())));
    assert!(matches!(e, UnloadError::Quiesce { .. }), "{e:?}");
    // Forced: the device is destroyed with the file open; later calls get ENXIO.
    k.unload_force(id).unwrap_or_else(|e| panic!("kldunload -f: {e}\n{}", k.console()));
    {
        let mut sh = Shell::new(&mut k, root);
        let b = sh.alloc(8).unwrap();
        let r = sh.read(fd, b, 4);
        rec(&mut t, "read after destroy", r).ok();
        let r = sh.poll(&[(fd, POLLIN | POLLOUT)], -1);
        rec(&mut t, "poll after destroy", r).ok();
        let r = sh.close(fd);
        rec(&mut t, "close after destroy", r).ok();
    }
    let console = k.take_console();
    (t, console)
}

fn get<'a>(t: &'a Trace, what: &str) -> &'a Result<String, i32> {
    &t.iter().find(|(w, _)| w == what).unwrap_or_else(|| panic!("no step {what}: {t:#?}")).1
}

#[test]
fn echo_in_c_and_rust_answer_every_system_call_alike() {
    let _g = lock();
    let (rust, rust_console) = script(&rust_ko());
    let (c, c_console) = script(&c_ko());
    assert_eq!(rust_console, c_console, "console");
    assert_eq!(
        rust_console,
        "echo: /dev/echo created (4096 bytes)\nkldunload: module echo vetoed unload: MOD_QUIESCE returned 16\necho: destroying /dev/echo\n"
    );
    for (i, (r, cc)) in rust.iter().zip(c.iter()).enumerate() {
        assert_eq!(r, cc, "step {i}: Rust vs C\nRust: {rust:#?}\nC: {c:#?}");
    }
    assert_eq!(rust.len(), c.len());
    let ok = |v: &str| Ok::<String, i32>(v.to_string());
    let t = &rust;
    assert_eq!(get(t, "user open"), &Err(EACCES));
    assert_eq!(get(t, "write 12"), &ok("12"));
    assert_eq!(get(t, "read 5"), &ok("5"));
    assert_eq!(get(t, "read rest"), &ok("7"));
    assert_eq!(get(t, "read data"), &ok("hello world\n"));
    assert_eq!(get(t, "read at EOF"), &ok("0"));
    assert_eq!(get(t, "preadv 3+0+4"), &ok("7"));
    assert_eq!(get(t, "preadv data"), &ok("\"hel\" \"lo w\""));
    assert_eq!(get(t, "pwritev at 6"), &ok("5"));
    assert_eq!(get(t, "GETLEN"), &ok("()"));
    assert_eq!(t.iter().find(|(w, _)| w == "GETLEN value").unwrap().1, ok(&format!("{:?}", 11u32.to_ne_bytes().to_vec())));
    assert_eq!(get(t, "read to unmapped"), &Err(EFAULT));
    assert_eq!(get(t, "write from unmapped"), &Err(EFAULT));
    assert_eq!(get(t, "GETLEN to unmapped"), &Err(EFAULT));
    assert_eq!(get(t, "write at 4096"), &Err(ENOSPC));
    assert_eq!(get(t, "GETLEN with 8 bytes"), &Err(EINVAL));
    assert_eq!(get(t, "unknown ioctl"), &Err(ENOTTY));
    assert_eq!(get(t, "RESIZE 0"), &Err(EINVAL));
    assert_eq!(get(t, "RESIZE 65537"), &Err(EINVAL));
    assert_eq!(get(t, "RESIZE 8"), &ok("()"));
    assert_eq!(get(t, "RESIZE 65536"), &ok("()"));
    assert_eq!(get(t, "write 64 KiB"), &ok("65536"));
    assert_eq!(get(t, "jailed CLEAR"), &Err(EPERM));
    assert_eq!(get(t, "root CLEAR"), &ok("()"));
    assert_eq!(get(t, "kldunload while open"), &Err(EBUSY));
    assert_eq!(get(t, "read after destroy"), &Err(ENXIO));
    assert_eq!(get(t, "poll empty"), &ok(&format!("{:?}", (1usize, vec![POLLOUT]))));
    assert_eq!(get(t, "poll with data"), &ok(&format!("{:?}", (1usize, vec![POLLIN | POLLRDNORM | POLLOUT]))));
    assert_eq!(get(t, "poll odd"), &ok(&format!("{:?}", (1usize, vec![0i16, POLLNVAL, 0]))));
    // sys/fs/deadfs/dead_vnops.c dead_poll: POLLHUP | (events & (POLLIN | POLLRDNORM)).
    assert_eq!(get(t, "poll after destroy"), &ok(&format!("{:?}", (1usize, vec![POLLHUP | POLLIN]))));
}

/// A process asleep in poll(2) on an empty /dev/echo is woken by another process's write
/// (SelInfo::wakeup / selwakeup) and answers POLLIN; one asleep when the module is unloaded
/// by force is woken by the selinfo's drain (Rust: SelInfo's Drop after destroy_dev; C:
/// seldrain in MOD_UNLOAD) and answers the destroyed device's POLLHUP, with no panic and no
/// access to freed memory; for both twins.
#[test]
fn echo_pollers_are_woken_by_writes_and_by_a_forced_unload() {
    use kernel_sim::kern::sys_generic::{PollFd, kern_poll_kfds, sys_open};
    use std::cell::RefCell;
    use std::rc::Rc;
    let _g = lock();
    for ko in [rust_ko(), c_ko()] {
        let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
        let id = k.load(&ko).unwrap_or_else(|e| panic!("load {}: {e}\n{}", ko.display(), k.console()));
        let poller = k.spawn("poller", Ucred::root());
        let writer = k.spawn("writer", Ucred::root());
        let fd = k.syscall(poller, || sys_open("/dev/echo", O_RDWR)).unwrap().unwrap();
        let sleep_in_poll = |k: &mut Kernel| {
            let out: Rc<RefCell<Option<(i32, i16)>>> = Rc::new(RefCell::new(None));
            let o = out.clone();
            k.syscall_in_background(poller, move || {
                let mut fds = [PollFd { fd, events: POLLIN | POLLRDNORM, revents: 0 }];
                let e = kern_poll_kfds(&mut fds, -1);
                *o.borrow_mut() = Some((e, fds[0].revents));
            })
            .unwrap();
            assert!(out.borrow().is_none(), "{}: the buffer is empty: the poller sleeps", ko.display());
            out
        };
        let out = sleep_in_poll(&mut k);
        {
            let mut sh = Shell::new(&mut k, writer);
            let wfd = sh.open("/dev/echo", O_WRONLY).unwrap();
            let b = sh.alloc(8).unwrap();
            sh.poke(b, b"x");
            assert_eq!(sh.write(wfd, b, 1), Ok(1));
            sh.close(wfd).unwrap();
        }
        k.sleep(std::time::Duration::from_millis(1)).unwrap();
        assert_eq!(*out.borrow(), Some((0, POLLIN | POLLRDNORM)), "{}", ko.display());
        {
            let mut sh = Shell::new(&mut k, poller);
            sh.ioctl(fd, ECHO_CLEAR, 0).unwrap();
        }
        let out = sleep_in_poll(&mut k);
        k.unload_force(id).unwrap_or_else(|e| panic!("{}: kldunload -f: {e}\n{}", ko.display(), k.console()));
        k.sleep(std::time::Duration::from_millis(1)).unwrap();
        assert!(k.panics().is_empty(), "{}: {:?}", ko.display(), k.panics());
        assert_eq!(*out.borrow(), Some((0, POLLHUP | POLLIN | POLLRDNORM)), "{}", ko.display());
        k.syscall(poller, move || kernel_sim::kern::sys_generic::sys_close(fd)).unwrap().unwrap();
        k.exit_process(poller).unwrap();
        k.exit_process(writer).unwrap();
        assert_eq!(k.malloc_type("echo").map(|t| t.live_allocs), Some(0), "{}", ko.display());
    }
}

fn run_echo(module: &str, config: RunConfig) -> RunReport {
    let ws = Workspace::locate().expect("workspace");
    let release = resolve(Some("14.0")).expect("release");
    run::run(&ws, &RunOptions { modules: vec![module.into()], release, config, kernel: None, module_path: Vec::new(), jobs: Some(2), verbose: false })
        .unwrap_or_else(|e| panic!("cargo kmod run {module}: {e:#}"))
}

fn steps(cred: Ucred, lines: &[&str]) -> Vec<ExecStep> {
    lines.iter().map(|l| ExecStep { cred: cred.clone(), line: l.to_string() }).collect()
}

/// `cargo kmod run echo --exec 'echo hi > /dev/echo' --exec 'cat /dev/echo'` prints `hi`;
/// as uid 1001 `cat` fails with "Permission denied" and fails the run; for both twins.
#[test]
fn exec_commands_behave_alike_in_c_and_rust() {
    let _g = lock();
    let c = c_ko();
    for module in ["echo", c.to_str().unwrap()] {
        let r = run_echo(module, RunConfig { execs: steps(Ucred::root(), &["echo hi > /dev/echo", "cat /dev/echo"]), ..RunConfig::default() });
        assert!(r.passed(), "{module}: {}", r.render());
        assert!(r.commands.contains("$ cat /dev/echo\nhi\n"), "{module}: {}", r.commands);
        let r = run_echo(module, RunConfig { execs: steps(Ucred::user(1001, 1001), &["cat /dev/echo"]), ..RunConfig::default() });
        assert!(!r.passed(), "{module}: a non-root cat must fail: {}", r.render());
        assert!(r.commands.contains("cat: /dev/echo: Permission denied"), "{module}: {}", r.commands);
    }
}

/// Both twins survive load/unload cycles with commands in between, and seeded schedules.
#[test]
fn echo_passes_cycles_and_schedules() {
    let _g = lock();
    let c = c_ko();
    for module in ["echo", c.to_str().unwrap()] {
        let execs = steps(Ucred::root(), &["echo hello > /dev/echo", "dd if=/dev/echo of=- bs=2 count=2 skip=1"]);
        let r = run_echo(module, RunConfig { cycles: 50, execs: execs.clone(), ..RunConfig::default() });
        assert!(r.passed(), "{module}: {}", r.render());
        assert_eq!(r.cycles_completed, 50);
        let r = run_echo(module, RunConfig { cycles: 3, schedules: 5, execs, ..RunConfig::default() });
        assert!(r.passed(), "{module}: {}", r.render());
        assert_eq!(r.schedules_run, 5, "{}", r.render());
    }
}

/// `--fuzz`: random opens, reads, writes, vectored I/O and ioctls (the module's and random
/// ones, with valid, short, NULL and unmapped buffers) from 4 processes, 2 unprivileged,
/// under seeded schedules: no panic, fault, WITNESS report, leak, or root-only operation
/// succeeding for the unprivileged processes; for both twins.
#[test]
fn echo_survives_the_fuzzer_in_c_and_rust() {
    let _g = lock();
    let c = c_ko();
    for module in ["echo", c.to_str().unwrap()] {
        let r = run_echo(module, RunConfig { fuzz: 5000, ..RunConfig::default() });
        assert!(r.passed(), "{module}: {}", r.render());
        assert!(r.render().contains("5000 operations"), "{module}: {}", r.render());
        let r = run_echo(module, RunConfig { fuzz: 500, schedules: 3, ..RunConfig::default() });
        assert!(r.passed(), "{module}: {}", r.render());
    }
}

/// A leaked `Registration` (safe `mem::forget`) leaves `/dev/leaked` pointing into module
/// code: the unload drops the state but is refused with EBUSY, so the code stays mapped.
#[test]
fn a_leaked_device_registration_keeps_the_module_loaded() {
    let _g = lock();
    let (ok, stdout, all) = kmod_cli::run(&["--freebsd", "14.0", "tools/cargo-kmod/tests/fixtures/kmod-leak-cdev"]);
    assert!(!ok, "the unload must be refused:\n{all}");
    assert!(stdout.contains("kmod_leak_cdev: state dropped\n"), "{all}");
    assert!(stdout.contains("kldunload: module kmod_leak_cdev failed to unload: MOD_UNLOAD returned 16\n"), "{all}");
}

/// ECHO_RESIZE allocates with M_NOWAIT: when the kmem arena cannot hold the new buffer the
/// ioctl answers ENOMEM and the old contents stay; for both twins.
#[test]
fn resize_answers_enomem_when_memory_runs_out() {
    let _g = lock();
    for ko in [rust_ko(), c_ko()] {
        let opts = SimOptions { kmem: 48 * 1024, ..SimOptions::default() };
        let mut k = Kernel::boot(SimRelease::V14_0, opts).expect("boot");
        let id = k.load(&ko).unwrap_or_else(|e| panic!("load {}: {e}\n{}", ko.display(), k.console()));
        let root = k.spawn("sh", Ucred::root());
        {
            let mut sh = Shell::new(&mut k, root);
            let fd = sh.open("/dev/echo", O_RDWR).expect("open");
            let buf = sh.alloc(64).expect("user memory");
            sh.poke(buf, b"keep");
            assert_eq!(sh.write(fd, buf, 4), Ok(4));
            sh.poke(buf + 8, &65536u32.to_ne_bytes());
            assert_eq!(sh.ioctl(fd, ECHO_RESIZE, buf + 8), Err(12), "{}: ENOMEM", ko.display());
            assert_eq!(sh.ioctl(fd, ECHO_GETLEN, buf + 16), Ok(()));
            assert_eq!(sh.peek(buf + 16, 4), 4u32.to_ne_bytes().to_vec(), "{}: contents kept", ko.display());
            sh.close(fd).expect("close");
        }
        k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
    }
}

/// `SelInfo::record` passes at most two records per `d_poll` call to the kernel, which
/// preallocates two `selfd`s per descriptor and panics on a third `selrecord`
/// ("selrecord: No free selfd on selq", sys/kern/sys_generic.c): a safe module recording
/// three times gets a poll(2) that times out, not a kernel panic.
#[test]
fn a_third_record_in_one_poll_call_does_not_reach_the_kernel() {
    let _g = lock();
    let ws = Workspace::locate().expect("workspace");
    let release = resolve(Some("14.0")).expect("release");
    let fixture = ws.root.join("tools/cargo-kmod/tests/fixtures/kmod-poll-records");
    let ko = build(&ws, &BuildOptions { module: fixture.to_string_lossy().into_owned(), release, jobs: Some(2), verbose: false })
        .unwrap_or_else(|e| panic!("cargo kmod build kmod-poll-records: {e:#}"))
        .ko;
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    let pid = k.spawn("t", Ucred::user(1001, 1001));
    {
        let mut sh = Shell::new(&mut k, pid);
        let fd = sh.open("/dev/pollrec", O_RDONLY).expect("open");
        let t0 = sh.k.ticks();
        assert_eq!(sh.poll(&[(fd, POLLIN)], 30), Ok((0, vec![0])));
        assert_eq!(sh.k.ticks() - t0, 30);
        assert!(sh.fault.is_none(), "{:?}", sh.fault);
        sh.close(fd).unwrap();
    }
    k.exit_process(pid).unwrap();
    k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
    assert!(k.panics().is_empty(), "{:?}", k.panics());
}

//! Issue 15 for sysctl(2): huge `newlen`/`*oldlenp` over short user buffers, NULL and
//! unmapped pointers, answered as kern_sysctl.c does (`sys___sysctl` / `userland_sysctl`,
//! `sysctl_old_user` / `sysctl_new_user`, `sysctl_wire_old_buffer` + vm_glue.c `vslock`), with
//! the `sysctl_huge.c` fixture built from the real 14.2 / 15.0 headers.
mod common;
use kernel_sim::kern::kern_sysctl::{SysctlCred, VM_PAGE_MAX_USER_WIRED};
use kernel_sim::user::Ucred;
use kernel_sim::user::shell::Shell;
use kernel_sim::user::sysctl::sysctl_raw;
use kernel_sim::{Kernel, SimOptions, SimRelease};

const EPERM: i32 = 1;
const ENOMEM: i32 = 12;
const EFAULT: i32 = 14;
const EINVAL: i32 = 22;
/// Never mapped in a process.
const UNMAPPED: usize = 0x1000;
const HUGE: [usize; 6] = [1 << 20, 1 << 31, 1 << 32, 1 << 40, usize::MAX / 2, usize::MAX];

fn each(f: impl Fn(common::Target, SimRelease)) {
    f(common::Target::Fbsd14, SimRelease::V14_0);
    f(common::Target::Fbsd15, SimRelease::V15_0);
}

fn boot(target: common::Target, release: SimRelease, extra: &[&str]) -> (Kernel, kernel_sim::ModuleId) {
    let tag = format!("sysctl_huge-{target:?}{}", extra.join(""));
    let ko = common::build_with(&tag, &["sysctl_huge.c"], target, extra);
    let mut k = Kernel::boot(release, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    (k, id)
}

/// The user memory of the calling process: a size_t for `*oldlenp`, 64 bytes, and the end of
/// its mapping.
struct Mem {
    lenp: usize,
    buf: usize,
    end: usize,
}

fn mem(sh: &mut Shell<'_>) -> Mem {
    Mem { lenp: sh.alloc(8).expect("memory"), buf: sh.alloc(64).expect("memory"), end: sh.user_end() }
}

/// On 14.0 and 15.0: loads the fixture, runs `f` on the kernel, then unloads it and checks
/// that nothing panicked.
fn each_loaded(f: impl Fn(&mut Kernel)) {
    each(|t, r| {
        let (mut k, id) = boot(t, r, &[]);
        f(&mut k);
        k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
        assert!(k.panics().is_empty(), "{:?}", k.panics());
    });
}

/// A shell of a new root process in `k`, with its [`Mem`].
fn root_shell(k: &mut Kernel) -> (Shell<'_>, Mem) {
    let pid = k.spawn("huge", Ucred::root());
    let mut sh = Shell::new(k, pid);
    let m = mem(&mut sh);
    (sh, m)
}

/// `__sysctl(2)` with `*oldlenp` set to `oldlen` first: (errno, `*oldlenp` after).
fn call(sh: &mut Shell<'_>, m: &Mem, name: &str, old: usize, oldlen: usize, new: usize, newlen: usize) -> (i32, usize) {
    sh.poke(m.lenp, &oldlen.to_ne_bytes());
    let e = sysctl_raw(sh, name, old, m.lenp, new, newlen).unwrap_or_else(|e| panic!("{name}: the kernel crashed ({e}): {:?}", sh.fault));
    (e, usize::from_ne_bytes(sh.peek(m.lenp, 8).try_into().unwrap()))
}

fn read_int(k: &mut Kernel, name: &str) -> Vec<u8> {
    let r = k.sysctl_read(name, SysctlCred::ROOT).expect("no fault");
    assert_eq!(r.error, 0, "{name}");
    r.old
}

/// `sysctl_handle_int` does `SYSCTL_IN(req, arg1, sizeof(int))`: `sysctl_new_user` only
/// refuses fewer than 4 bytes left (`req->newlen - req->newidx < l`), so a huge `newlen` over
/// 4 mapped bytes is a successful write of those 4; over fewer, the copyin faults.
#[test]
fn huge_newlen_to_an_int_leaf() {
    let _g = common::lock();
    each_loaded(|k| {
        let (mut sh, m) = root_shell(k);
        // Values of four equal bytes: whether a faulting copyin stores the bytes before the
        // fault or none, the int reads the same.
        let value = |i: usize| [0x10 + i as u8; 4];
        for (i, &newlen) in HUGE.iter().enumerate() {
            sh.poke(m.end - 4, &value(i));
            assert_eq!(call(&mut sh, &m, "debug.huge.int", 0, 0, m.end - 4, newlen).0, 0, "newlen {newlen:#x} over 4 bytes");
            // Fewer than 4 bytes mapped: EFAULT from copyin, the value stays.
            assert_eq!(call(&mut sh, &m, "debug.huge.int", 0, 0, m.end - 2, newlen).0, EFAULT, "newlen {newlen:#x} over 2 bytes");
            // Unmapped: EFAULT.
            assert_eq!(call(&mut sh, &m, "debug.huge.int", 0, 0, UNMAPPED, newlen).0, EFAULT);
            // NULL new with a nonzero newlen: no new value at all (userland_sysctl only sets
            // req.newptr/newlen when new != NULL): a length query.
            assert_eq!(call(&mut sh, &m, "debug.huge.int", 0, 0, 0, newlen), (0, 4));
        }
        // Fewer than 4 bytes said: EINVAL before any copy.
        assert_eq!(call(&mut sh, &m, "debug.huge.int", 0, 0, UNMAPPED, 3).0, EINVAL);
        drop(sh);
        assert_eq!(read_int(k, "debug.huge.int"), value(HUGE.len() - 1));
        // Unprivileged: EPERM from sysctl_root before the handler (CTLFLAG_ANYBODY is set on
        // debug.huge.int, so use the string leaf).
        let user = k.spawn("huge", Ucred::user(1001, 1001));
        let mut sh = Shell::new(k, user);
        let m = mem(&mut sh);
        assert_eq!(call(&mut sh, &m, "debug.huge.str", 0, 0, UNMAPPED, usize::MAX).0, EPERM);
    });
}

/// `sysctl_handle_string` refuses `req->newlen - req->newidx >= arg2` with EINVAL (no
/// allocation); a length that fits but runs past the mapping faults in the copyin into the
/// temporary buffer and leaves the string alone. `sysctl_handle_opaque` copies `arg2` bytes
/// whatever `newlen` says. A handler that checks the length itself answers its own errno.
#[test]
fn huge_newlen_to_string_opaque_and_proc_leaves() {
    let _g = common::lock();
    each_loaded(|k| {
        let (mut sh, m) = root_shell(k);
        sh.poke(m.end - 8, b"abcdefgh");
        for &newlen in &HUGE {
            assert_eq!(call(&mut sh, &m, "debug.huge.str", 0, 0, m.end - 4, newlen).0, EINVAL, "string, newlen {newlen:#x}");
            assert_eq!(call(&mut sh, &m, "debug.huge.str", 0, 0, 0, newlen), (0, 6), "NULL new: a read");
            assert_eq!(call(&mut sh, &m, "debug.huge.blob", 0, 0, m.end - 4, newlen).0, EINVAL, "blob, newlen {newlen:#x}");
            // Opaque: EFAULT when 4 bytes are mapped, 8 bytes taken from a huge newlen when 8
            // are.
            assert_eq!(call(&mut sh, &m, "debug.huge.opaque", 0, 0, m.end - 4, newlen).0, EFAULT, "opaque over 4 bytes");
            assert_eq!(call(&mut sh, &m, "debug.huge.opaque", 0, 0, m.end - 8, newlen).0, 0, "opaque over 8 bytes");
        }
        assert_eq!(call(&mut sh, &m, "debug.huge.str", 0, 0, m.end - 4, 8).0, EFAULT, "8 bytes said, 4 mapped");
        assert_eq!(call(&mut sh, &m, "debug.huge.str", 0, 0, UNMAPPED, 3).0, EFAULT);
        assert_eq!(call(&mut sh, &m, "debug.huge.blob", 0, 0, m.end - 4, 8).0, EFAULT);
        assert_eq!(call(&mut sh, &m, "debug.huge.blob", 0, 0, m.end - 4, 4).0, 0);
        drop(sh);
        assert_eq!(read_int(k, "debug.huge.str"), b"small\0");
        assert_eq!(read_int(k, "debug.huge.opaque"), b"abcdefgh");
        assert_eq!(read_int(k, "debug.huge.blob"), b"efgh");
    });
}

/// The old side: `sysctl_old_user` copies what fits below `validlen` (= `*oldlenp`), so a
/// huge `*oldlenp` over a buffer with room for the value works and one without faults;
/// `copyin` of an unmapped `oldlenp` is EFAULT; a NULL `oldlenp` is an old length of 0
/// (ENOMEM, nothing copied out).
#[test]
fn huge_and_unmapped_old_buffers() {
    let _g = common::lock();
    each_loaded(|k| {
        let (mut sh, m) = root_shell(k);
        for &oldlen in &HUGE {
            assert_eq!(call(&mut sh, &m, "debug.huge.int", m.buf, oldlen, 0, 0), (0, 4), "oldlen {oldlen:#x}, room for 4");
            assert_eq!(sh.peek(m.buf, 4), 1i32.to_ne_bytes());
            assert_eq!(call(&mut sh, &m, "debug.huge.int", m.end - 2, oldlen, 0, 0), (EFAULT, oldlen), "room for 2");
            assert_eq!(call(&mut sh, &m, "debug.huge.int", UNMAPPED, oldlen, 0, 0), (EFAULT, oldlen));
            assert_eq!(call(&mut sh, &m, "debug.huge.int", 0, oldlen, 0, 0), (0, 4), "NULL old: a length query");
            assert_eq!(call(&mut sh, &m, "debug.huge.opaque", m.end - 4, oldlen, 0, 0).0, EFAULT);
        }
        // Short buffer: ENOMEM with what fitted and validlen.
        sh.poke(m.buf, &[0xff; 4]);
        assert_eq!(call(&mut sh, &m, "debug.huge.int", m.buf, 2, 0, 0), (ENOMEM, 2));
        assert_eq!(sh.peek(m.buf, 4), [1, 0, 0xff, 0xff]);
        // Unmapped / NULL oldlenp.
        let e = sysctl_raw(&mut sh, "debug.huge.int", m.buf, UNMAPPED, 0, 0).expect("no crash");
        assert_eq!(e, EFAULT);
        let e = sysctl_raw(&mut sh, "debug.huge.int", m.buf, m.end - 4, 0, 0).expect("no crash");
        assert_eq!(e, EFAULT, "an oldlenp that runs past the mapping");
        let e = sysctl_raw(&mut sh, "debug.huge.int", m.buf, 0, 0, 0).expect("no crash");
        assert_eq!(e, ENOMEM, "NULL oldlenp: oldlen 0");
    });
}

/// `sysctl_wire_old_buffer(req, 0)` vslocks all of `*oldlenp`: more pages than
/// `vm.max_user_wired` is ENOMEM inside vslock, which wires nothing (`validlen` 0: the
/// `SYSCTL_OUT` then answers ENOMEM and `*oldlenp` is 0); a range that wraps is EINVAL; pages
/// that are not mapped are EFAULT.
#[test]
fn wiring_a_huge_or_unmapped_old_buffer() {
    let _g = common::lock();
    each_loaded(|k| {
        let (mut sh, m) = root_shell(k);
        assert_eq!(call(&mut sh, &m, "debug.huge.wire0", m.buf, 4, 0, 0), (0, 4));
        let too_many = (VM_PAGE_MAX_USER_WIRED + 1) * 4096;
        for oldlen in [too_many, 1 << 31, 1 << 40, usize::MAX / 2] {
            assert_eq!(call(&mut sh, &m, "debug.huge.wire0", m.buf, oldlen, 0, 0), (ENOMEM, 0), "oldlen {oldlen:#x}");
        }
        assert_eq!(call(&mut sh, &m, "debug.huge.wire0", m.buf, usize::MAX, 0, 0), (EINVAL, usize::MAX), "wraps");
        assert_eq!(call(&mut sh, &m, "debug.huge.wire0", m.end - 64, 1 << 20, 0, 0).0, EFAULT, "past the mapping");
        assert_eq!(call(&mut sh, &m, "debug.huge.wire0", m.end - 64, 1 << 30, 0, 0).0, EFAULT, "1 GiB: few enough pages, unmapped");
        assert_eq!(call(&mut sh, &m, "debug.huge.wire0", UNMAPPED, 4, 0, 0).0, EFAULT);
    });
}

/// The fuzzer makes such calls on every leaf: the careful fixture survives; a handler that
/// passes `req->newlen` to `malloc(M_WAITOK)` is found (kern_malloc.c's panic).
#[test]
fn the_fuzzer_sends_huge_lengths() {
    let _g = common::lock();
    each(|t, r| {
        let (mut k, id) = boot(t, r, &[]);
        let names = k.sysctl_leaves_of(id);
        assert_eq!(names.len(), 5, "{names:?}");
        let st = kernel_sim::user::sysctl_fuzz::fuzz(&mut k, &names, 1500, 7, 4).unwrap_or_else(|f| panic!("fault: {f}\n{}", k.console()));
        assert!(st.failures.is_empty(), "{:#?}", st.failures);
        assert!(st.huge > 300 && st.errors > 0 && st.ok > 0, "{st:?}");
        assert!(k.panics().is_empty(), "{:?}", k.panics());
        k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
    });
    let (mut k, _) = boot(common::Target::Fbsd15, SimRelease::V15_0, &["-DMALLOC_NEWLEN"]);
    let (names, r) = k.fuzz_sysctls(2000, 3);
    assert!(names.iter().any(|n| n == "debug.huge.alloc"));
    let f = r.expect_err("malloc(2^40, M_WAITOK) cannot be satisfied");
    assert!(f.to_string().contains("malloc(M_WAITOK) returned NULL"), "{f}");
}

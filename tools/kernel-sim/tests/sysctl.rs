//! sysctl(9) in the simulator (kern_sysctl.c) and the `sysctl` command (sysctl(8)), with the
//! `sysctls.c` fixture built from the real 14.2 / 15.0 headers.
mod common;
use kernel_sim::kern::kern_sysctl::SysctlCred;
use kernel_sim::user::sysctl::run;
use kernel_sim::{Kernel, SimOptions, SimRelease};

const ROOT: SysctlCred = SysctlCred::ROOT;
const USER: SysctlCred = SysctlCred { uid: 1001, jailed: false };
const JROOT: SysctlCred = SysctlCred { uid: 0, jailed: true };

fn boot(target: common::Target, release: SimRelease, opts: SimOptions) -> (Kernel, kernel_sim::ModuleId) {
    let ko = common::build(&format!("sysctls-{target:?}"), &["sysctls.c"], target);
    let mut k = Kernel::boot(release, opts).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    (k, id)
}

fn sh(k: &mut Kernel, args: &[&str], cred: SysctlCred) -> (String, String, i32) {
    let o = run(k, args, cred).expect("no fault");
    (o.stdout, o.stderr, o.status)
}

fn each(f: impl Fn(common::Target, SimRelease)) {
    f(common::Target::Fbsd14, SimRelease::V14_0);
    f(common::Target::Fbsd15, SimRelease::V15_0);
}

#[test]
fn static_and_dynamic_tree_reads_and_writes() {
    let _g = common::lock();
    each(|t, r| {
        let (mut k, id) = boot(t, r, SimOptions::default());
        let (out, err, st) = sh(&mut k, &["debug.sysctls"], ROOT);
        assert_eq!(st, 0, "{err}");
        assert_eq!(
            out,
            "debug.sysctls.st_int: 1\ndebug.sysctls.st_ro: 2\ndebug.sysctls.st_any: 3\ndebug.sysctls.st_secure: 4\n\
             debug.sysctls.st_prison: 5\ndebug.sysctls.st_tun: 6\ndebug.sysctls.cst: 42\ndebug.sysctls.name: initial\n\
             debug.sysctls.big: 1234605616436508552\ndebug.sysctls.flag: 1\ndebug.sysctls.lng: -5\ndebug.sysctls.range: 7\n"
        );
        assert_eq!(sh(&mut k, &["debug.sysctls.st_int=9"], ROOT), ("debug.sysctls.st_int: 1 -> 9\n".into(), String::new(), 0));
        assert_eq!(sh(&mut k, &["-n", "debug.sysctls.st_int"], ROOT).0, "9\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.name=hello"], ROOT).0, "debug.sysctls.name: initial -> hello\n");
        let long = "x".repeat(33);
        let (o, e, s) = sh(&mut k, &[&format!("debug.sysctls.name={long}")], ROOT);
        assert_eq!((o.as_str(), s), ("debug.sysctls.name: hello\n", 1));
        assert_eq!(e, format!("sysctl: debug.sysctls.name={long}: Invalid argument\n"));
        assert_eq!(sh(&mut k, &["debug.sysctls.name=".to_string().as_str()], ROOT).0, "debug.sysctls.name: hello -> \n");
        assert_eq!(sh(&mut k, &["debug.sysctls.range=1000"], ROOT).0, "debug.sysctls.range: 7 -> 1000\n");
        let (_, e, s) = sh(&mut k, &["debug.sysctls.range=1001"], ROOT);
        assert_eq!((e.as_str(), s), ("sysctl: debug.sysctls.range=1001: Invalid argument\n", 1));
        assert_eq!(sh(&mut k, &["debug.sysctls.flag=0"], ROOT).0, "debug.sysctls.flag: 1 -> 0\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.lng=-7"], ROOT).0, "debug.sysctls.lng: -5 -> -7\n");
        // Dynamic tree: OID_AUTO numbers count down from 0x7fffffff, so sysctl(8) lists the
        // oids added last first (like dev.X.N.%parent before %desc on a real system).
        let (out, _, _) = sh(&mut k, &["debug.sysctls_dyn"], ROOT);
        assert_eq!(
            out,
            "debug.sysctls_dyn.sub.deep: 12\ndebug.sysctls_dyn.str: dynamic\ndebug.sysctls_dyn.tun: 11\ndebug.sysctls_dyn.value: 10\n"
        );
        assert!(k.sysctl_info("debug.sysctls_dyn").unwrap().number >= 0x100);
        assert_eq!(sh(&mut k, &["debug.sysctls_dyn.sub.deep=13"], ROOT).0, "debug.sysctls_dyn.sub.deep: 12 -> 13\n");
        // sysctl(8) errors.
        assert_eq!(sh(&mut k, &["debug.nope"], ROOT), (String::new(), "sysctl: unknown oid 'debug.nope'\n".into(), 1));
        assert_eq!(sh(&mut k, &["debug.sysctls.st_ro=1"], ROOT).1, "sysctl: oid 'debug.sysctls.st_ro' is read only\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_int=abc"], ROOT).1, "sysctl: invalid integer 'abc'\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_int="], ROOT).1, "sysctl: empty numeric value\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_int: '11'"], ROOT).0, "debug.sysctls.st_int: 9 -> 11\n");
        assert_eq!(sh(&mut k, &["-nq", "debug.nope", "debug.sysctls.st_int"], ROOT), ("11\n".into(), String::new(), 1));
        assert_eq!(sh(&mut k, &["debug.sysctls.st_int=9"], ROOT).2, 0);
        assert_eq!(sh(&mut k, &["debug.sysctls.st_int=1"], USER), (
            "debug.sysctls.st_int: 9\n".into(), "sysctl: debug.sysctls.st_int=1: Operation not permitted\n".into(), 1));
        assert_eq!(sh(&mut k, &["debug.sysctls_dyn.str=x"], ROOT).1, "sysctl: oid 'debug.sysctls_dyn.str' is read only\n");
        assert_eq!(sh(&mut k, &["debug.sysctls_dyn=1"], ROOT).1, "sysctl: oid 'debug.sysctls_dyn' isn't a leaf node\n");
        k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
        assert_eq!(sh(&mut k, &["debug.sysctls"], ROOT).2, 1, "static oids gone after unload");
        assert_eq!(sh(&mut k, &["debug.sysctls_dyn.value"], ROOT).1, "sysctl: unknown oid 'debug.sysctls_dyn.value'\n");
        assert_eq!(k.sysctl_dynamic_oids(), 0);
        assert!(k.panics().is_empty(), "{:?}", k.panics());
        assert!(k.kenv_leaks().is_empty());
    });
}

#[test]
fn permissions_anybody_secure_prison() {
    let _g = common::lock();
    each(|t, r| {
        let (mut k, id) = boot(t, r, SimOptions { securelevel: 1, ..SimOptions::default() });
        assert_eq!(sh(&mut k, &["debug.sysctls.st_any=30"], USER).0, "debug.sysctls.st_any: 3 -> 30\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_secure=1"], ROOT).1, "sysctl: debug.sysctls.st_secure=1: Operation not permitted\n");
        k.set_securelevel(0);
        assert_eq!(sh(&mut k, &["debug.sysctls.st_secure=1"], ROOT).0, "debug.sysctls.st_secure: 4 -> 1\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_prison=1"], JROOT).0, "debug.sysctls.st_prison: 5 -> 1\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_int=1"], JROOT).1, "sysctl: debug.sysctls.st_int=1: Operation not permitted\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_prison=2"], USER).2, 1);
        // Reads are for everybody.
        assert_eq!(sh(&mut k, &["-n", "debug.sysctls.st_prison"], USER).0, "1\n");
        k.unload(id).expect("unload");
    });
}

#[test]
fn tunables_and_getenv() {
    let _g = common::lock();
    each(|t, r| {
        let kenv = [
            ("debug.sysctls.st_tun", "77"),
            ("debug.sysctls_dyn.tun", "0x10"),
            ("debug.sysctls.ti", "4k"),
            ("debug.sysctls.tl", "-9"),
            ("debug.sysctls.ts", "a-long-string-value"),
            ("debug.sysctls.yes", "TRUE"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let (mut k, id) = boot(t, r, SimOptions { kenv, ..SimOptions::default() });
        assert!(
            k.console().contains("sysctls: children=4 sorted=1 entry=1 osreldate=1 e=0 is_true=1\n")
                && k.console().contains("sysctls: loaded st_tun=77 dyn_tun=16 ti=4096 tl=-9 ts=a-long-string-v test=1\n"),
            "{}",
            k.console()
        );
        assert_eq!(sh(&mut k, &["-n", "debug.sysctls.st_tun"], ROOT).0, "77\n");
        k.unload(id).expect("unload");
        assert!(k.kenv_leaks().is_empty());
    });
}

#[test]
fn short_buffers_and_newlen() {
    let _g = common::lock();
    let (mut k, id) = boot(common::Target::Fbsd15, SimRelease::V15_0, SimOptions::default());
    // Length query, then a short buffer: ENOMEM with what fitted and validlen.
    let r = k.sysctl("debug.sysctls.big", None, None, ROOT).unwrap();
    assert_eq!((r.error, r.oldlen), (0, 8));
    let r = k.sysctl("debug.sysctls.big", Some(3), None, ROOT).unwrap();
    assert_eq!((r.error, r.oldlen, r.old.as_slice()), (12, 3, &[0x88u8, 0x77, 0x66][..]));
    // An int written with 3 bytes: EINVAL; with 8: the first 4 are taken (SYSCTL_IN of 4).
    assert_eq!(k.sysctl("debug.sysctls.st_int", None, Some(&[1, 2, 3]), ROOT).unwrap().error, 22);
    assert_eq!(k.sysctl("debug.sysctls.st_int", None, Some(&[5, 0, 0, 0, 9, 9, 9, 9]), ROOT).unwrap().error, 0);
    assert_eq!(k.sysctl_read("debug.sysctls.st_int", ROOT).unwrap().old, 5i32.to_le_bytes());
    // A constant (arg1 NULL) refuses writes with EPERM from sysctl_handle_int.
    assert_eq!(k.sysctl("debug.sysctls.cst", None, Some(&[1, 0, 0, 0]), ROOT).unwrap().error, 1);
    assert_eq!(k.sysctl("debug.sysctls", None, None, ROOT).unwrap().error, 21, "EISDIR for a node");
    assert_eq!(k.sysctl("debug.sysctls.st_int.x", None, None, ROOT).unwrap().error, 20, "ENOTDIR");
    k.unload(id).expect("unload");
}

#[test]
fn release_13_1_static_oid_layout() {
    let _g = common::lock();
    // Hand-built 96-byte (SLIST) oids: no 13.x headers here (examples/c-twins/sysctl13.c).
    let ko = common::build("sysctl13", &["sysctl13.c"], common::Target::Bare);
    let opts = SimOptions { kenv: [("debug.s13.tun".to_string(), "66".to_string())].into(), ..SimOptions::default() };
    let mut k = Kernel::boot(SimRelease::V13_1, opts).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    assert!(k.console().contains("sysctl13: tun=66 children=2\n"), "{}", k.console());
    assert_eq!(sh(&mut k, &["debug.s13"], ROOT).0, "debug.s13.tun: 66\ndebug.s13.val: 5\n");
    assert_eq!(sh(&mut k, &["debug.s13.val=8"], ROOT).0, "debug.s13.val: 5 -> 8\n");
    k.unload(id).expect("unload");
    assert_eq!(sh(&mut k, &["debug.s13.val"], ROOT).2, 1);
    assert!(k.panics().is_empty(), "{:?}", k.panics());
}

#[test]
fn release_14_layout_is_not_read_as_13() {
    // The 14.x/15.x struct (112 bytes, RB) differs: the kernel of each release reads its own.
    use kernel_sim::kern::kern_sysctl::{OID_13, OID_14, layout_for};
    assert_eq!(layout_for(SimRelease::V13_1.freebsd_version), OID_13);
    assert_eq!(layout_for(SimRelease::V14_0.freebsd_version), OID_14);
    assert_eq!(layout_for(SimRelease::V15_0.freebsd_version), OID_14);
    assert_eq!((OID_13.size, OID_14.size, OID_13.number, OID_14.number), (96, 112, 24, 40));
}

#[test]
fn removal_waits_for_running_handler() {
    let _g = common::lock();
    let ko = common::build("sysctl_oidrm-Fbsd15", &["sysctl_oidrm.c"], common::Target::Fbsd15);
    let mut k = Kernel::boot(SimRelease::V15_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    let r = k.sysctl("debug.oidrm_slow", Some(4), None, ROOT).expect("no fault");
    assert_eq!((r.error, r.old.as_slice()), (0, &1i32.to_le_bytes()[..]));
    assert!(k.console().contains("oidrm: ctx freed, handler done=1\n"), "{}", k.console());
    assert_eq!(k.sysctl_info("debug.oidrm_slow"), Err(2));
    k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
    assert!(k.panics().is_empty(), "{:?}", k.panics());
    assert_eq!(k.sysctl_dynamic_oids(), 0);
}

#[test]
fn oid_left_registered_at_unload_is_reported() {
    let _g = common::lock();
    let ko = common::build_with("sysctl_oidrm-leak", &["sysctl_oidrm.c"], common::Target::Fbsd14, &["-DLEAK"]);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    k.sysctl("debug.oidrm_slow", Some(4), None, ROOT).expect("no fault");
    k.unload(id).expect("unload");
    assert_eq!(k.panics().len(), 1, "{}", k.console());
    assert!(k.panics()[0].contains("sysctl oid(s) debug.oidrm_leak still registered after the module was unloaded"), "{:?}", k.panics());
    assert_eq!(k.sysctl_info("debug.oidrm_leak"), Err(2), "removed from the tree");
}

#[test]
fn fuzz_every_module_sysctl_concurrently() {
    let _g = common::lock();
    each(|t, r| {
        for seed in [None, Some(3)] {
            let (mut k, id) = boot(t, r, SimOptions { securelevel: 1, sched_seed: seed, ..SimOptions::default() });
            let names = k.sysctl_leaves_of(id);
            assert_eq!(names.len(), 17, "{names:?}");
            let st = kernel_sim::user::sysctl_fuzz::fuzz(&mut k, &names, 600, 42, 4).unwrap_or_else(|f| panic!("fault: {f}\n{}", k.console()));
            assert!(st.failures.is_empty(), "{:#?}", st.failures);
            assert_eq!(st.requests >= 600, true);
            assert!(st.ok > 0 && st.errors > 0, "{st:?}");
            if seed.is_some() {
                assert!(k.context_switches() > 0, "the fuzz processes ran on threads of their own");
            }
            assert!(k.panics().is_empty(), "{:?}", k.panics());
            k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
            assert_eq!(k.sysctl_dynamic_oids(), 0);
        }
    });
}

#[test]
fn kernel_leaves_and_kernel_sysctlbyname() {
    let _g = common::lock();
    each(|t, r| {
        let (mut k, id) = boot(t, r, SimOptions::default());
        assert!(k.console().contains("sysctls: kern.hz=1000 len=4 error=0\n"), "{}", k.console());
        assert_eq!(sh(&mut k, &["kern.ostype", "hw.ncpu"], ROOT).0, "kern.ostype: FreeBSD\nhw.ncpu: 1\n");
        assert_eq!(sh(&mut k, &["-n", "kern.osrelease"], ROOT).0, format!("{}-RELEASE\n", r.name));
        assert_eq!(sh(&mut k, &["-n", "kern.osreldate"], ROOT).0, format!("{}\n", r.freebsd_version));
        // kern.securelevel may only be raised, and only by root.
        assert_eq!(sh(&mut k, &["kern.securelevel=1"], USER).1, "sysctl: kern.securelevel=1: Operation not permitted\n");
        assert_eq!(sh(&mut k, &["kern.securelevel=1"], ROOT).0, "kern.securelevel: -1 -> 1\n");
        assert_eq!(sh(&mut k, &["kern.securelevel=0"], ROOT).1, "sysctl: kern.securelevel=0: Operation not permitted\n");
        assert_eq!(sh(&mut k, &["debug.sysctls.st_secure=9"], ROOT).2, 1, "CTLFLAG_SECURE above level 0");
        k.unload(id).expect("unload");
    });
}

#[test]
fn sysctl_command_in_the_exec_runner_runs_with_the_process_credential() {
    use kernel_sim::user::Ucred;
    let _g = common::lock();
    let (mut k, id) = boot(common::Target::Fbsd15, SimRelease::V15_0, SimOptions::default());
    let user = k.spawn("sh", Ucred::user(1001, 1001));
    let o = k.run_command(user, "sysctl debug.sysctls.st_int=5");
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.stderr.as_str(), o.status), (
        "debug.sysctls.st_int: 1\n", "sysctl: debug.sysctls.st_int=5: Operation not permitted\n", 1));
    let root = k.spawn("sh", Ucred::root());
    let o = k.run_command(root, "sysctl debug.sysctls.st_int=5");
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.status), ("debug.sysctls.st_int: 1 -> 5\n", 0));
    let jail = k.spawn("sh", Ucred { jailed: true, ..Ucred::root() });
    assert_eq!(k.run_command(jail, "sysctl debug.sysctls.st_prison=8").status, 0);
    assert_eq!(k.run_command(jail, "sysctl debug.sysctls.st_int=8").status, 1);
    let o = k.run_command(user, "sysctl -n debug.sysctls.st_int debug.sysctls.name");
    assert_eq!(o.stdout, b"5\ninitial\n");
    let o = k.run_command(root, "sysctl debug.nothing");
    assert_eq!((o.stderr.as_str(), o.status), ("sysctl: unknown oid 'debug.nothing'\n", 1));
    // The whole --fuzz sysctl target of the loaded modules.
    let (names, r) = k.fuzz_sysctls(400, 9);
    assert_eq!(names.len(), 17);
    assert!(r.expect("no fault").failures.is_empty());
    k.unload(id).expect("unload");
}

#[test]
fn sysctl_out_under_a_mutex_needs_a_wired_buffer() {
    let _g = common::lock();
    let ko = common::build_with("sysctls-locked", &["sysctls.c"], common::Target::Fbsd14, &["-DLOCKED_OUT"]);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    // CTLFLAG_SKIP hides both from listings.
    assert!(!sh(&mut k, &["debug.sysctls"], ROOT).0.contains("locked"));
    let r = k.sysctl("debug.sysctls.wired", Some(4), None, ROOT).expect("wired: no report");
    assert_eq!((r.error, r.old.as_slice()), (0, &1i32.to_le_bytes()[..]));
    // A length query (oldptr NULL) copies nothing: no report either.
    assert_eq!(k.sysctl("debug.sysctls.locked", None, None, ROOT).expect("no copy").oldlen, 4);
    let f = k.sysctl("debug.sysctls.locked", Some(4), None, ROOT).expect_err("unwired copyout under a mutex");
    let msg = f.to_string();
    assert!(msg.contains("sysctl_old_user() with the following non-sleepable locks held"), "{msg}");
    assert!(msg.contains("sysctls lock"), "{msg}");
}

#[test]
fn fuzz_finds_the_unwired_copyout_under_a_mutex() {
    let _g = common::lock();
    let ko = common::build_with("sysctls-locked", &["sysctls.c"], common::Target::Fbsd14, &["-DLOCKED_OUT"]);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
    let (names, r) = k.fuzz_sysctls(2000, 1);
    assert!(names.iter().any(|n| n == "debug.sysctls.locked"));
    let f = r.expect_err("the fuzzer reads debug.sysctls.locked into a buffer");
    assert!(f.to_string().contains("sysctl_old_user()"), "{f}");
}

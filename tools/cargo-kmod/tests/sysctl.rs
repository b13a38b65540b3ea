//! sysctl and tunables end to end: `examples/counters` (Rust, no `unsafe`) and its C twin
//! `examples/c-twins/counters.c` (real FreeBSD headers) loaded in the simulated kernel with
//! the tunable `debug.counters.limit=7`, driven by the simulator's `sysctl` command as root
//! and as an unprivileged user, give the same output on every release (the C twin on 14.0
//! and 15.0: there is no 13.x header tree).
//!
//! In-process (library calls): one kernel per process at a time, so the tests take a lock.
//! Missing gcc/lld/headers/toolchain fail the tests with the install command.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use cargo_kmod::build::{BuildOptions, build};
use cargo_kmod::release::resolve;
use cargo_kmod::workspace::Workspace;
use kernel_sim::kern::kern_sysctl::SysctlCred;
use kernel_sim::twins::{self, Target};
use kernel_sim::{Kernel, SimOptions, SimRelease};

fn lock() -> MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}

fn rust_ko(release: &str) -> PathBuf {
    let ws = Workspace::locate().expect("workspace");
    let release = resolve(Some(release)).expect("release");
    build(&ws, &BuildOptions { module: "counters".into(), release, jobs: Some(2), verbose: false })
        .unwrap_or_else(|e| panic!("cargo kmod build counters: {e:#}"))
        .ko
}

fn c_ko(target: Target) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    twins::build(&out, &format!("counters-{target:?}"), &["counters.c"], target, &[]).unwrap_or_else(|e| panic!("{e}"))
}

const ROOT: SysctlCred = SysctlCred::ROOT;
const USER: SysctlCred = SysctlCred { uid: 1001, jailed: false };

/// One `sysctl ARGS` run: (stdout, stderr, exit status).
fn sysctl(k: &mut Kernel, args: &[&str], cred: SysctlCred) -> (String, String, i32) {
    let o = kernel_sim::user_sysctl::run(k, args, cred).unwrap_or_else(|f| panic!("sysctl {args:?} faulted: {f:?}\n{}", k.console()));
    (o.stdout, o.stderr, o.status)
}

/// Everything the session below prints, in order, and the console.
fn session(ko: &Path, release: SimRelease) -> String {
    let mut opts = SimOptions::default();
    opts.kenv.insert("debug.counters.limit".into(), "7".into());
    let mut k = Kernel::boot(release, opts).expect("boot");
    let id = k.load(ko).unwrap_or_else(|e| panic!("load {}: {e}\n{}", ko.display(), k.console()));
    let mut out = String::new();
    let steps: &[(&[&str], SysctlCred)] = &[
        (&["debug.counters"], ROOT),
        (&["debug.counters.value=5"], ROOT),
        (&["debug.counters.value=1001"], ROOT),
        (&["debug.counters.value=-1"], ROOT),
        (&["debug.counters.value=1000"], ROOT),
        (&["debug.counters.value=7"], USER),
        (&["debug.counters.reads=1"], ROOT),
        (&["debug.counters.limit=1"], ROOT),
        (&["debug.counters.name=twins"], ROOT),
        (&["debug.counters.name=0123456789abcdef0123456789abcdef"], ROOT),
        (&["debug.counters.name=0123456789abcdef0123456789abcdefX"], ROOT),
        (&["debug.counters.name="], ROOT),
        (&["debug.counters.name=x"], USER),
        (&["debug.counters_static=3"], ROOT),
        (&["debug.counters_static=4"], USER),
        (&["-n", "debug.counters.reads"], ROOT),
        (&["debug.counters"], USER),
        (&["debug.counters_static"], USER),
    ];
    for (args, cred) in steps {
        let (o, e, s) = sysctl(&mut k, args, *cred);
        out.push_str(&format!("$ {}sysctl {}\n{o}{e}[{s}]\n", if cred.uid == 0 { "" } else { "(uid 1001) " }, args.join(" ")));
    }
    k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
    let (_, e, s) = sysctl(&mut k, &["debug.counters"], ROOT);
    assert_eq!((e.as_str(), s), ("sysctl: unknown oid 'debug.counters'\n", 1), "the oids must go with the module");
    let (_, e, _) = sysctl(&mut k, &["debug.counters_static"], ROOT);
    assert_eq!(e, "sysctl: unknown oid 'debug.counters_static'\n");
    assert_eq!(k.sysctl_dynamic_oids(), 0);
    assert!(k.panics().is_empty(), "{:?}\n{}", k.panics(), k.console());
    out.push_str("--- console\n");
    out.push_str(&k.console());
    out
}

/// What both modules print, on every release.
const EXPECTED: &str = include_str!("../../../examples/counters/expected-sysctl.txt");

#[test]
fn counters_in_rust_and_c_behave_alike_on_every_release() {
    let _g = lock();
    let mut failures = Vec::new();
    for (name, release, c_target) in [
        ("13.1", SimRelease::V13_1, None),
        ("14.0", SimRelease::V14_0, Some(Target::Fbsd14)),
        ("15.0", SimRelease::V15_0, Some(Target::Fbsd15)),
    ] {
        let rust = session(&rust_ko(name), release);
        if rust != EXPECTED {
            failures.push(format!("Rust counters on {name}:\n{rust}"));
        }
        if let Some(t) = c_target {
            let c = session(&c_ko(t), release);
            if c != EXPECTED {
                failures.push(format!("C counters.c on {name}:\n{c}"));
            }
        }
    }
    assert!(failures.is_empty(), "expected (examples/counters/expected-sysctl.txt):\n{EXPECTED}\n{}", failures.join("\n"));
}

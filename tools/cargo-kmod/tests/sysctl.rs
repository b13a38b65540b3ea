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
    let o = kernel_sim::user::sysctl::run(k, args, cred).unwrap_or_else(|f| panic!("sysctl {args:?} faulted: {f:?}\n{}", k.console()));
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

/// `cargo kmod run <module> --kenv ... --exec ... [--exec-as ...] [--fuzz N]`, as the
/// command line does it.
fn kmod_run(module: &str, release: &str, args: &[&str], fuzz: u64) -> cargo_kmod::run::RunReport {
    kmod_run_with(module, release, &[("debug.counters.limit", "7")], -1, args, fuzz)
}

/// [`kmod_run`] with a kernel environment and a securelevel.
fn kmod_run_with(module: &str, release: &str, kenv: &[(&str, &str)], securelevel: i32, args: &[&str], fuzz: u64) -> cargo_kmod::run::RunReport {
    use cargo_kmod::run::{RunConfig, RunOptions, user};
    let ws = Workspace::locate().expect("workspace");
    let mut config = RunConfig::default();
    for (k, v) in kenv {
        config.kenv.insert(k.to_string(), v.to_string());
    }
    config.securelevel = securelevel;
    config.execs = user::steps_from_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("exec args");
    config.fuzz = fuzz;
    // Fixture packages are named by their path from the workspace root.
    let module = if module.starts_with("tools/") { ws.root.join(module).display().to_string() } else { module.to_string() };
    let opts = RunOptions { modules: vec![module.clone()], release: resolve(Some(release)).expect("release"), config, kernel: None, module_path: Vec::new(), jobs: Some(2), verbose: false };
    cargo_kmod::run::run(&ws, &opts).unwrap_or_else(|e| panic!("cargo kmod run {module}: {e:#}"))
}

/// The example run, on the command line's path (`--kenv`, `--exec`, `--exec-as`),
/// for the Rust module on 13.1/14.0/15.0 and the C twin on 14.0/15.0: the tree with the
/// tunable, `value: 0 -> 5`, and a non-root write that fails the run with `Operation not
/// permitted`.
#[test]
fn the_example_run_shows_the_tree_the_tunable_and_the_permission_check() {
    let _g = lock();
    let root = ["--exec", "sysctl debug.counters", "--exec", "sysctl debug.counters.value=5"];
    let expected = "$ sysctl debug.counters\ndebug.counters.limit: 7\ndebug.counters.name: counters\n\
                    debug.counters.reads: 0\ndebug.counters.value: 0\n\
                    $ sysctl debug.counters.value=5\ndebug.counters.value: 0 -> 5\n";
    let mut modules: Vec<(String, &str)> = ["13.1", "14.0", "15.0"].iter().map(|r| ("counters".to_string(), *r)).collect();
    modules.push((c_ko(Target::Fbsd14).display().to_string(), "14.0"));
    modules.push((c_ko(Target::Fbsd15).display().to_string(), "15.0"));
    for (module, release) in &modules {
        let ok = kmod_run(module, release, &root, 0);
        assert!(ok.passed(), "{module} on {release}:\n{}", ok.render());
        assert_eq!(ok.commands, expected, "{module} on {release}:\n{}", ok.render());
        assert!(ok.console.starts_with("counters: loaded, limit 7\n"), "{}", ok.console);

        let denied = kmod_run(module, release, &["--exec-as", "1001", "--exec", "sysctl debug.counters.value=5"], 0);
        assert!(!denied.passed(), "a non-root write must fail the run:\n{}", denied.render());
        assert!(
            denied.commands.contains("sysctl: debug.counters.value=5: Operation not permitted\n"),
            "{module} on {release}:\n{}",
            denied.render()
        );
        assert!(denied.verdict().contains("Operation not permitted"), "{}", denied.verdict());
    }
}

/// `--fuzz` covers every sysctl the module created (random writes of 0..1 MiB, short reads,
/// huge newlen/oldlen over short, unmapped or NULL user buffers, concurrent and
/// unprivileged processes): only errnos, no panic, fault or leak.
#[test]
fn counters_survive_the_sysctl_fuzzer() {
    let _g = lock();
    let mut modules: Vec<(String, &str)> = ["13.1", "14.0", "15.0"].iter().map(|r| ("counters".to_string(), *r)).collect();
    modules.push((c_ko(Target::Fbsd14).display().to_string(), "14.0"));
    for (module, release) in &modules {
        let r = kmod_run(module, release, &[], 5000);
        assert!(r.passed(), "{module} on {release} under --fuzz 5000:\n{}", r.render());
        assert!(r.fuzz.contains("debug.counters"), "the fuzzer must reach the module's sysctls:\n{}", r.fuzz);
        assert_huge_lengths_sent(&r.fuzz);
    }
}

/// The sysctl fuzz summary counts calls with huge lengths or unmapped/NULL buffers: some
/// were made.
fn assert_huge_lengths_sent(fuzz: &str) {
    let n: u64 = fuzz
        .split_once(" with huge lengths or unmapped/NULL buffers)")
        .and_then(|(before, _)| before.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no count of huge-length calls in:\n{fuzz}"));
    assert!(n > 0, "{fuzz}");
}

/// Issue 15: every kind of leaf of the crate (fixture kmod-sysctl: scalars through
/// `sysctl_handle_*`, the string and opaque leaves, the `add_proc` handlers over a
/// `Request` that wire the old buffer or take 4 bytes) under
/// the fuzzer's huge `newlen`/`*oldlenp` and unmapped buffers: errnos only on every release.
#[test]
fn crate_leaves_survive_huge_lengths() {
    let _g = lock();
    for release in ["13.1", "14.0", "15.0"] {
        let r = kmod_run_with(FIXTURE, release, &[("kmod_sysctl.ident", "hello")], -1, &[], 3000);
        assert!(r.passed(), "{FIXTURE} on {release} under --fuzz 3000:\n{}", r.render());
        assert!(r.fuzz.contains("debug.kmod_sysctl.locked"), "{}", r.fuzz);
        assert_huge_lengths_sent(&r.fuzz);
    }
}

const FIXTURE: &str = "tools/cargo-kmod/tests/fixtures/kmod-sysctl";

/// Every kind of leaf of the crate (fixture kmod-sysctl): u32, i64, bool, ANYBODY, SECURE,
/// RWTUN (set from the environment when added), a read-only string from `fetch_string`, an
/// opaque `S,pair`, an `add_proc` handler that wires the old buffer and copies out under a
/// mutex (no WITNESS report), an ANYBODY handler gated by `priv_check` (its own test
/// below), a node under a node, static bool and u64 oids, and the
/// tunable fetchers (`0x10` parses as 16, absent variables are `None`).
#[test]
fn every_kind_of_leaf_reads_and_writes_like_its_c_macro() {
    let _g = lock();
    let kenv = [("kmod_sysctl.ident", "hello"), ("kmod_sysctl.level", "0x10"), ("debug.kmod_sysctl.tun", "99")];
    for release in ["13.1", "14.0", "15.0"] {
        let r = kmod_run_with(FIXTURE, release, &kenv, -1, &[
            "--exec", "sysctl debug.kmod_sysctl",
            "--exec", "sysctl debug.kmod_sysctl_flag debug.kmod_sysctl_big",
            "--exec", "sysctl debug.kmod_sysctl.u=1 debug.kmod_sysctl.s=-1 debug.kmod_sysctl.b=1 debug.kmod_sysctl.tun=5 debug.kmod_sysctl.sub.deep=6",
            "--exec", "sysctl debug.kmod_sysctl_flag=0",
            "--exec-as", "1001",
            "--exec", "sysctl debug.kmod_sysctl.any=9",
        ], 0);
        assert!(r.passed(), "{release}:\n{}", r.render());
        assert_eq!(r.console, "kmod_sysctl: level Some(16), quad None, u64 None, ident set true\n", "{release}");
        assert_eq!(
            r.commands,
            "$ sysctl debug.kmod_sysctl\n\
             debug.kmod_sysctl.sub.deep: 4\n\
             debug.kmod_sysctl.guarded: 8\n\
             debug.kmod_sysctl.locked: 42\n\
             debug.kmod_sysctl.ident: hello\n\
             debug.kmod_sysctl.tun: 99\n\
             debug.kmod_sysctl.sec: 2\n\
             debug.kmod_sysctl.any: 1\n\
             debug.kmod_sysctl.b: 0\n\
             debug.kmod_sysctl.s: -5000000000\n\
             debug.kmod_sysctl.u: 4000000000\n\
             $ sysctl debug.kmod_sysctl_flag debug.kmod_sysctl_big\n\
             debug.kmod_sysctl_flag: 1\n\
             debug.kmod_sysctl_big: 1099511627776\n\
             $ sysctl debug.kmod_sysctl.u=1 debug.kmod_sysctl.s=-1 debug.kmod_sysctl.b=1 debug.kmod_sysctl.tun=5 debug.kmod_sysctl.sub.deep=6\n\
             debug.kmod_sysctl.u: 4000000000 -> 1\n\
             debug.kmod_sysctl.s: -5000000000 -> -1\n\
             debug.kmod_sysctl.b: 0 -> 1\n\
             debug.kmod_sysctl.tun: 99 -> 5\n\
             debug.kmod_sysctl.sub.deep: 4 -> 6\n\
             $ sysctl debug.kmod_sysctl_flag=0\n\
             debug.kmod_sysctl_flag: 1 -> 0\n\
             [uid 1001:1001] $ sysctl debug.kmod_sysctl.any=9\n\
             debug.kmod_sysctl.any: 1 -> 9\n",
            "{release}:\n{}",
            r.render()
        );
        // The opaque pair (sysctl(8) shows no unknown struct without -o): its bytes through
        // sysctl(2), and ENOMEM for a short buffer (whose valid length userland_sysctl reports).
        let ws = Workspace::locate().expect("workspace");
        let ko = build(&ws, &BuildOptions { module: ws.root.join(FIXTURE).display().to_string(), release: resolve(Some(release)).unwrap(), jobs: Some(2), verbose: false })
            .unwrap_or_else(|e| panic!("build {FIXTURE}: {e:#}"))
            .ko;
        let sim = SimRelease::by_name(release).expect("release");
        let mut k = Kernel::boot(sim, SimOptions::default()).expect("boot");
        let id = k.load(&ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console()));
        let r = k.sysctl("debug.kmod_sysctl.pair", Some(8), None, ROOT).expect("no fault");
        assert_eq!((r.error, r.old.as_slice()), (0, &[0x00, 0x28, 0x6b, 0xee, 7, 0, 0, 0][..]), "{release}");
        let short = k.sysctl("debug.kmod_sysctl.pair", Some(4), None, ROOT).expect("no fault");
        assert_eq!((short.error, short.oldlen), (12, 4), "{release}: ENOMEM, 4 valid bytes");
        let size = k.sysctl("debug.kmod_sysctl.pair", None, None, ROOT).expect("no fault");
        assert_eq!((size.error, size.oldlen), (0, 8), "{release}: the size alone");
        k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
        assert!(k.panics().is_empty(), "{:?}", k.panics());
        drop(k); // one simulated kernel per process at a time
        // CTLFLAG_SECURE: refused above securelevel 0, even for root.
        let sec = kmod_run_with(FIXTURE, release, &[], 1, &["--exec", "sysctl debug.kmod_sysctl.sec=3"], 0);
        assert!(sec.commands.contains("sysctl: debug.kmod_sysctl.sec=3: Operation not permitted\n"), "{release}:\n{}", sec.render());
        // Read-only leaves and strings refuse writes.
        let ro = kmod_run_with(FIXTURE, release, &[], -1, &["--exec", "sysctl debug.kmod_sysctl.ident=x"], 0);
        assert!(ro.commands.contains("sysctl: oid 'debug.kmod_sysctl.ident' is read only\n"), "{release}:\n{}", ro.render());
    }
}

/// A leaked context (`mem::forget`, safe) keeps its oids, whose handlers are module code:
/// `MOD_UNLOAD` answers EBUSY so the module stays loaded ([`freebsd_kmi::sysctl::live_contexts`]).
#[test]
fn a_leaked_context_keeps_the_module_loaded() {
    let _g = lock();
    let r = kmod_run_with("tools/cargo-kmod/tests/fixtures/kmod-sysctl-leak", "14.0", &[], -1, &["--exec", "sysctl debug.kmod_sysctl_leak"], 0);
    assert!(!r.passed(), "the unload must be refused:\n{}", r.render());
    assert!(r.commands.contains("debug.kmod_sysctl_leak: 5\n"), "{}", r.render());
    assert!(r.console.contains("kmod_sysctl_leak: state dropped\n"), "{}", r.render());
    assert!(r.render().contains("MOD_UNLOAD returned 16"), "{}", r.render());
}

/// Issue 17, the crate: a sysctl handler checks privileges on the requesting thread
/// (`Request::caller().priv_check(Privilege::DRIVER)`, `req->td`). The fixture's
/// `debug.kmod_sysctl.guarded` is `CTLFLAG_ANYBODY`, so the kernel lets every write reach
/// the handler, which refuses it unless `priv_check(td, PRIV_DRIVER)` passes: root writes,
/// uid 1001 and jailed root get `Operation not permitted` (kern_priv.c: PRIV_DRIVER is not
/// allowed in a jail; sysctl(8) shows the old value, then the error), and anybody reads
/// the value the refused writes left alone.
#[test]
fn a_handler_checks_priv_driver_on_the_requesting_thread() {
    let _g = lock();
    for release in ["13.1", "14.0", "15.0"] {
        let r = kmod_run_with(FIXTURE, release, &[], -1, &[
            "--exec", "sysctl debug.kmod_sysctl.guarded=1",
            "--exec-as", "1001",
            "--exec", "sysctl debug.kmod_sysctl.guarded=2",
            "--exec-as", "jail:0",
            "--exec", "sysctl debug.kmod_sysctl.guarded=3",
            "--exec-as", "1001",
            "--exec", "sysctl debug.kmod_sysctl.guarded",
        ], 0);
        assert_eq!(
            r.commands,
            "$ sysctl debug.kmod_sysctl.guarded=1\n\
             debug.kmod_sysctl.guarded: 8 -> 1\n\
             [uid 1001:1001] $ sysctl debug.kmod_sysctl.guarded=2\n\
             debug.kmod_sysctl.guarded: 1\n\
             sysctl: debug.kmod_sysctl.guarded=2: Operation not permitted\n\
             [uid 0:0 jailed] $ sysctl debug.kmod_sysctl.guarded=3\n\
             debug.kmod_sysctl.guarded: 1\n\
             sysctl: debug.kmod_sysctl.guarded=3: Operation not permitted\n\
             [uid 1001:1001] $ sysctl debug.kmod_sysctl.guarded\n\
             debug.kmod_sysctl.guarded: 1\n",
            "{release}:\n{}",
            r.render()
        );
        // The two refused writes fail the run, and nothing else does (no panic, fault, leak).
        assert!(!r.passed(), "{release}: the refused writes must fail the run:\n{}", r.render());
        let failed: Vec<&str> = r
            .failures
            .iter()
            .map(|f| match f {
                cargo_kmod::run::Failure::Command { line, .. } => line.as_str(),
                _ => panic!("{release}: only the refused writes may fail the run, not {f:?}:\n{}", r.render()),
            })
            .collect();
        assert_eq!(failed, ["sysctl debug.kmod_sysctl.guarded=2", "sysctl debug.kmod_sysctl.guarded=3"], "{release}");
    }
}

/// One `__sysctl(2)` of the process of `sh` with `*oldlenp` (at `lenp`) set to `oldlen`:
/// (errno, `*oldlenp` after).
fn raw_sysctl(sh: &mut kernel_sim::user::shell::Shell<'_>, lenp: usize, name: &str, old: usize, oldlen: usize, new: usize, newlen: usize) -> (i32, usize) {
    sh.poke(lenp, &oldlen.to_ne_bytes());
    let e = kernel_sim::user::sysctl::sysctl_raw(sh, name, old, lenp, new, newlen).unwrap_or_else(|e| panic!("{name}: crashed ({e}): {:?}", sh.fault));
    (e, usize::from_ne_bytes(sh.peek(lenp, 8).try_into().unwrap()))
}

/// Issue 15, the crate's handlers under `__sysctl(2)` calls with huge lengths and unmapped
/// buffers, on every release: the scalar leaf with a setter (counters' `value`) takes the 4
/// bytes `sysctl_handle_int` asks for out of a huge `newlen` and faults over 2; the string leaf
/// (counters' `name`) refuses a `newlen` of its size or more with `EINVAL` (no allocation) and
/// keeps its value on a fault; the `add_proc` handlers over a `Request` (kmod-sysctl's
/// `locked`: `wire_old_buffer(0)` then `output`; `guarded`: `input` of 4 bytes) answer what
/// `sysctl_wire_old_buffer`/`vslock`, `SYSCTL_IN` and `SYSCTL_OUT` give.
#[test]
fn crate_handlers_answer_huge_lengths_like_the_kernel() {
    use kernel_sim::user::Ucred;
    use kernel_sim::user::shell::Shell;
    const ENOMEM: i32 = 12;
    const EFAULT: i32 = 14;
    const EINVAL: i32 = 22;
    const UNMAPPED: usize = 0x1000;
    let _g = lock();
    let ws = Workspace::locate().expect("workspace");
    for release in ["13.1", "14.0", "15.0"] {
        let build_ko = |m: &str| {
            build(&ws, &BuildOptions { module: ws.root.join(m).display().to_string(), release: resolve(Some(release)).unwrap(), jobs: Some(2), verbose: false })
                .unwrap_or_else(|e| panic!("build {m}: {e:#}"))
                .ko
        };
        let (counters, fixture) = (build_ko("examples/counters"), build_ko(FIXTURE));
        let mut k = Kernel::boot(SimRelease::by_name(release).expect("release"), SimOptions::default()).expect("boot");
        let ids = [&counters, &fixture].map(|ko| k.load(ko).unwrap_or_else(|e| panic!("load: {e}\n{}", k.console())));
        let pid = k.spawn("huge", Ucred::root());
        let mut sh = Shell::new(&mut k, pid);
        let (lenp, buf, end) = (sh.alloc(8).expect("memory"), sh.alloc(64).expect("memory"), sh.user_end());
        let sh = &mut sh;
        for (i, newlen) in [1usize << 20, 1 << 40, usize::MAX / 2, usize::MAX].into_iter().enumerate() {
            // counters' value: 4 bytes of a huge newlen, its setter's EINVAL above 1000.
            sh.poke(end - 4, &2000i32.to_ne_bytes());
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.value", 0, 0, end - 4, newlen).0, EINVAL, "{release}: value 2000");
            let v = (i as i32 + 1) * 5;
            sh.poke(end - 4, &v.to_ne_bytes());
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.value", 0, 0, end - 4, newlen).0, 0, "{release}: value, newlen {newlen:#x}");
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.value", 0, 0, end - 2, newlen).0, EFAULT, "{release}: 2 bytes mapped");
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.value", 0, 0, UNMAPPED, newlen).0, EFAULT);
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.value", 0, 0, 0, newlen), (0, 4), "{release}: NULL new is a read");
            // counters' name (at most 32 bytes).
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.name", 0, 0, end - 4, newlen).0, EINVAL, "{release}: name, newlen {newlen:#x}");
            // kmod-sysctl's guarded (ANYBODY, priv_check, Request::input of 4 bytes).
            assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.guarded", 0, 0, end - 4, newlen).0, 0, "{release}: guarded");
            assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.guarded", 0, 0, end - 2, newlen).0, EFAULT);
            // Huge *oldlenp: room for the value at buf, none at the end of the memory.
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.value", buf, newlen, 0, 0), (0, 4), "{release}: old, oldlen {newlen:#x}");
            assert_eq!(sh.peek(buf, 4), v.to_ne_bytes(), "{release}: the value written, not changed by the faults");
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.value", end - 2, newlen, 0, 0).0, EFAULT);
            assert_eq!(raw_sysctl(sh, lenp, "debug.counters.name", end - 4, newlen, 0, 0).0, EFAULT, "{release}: 9 bytes of name, 4 mapped");
            assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.pair", end - 4, newlen, 0, 0).0, EFAULT, "{release}: opaque");
        }
        assert_eq!(raw_sysctl(sh, lenp, "debug.counters.name", 0, 0, end - 4, 8).0, EFAULT, "{release}: 8 bytes said, 4 mapped");
        assert_eq!(raw_sysctl(sh, lenp, "debug.counters.name", buf, 64, 0, 0), (0, 9));
        assert_eq!(sh.peek(buf, 9), b"counters\0", "{release}: the name stays");
        // kmod-sysctl's locked: Request::wire_old_buffer(0) vslocks all of *oldlenp: ENOMEM
        // above vm.max_user_wired wires nothing (output: ENOMEM, *oldlenp 0); EINVAL when the
        // range wraps; EFAULT for unmapped pages.
        assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.locked", buf, 4, 0, 0), (0, 4));
        assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.locked", buf, 1 << 40, 0, 0), (ENOMEM, 0), "{release}: locked");
        assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.locked", buf, usize::MAX, 0, 0), (EINVAL, usize::MAX));
        assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.locked", end - 64, 1 << 20, 0, 0).0, EFAULT);
        assert_eq!(raw_sysctl(sh, lenp, "debug.kmod_sysctl.locked", UNMAPPED, 4, 0, 0).0, EFAULT);
        let _ = sh;
        for id in ids.into_iter().rev() {
            k.unload(id).unwrap_or_else(|e| panic!("unload: {e}\n{}", k.console()));
        }
        assert!(k.panics().is_empty(), "{release}: {:?}", k.panics());
    }
}

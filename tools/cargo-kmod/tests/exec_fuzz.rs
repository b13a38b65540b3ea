//! `cargo kmod run --exec/--exec-as/--fuzz` through the library, on the device fixture
//! `examples/c-twins/cdev_fixture.c` built from the real 14.2 headers: the transcript, the
//! permission failures, the fuzz summary and a fuzz failure with its seed.

use std::path::{Path, PathBuf};

use cargo_kmod::release::resolve;
use cargo_kmod::run::user::{ExecStep, steps_from_args};
use cargo_kmod::run::{self, RunConfig, RunOptions, RunReport};
use cargo_kmod::workspace::Workspace;
use kernel_sim::twins::{self, Target};

fn lock() -> std::sync::MutexGuard<'static, ()> {
    static L: std::sync::Mutex<()> = std::sync::Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture(tag: &str, flags: &[&str]) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-twins");
    twins::build(&out, tag, &["cdev_fixture.c"], Target::Fbsd14, flags).unwrap_or_else(|e| panic!("{e}"))
}

fn run_with(ko: &Path, config: RunConfig) -> RunReport {
    let ws = Workspace::locate().expect("workspace");
    run::run(
        &ws,
        &RunOptions { modules: vec![ko.to_str().unwrap().into()], release: resolve(Some("14.0")).unwrap(), config, jobs: Some(2), verbose: false },
    )
    .unwrap_or_else(|e| panic!("{e:#}"))
}

fn steps(args: &[&str]) -> Vec<ExecStep> {
    steps_from_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn exec_transcript_and_permission_failure() {
    let _g = lock();
    let ko = fixture("cdevfix-kmod", &[]);
    let r = run_with(&ko, RunConfig { execs: steps(&["--exec", "echo hi > /dev/cdevfix", "--exec", "cat /dev/cdevfix"]), cycles: 3, ..RunConfig::default() });
    assert!(r.passed(), "{}", r.render());
    assert_eq!(r.commands, "$ echo hi > /dev/cdevfix\n$ cat /dev/cdevfix\nhi\n");
    assert!(r.render().contains("--- commands ---\n$ echo hi"), "{}", r.render());

    let r = run_with(&ko, RunConfig { execs: steps(&["--exec-as", "1001", "--exec", "cat /dev/cdevfix"]), ..RunConfig::default() });
    assert!(!r.passed());
    assert!(r.commands.contains("[uid 1001:1001] $ cat /dev/cdevfix\ncat: /dev/cdevfix: Permission denied\n"), "{}", r.commands);
    assert!(r.render().contains("FAIL"), "{}", r.render());
}

#[test]
fn fuzz_summary_and_a_caught_bug_with_its_seed() {
    let _g = lock();
    let r = run_with(&fixture("cdevfix-kmod", &[]), RunConfig { fuzz: 2000, ..RunConfig::default() });
    assert!(r.passed(), "{}", r.render());
    assert!(r.fuzz.starts_with("2000 operations") && r.fuzz.contains("ops/s; seed 1"), "{}", r.fuzz);
    let r = run_with(&fixture("cdevfix-kmod-ignore-priv", &["-DFIX_BUG_IGNORE_PRIV"]), RunConfig { fuzz: 3000, seed: Some(7), ..RunConfig::default() });
    assert!(!r.passed());
    assert!(r.render().contains("priv_check refused privilege 14") && r.render().contains("replay with --seed 7"), "{}", r.render());
}

//! `cargo kmod run` end to end, through the CLI binary (one simulated kernel per process:
//! every run is its own subprocess, so these tests may run in parallel).
//!
//! The examples are built with the real kernel toolchain; a missing toolchain fails the
//! tests with the tool's message naming the packages to install (nothing is skipped).

mod kmod_cli;

use std::path::Path;
use std::process::Command;

use kmod_cli::{Out, kmod, repo};

/// The report sections of `cargo kmod run`'s output.
impl Out {
    /// Text between `--- console ---` and the allocation report (without the runner's
    /// note on further cycles).
    fn console(&self) -> String {
        let start = self
            .stdout
            .find("--- console ---\n")
            .map(|i| i + 16)
            .unwrap_or(0);
        let end = self
            .stdout
            .find("--- terminal (uprintf) ---\n")
            .or_else(|| self.stdout.find("--- allocations"))
            .unwrap_or(self.stdout.len());
        self.stdout[start..end.max(start)]
            .lines()
            .filter(|l| !l.starts_with("(console of cycle 1 shown;"))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// Text of the `--- terminal (uprintf) ---` section (empty without one).
    fn terminal(&self) -> String {
        let Some(start) = self.stdout.find("--- terminal (uprintf) ---\n") else {
            return String::new();
        };
        let rest = &self.stdout[start + 27..];
        rest[..rest.find("--- allocations").unwrap_or(rest.len())].to_owned()
    }

    /// `(allocs, frees, live, live bytes)` of the report row of `file`/`malloc_type`.
    fn row(&self, file: &str, malloc_type: &str) -> Option<(u64, u64, u64, u64)> {
        self.stdout.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() == 6 && f[0] == file && f[1] == malloc_type {
                let n = |i: usize| f[i].parse::<u64>().ok();
                Some((n(2)?, n(3)?, n(4)?, n(5)?))
            } else {
                None
            }
        })
    }
}

fn run_ok(args: &[&str]) -> Out {
    let mut full = vec!["run", "-j", "2"];
    full.extend_from_slice(args);
    let o = kmod(&full);
    assert!(o.ok(), "cargo kmod {} failed:\n{}", full.join(" "), o.all());
    assert!(o.verdict().starts_with("PASS: "), "{}", o.all());
    assert!(
        o.stdout
            .contains("\nleaks: 0 malloc type(s), 0 bytes live\n"),
        "{}",
        o.all()
    );
    o
}

fn run_fail(args: &[&str]) -> Out {
    let mut full = vec!["run", "-j", "2"];
    full.extend_from_slice(args);
    let o = kmod(&full);
    assert!(
        !o.ok(),
        "cargo kmod {} must fail:\n{}",
        full.join(" "),
        o.all()
    );
    assert!(o.verdict().starts_with("FAIL: "), "{}", o.all());
    o
}

/// Point 1: hello and nowait-reserve run on 13.1, 14.0 and 15.0: greeting and goodbye on
/// the console, every malloc type back to zero, exit 0.
#[test]
fn examples_run_on_every_release() {
    for (release, version) in [("13.1", "1301000"), ("14.0", "1400097"), ("15.0", "1500068")] {
        let o = run_ok(&["--freebsd", release, "hello"]);
        let c = o.console();
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 3, "{}", o.all());
        assert_eq!(lines[0], format!("Hello from Rust on FreeBSD {release}!"));
        assert!(
            lines[1].contains(&format!("built for __FreeBSD_version {version}")),
            "{c}"
        );
        assert!(lines[2].starts_with("hello: goodbye ("), "{c}");
        // M_HELLO (2 allocations) and the crate's type, named after the module (the global
        // allocator's Box, String, Vec): one `hello` row for the file.
        let (a, f, live, bytes) = o.row("hello.ko", "hello").expect("hello type row");
        assert!(a >= 5 && a == f && live == 0 && bytes == 0, "{}", o.all());
        assert!(o.row("hello.ko", "rust").is_none(), "no type is called `rust` any more: {}", o.all());
        assert!(
            o.verdict()
                .contains(&format!("hello.ko on FreeBSD {release}")),
            "{}",
            o.verdict()
        );

        let o = run_ok(&["--freebsd", release, "nowait-reserve"]);
        let c = o.console();
        assert!(
            c.starts_with("nowait_reserve: loaded, 64 samples, global allocator flags 0x401\n"),
            "{c}"
        );
        assert!(
            c.ends_with("nowait_reserve: unloaded (64 samples, state 0)\n"),
            "{c}"
        );
        let (a, f, live, _) = o.row("nowait_reserve.ko", "nowait_reserve").expect("module-named type row");
        assert!(a == 2 && f == 2 && live == 0, "{}", o.all());
    }
}

/// Point 1 (--cycles): 1000 load/unload cycles of hello in one kernel, leak-free.
#[test]
fn thousand_cycles_of_hello_are_leak_free() {
    let t0 = std::time::Instant::now();
    let o = run_ok(&["--freebsd", "14.0", "--cycles", "1000", "hello"]);
    assert!(
        o.verdict().contains("1000 load/unload cycles leak-free"),
        "{}",
        o.verdict()
    );
    // M_HELLO's 2 and the module-named crate type's 3 allocations per cycle, one row.
    assert_eq!(
        o.row("hello.ko", "hello"),
        Some((5000, 5000, 0, 0)),
        "{}",
        o.all()
    );
    assert!(
        o.stdout
            .contains("(console of cycle 1 shown; 999 more cycles ran)"),
        "{}",
        o.all()
    );
    eprintln!(
        "1000 cycles (including the cached build) took {:?}",
        t0.elapsed()
    );
}

/// Point 1 (--nowait-sweep): every M_NOWAIT site of nowait-reserve and hello is failed in
/// turn; each load fails cleanly with ENOMEM and leaves nothing.
#[test]
fn nowait_sweep_fails_every_site_cleanly() {
    for (module, file, sites) in [
        ("nowait-reserve", "nowait_reserve.ko", 2),
        ("hello", "hello.ko", 1),
    ] {
        for release in ["13.1", "14.0", "15.0"] {
            let o = run_ok(&["--freebsd", release, "--nowait-sweep", module]);
            assert!(
                o.stdout.contains(&format!(
                    "--- nowait sweep: {sites} M_NOWAIT allocation site(s) ---\n"
                )),
                "{}",
                o.all()
            );
            for i in 1..=sites {
                let line = o
                    .stdout
                    .lines()
                    .find(|l| l.starts_with(&format!("site {i}/{sites}: ")))
                    .unwrap_or_else(|| panic!("no line for site {i}:\n{}", o.all()));
                assert!(
                    line.contains(&format!("load of {file} failed cleanly")),
                    "{line}"
                );
                assert!(line.contains("returned ENOMEM (12)"), "{line}");
            }
            assert!(o.verdict().ends_with("all handled"), "{}", o.verdict());
        }
    }
}

/// Point 1 (several modules): both Rust examples load together (each .ko localises its
/// symbols, each has the crate malloc type named after it) and unload in reverse order.
#[test]
fn both_examples_load_together() {
    for release in ["13.1", "14.0", "15.0"] {
        let o = run_ok(&[
            "--freebsd",
            release,
            "--cycles",
            "3",
            "hello",
            "nowait-reserve",
        ]);
        let console = o.console();
        let c: Vec<&str> = console.lines().collect();
        assert_eq!(c.len(), 5, "{}", o.all());
        assert!(c[0].starts_with("Hello from Rust"), "{}", o.all());
        assert!(c[2].starts_with("nowait_reserve: loaded"), "{}", o.all());
        assert!(
            c[3].starts_with("nowait_reserve: unloaded"),
            "reverse order: {}",
            o.all()
        );
        assert!(
            c[4].starts_with("hello: goodbye"),
            "reverse order: {}",
            o.all()
        );
        // The crate's malloc type of each module is named after it.
        let (a1, f1, l1, _) = o.row("hello.ko", "hello").expect("hello's type");
        let (a2, f2, l2, _) = o
            .row("nowait_reserve.ko", "nowait_reserve")
            .expect("nowait_reserve's type");
        assert_eq!((a2, f2, l2), (6, 6, 0), "{}", o.all());
        assert!(a1 == f1 && l1 == 0 && a1 > 0, "{}", o.all());
        assert!(
            o.verdict().contains("hello.ko + nowait_reserve.ko"),
            "{}",
            o.verdict()
        );
    }
}

/// Point 1 (prebuilt .ko, wrong release): a 13.1 hello.ko is refused by a 14.0 kernel
/// with the kernel's message, and vice versa; likewise 14.0 and 15.0 (15.0 issue).
#[test]
fn a_module_of_the_other_release_is_refused() {
    for (built, run, built_major) in [
        ("13.1", "14.0", "13"),
        ("14.0", "13.1", "14"),
        ("15.0", "14.0", "15"),
        ("14.0", "15.0", "14"),
    ] {
        let b = kmod(&["build", "-j", "2", "--freebsd", built, "hello"]);
        assert!(b.ok(), "{}", b.all());
        let ko = format!("target/kmod/{built}/hello.ko");
        let o = run_fail(&["--freebsd", run, &ko]);
        assert!(
            o.console()
                .contains("KLD hello.ko: depends on kernel - not available or version mismatch\n"),
            "the kernel's message (kern_linker.c linker_load_dependencies): {}",
            o.all()
        );
        let v = o.verdict();
        assert!(v.contains("load of hello.ko refused"), "{v}");
        assert!(v.contains("[kldload: ENOENT (2)]"), "{v}");
        assert!(
            v.contains(&format!(
                "wrong release: built for FreeBSD {built_major}.x kernels"
            )),
            "{v}"
        );
        assert!(
            o.stdout
                .contains("wrong kernel version range in MDT_DEPEND on `kernel`"),
            "{}",
            o.all()
        );
    }
}

/// Point 1 (failures): a panicking module.
#[test]
fn a_panicking_module_is_reported() {
    let o = run_fail(&["tools/cargo-kmod/tests/fixtures/kmod-panic"]);
    assert!(
        o.console().contains("kmod_panic: about to panic\n"),
        "{}",
        o.all()
    );
    assert!(
        o.console()
            .contains("panic: rust panic: kmod_panic: deliberate panic in MOD_LOAD"),
        "{}",
        o.all()
    );
    let v = o.verdict();
    assert!(v.contains("kmod_panic.ko crashed during load: panic: rust panic: kmod_panic: deliberate panic in MOD_LOAD"), "{v}");
    assert!(v.contains("(kmod_panic.ko)"), "{v}");
}

/// Point 1 (failures): a module that forgets a KBox leaks from its module-named type; with
/// --cycles the first leaking cycle is reported.
#[test]
fn a_leaking_module_is_reported() {
    let o = run_fail(&["--cycles", "5", "tools/cargo-kmod/tests/fixtures/kmod-leak"]);
    assert!(
        o.console().contains(
            "Warning: memory type kmod_leak leaked memory on destroy (1 allocations, 64 bytes leaked).\n"
        ),
        "malloc_uninit's warning (kern_malloc.c): {}",
        o.all()
    );
    assert_eq!(
        o.row("kmod_leak.ko", "kmod_leak"),
        Some((1, 0, 1, 64)),
        "{}",
        o.all()
    );
    assert_eq!(
        o.verdict(),
        "FAIL: kmod_leak.ko on FreeBSD 15.0: kmod_leak.ko leaked in cycle 1: malloc type `kmod_leak` has 1 allocation(s), \
         64 bytes live after unload"
    );
}

/// Point 1 (failures): a NULL dereference is reported with symbol + offset.
#[test]
fn a_faulting_module_is_reported_with_symbol_and_offset() {
    let o = run_fail(&["tools/cargo-kmod/tests/fixtures/kmod-nullderef"]);
    assert!(
        o.console().contains(
            "Fatal trap 12: page fault while in kernel mode\nfault virtual address\t= 0x0\n"
        ),
        "{}",
        o.all()
    );
    let v = o.verdict();
    assert!(v.contains("kmod_nullderef.ko crashed during load: page fault at address 0x0 at kmod_nullderef::read_sensor+0x"), "{v}");
    assert!(v.ends_with("(kmod_nullderef.ko)"), "{v}");
}

/// Point 1 (failures): a refused unload (MOD_QUIESCE -> EBUSY).
#[test]
fn a_refused_unload_is_reported() {
    let o = run_fail(&["tools/cargo-kmod/tests/fixtures/kmod-busy"]);
    assert!(
        o.console()
            .contains("kldunload: module kmod_busy vetoed unload: MOD_QUIESCE returned 16\n"),
        "{}",
        o.all()
    );
    assert!(
        o.verdict().contains("unload of kmod_busy.ko refused"),
        "{}",
        o.verdict()
    );
    assert!(o.verdict().contains("[EBUSY (16)]"), "{}", o.verdict());
}

/// --force-unload is `kldunload -f`: MOD_QUIESCE's refusal is ignored and MOD_UNLOAD
/// sent (kern_linker.c `linker_file_unload`, `LINKER_UNLOAD_FORCE`).
#[test]
fn a_forced_unload_ignores_a_refused_quiesce() {
    let o = run_ok(&["--force-unload", "tools/cargo-kmod/tests/fixtures/kmod-busy"]);
    assert!(
        !o.console().contains("vetoed unload"),
        "{}",
        o.all()
    );
    assert!(o.verdict().contains("kmod_busy.ko"), "{}", o.verdict());
}

/// Module::unload vetoes MOD_UNLOAD, before Drop: the module stays loaded even when the
/// unload is forced, and the run reports the refusal.
#[test]
fn a_vetoed_unload_keeps_the_module_even_when_forced() {
    let o = run_fail(&["--force-unload", "tools/cargo-kmod/tests/fixtures/kmod-veto"]);
    let c = o.console();
    assert!(
        c.contains(
            "kmod_veto: quiesce refused\nkmod_veto: unload refused\n\
             kldunload: module kmod_veto failed to unload: MOD_UNLOAD returned 16\n"
        ),
        "{}",
        o.all()
    );
    assert!(!c.contains("kmod_veto: dropped"), "Drop must not run: {}", o.all());
    assert!(o.verdict().contains("[EBUSY (16)]"), "{}", o.verdict());
    // Without --force-unload MOD_QUIESCE's refusal already stops the unload.
    let o = run_fail(&["tools/cargo-kmod/tests/fixtures/kmod-veto"]);
    assert!(
        o.console()
            .contains("kldunload: module kmod_veto vetoed unload: MOD_QUIESCE returned 16\n"),
        "{}",
        o.all()
    );
    assert!(!o.console().contains("unload refused"), "{}", o.all());
}

/// Issue 9 item 1: allocations in a SYSINIT before SI_SUB_KMEM and a SYSUNINIT after the
/// malloc type's malloc_uninit are refused cleanly (ENOMEM, failed try_reserve); malloc(9)
/// never sees the unregistered type (no "used before malloc_init" panic).
#[test]
fn allocations_outside_the_malloc_types_registration_are_refused() {
    let o = run_ok(&["tools/cargo-kmod/tests/fixtures/kmod-early"]);
    assert_eq!(
        o.console(),
        "kmod_early: before SI_SUB_KMEM: KBox refused: ENOMEM (12)\n\
         kmod_early: before SI_SUB_KMEM: Vec refused\n\
         kmod_early: MOD_LOAD: KBox allocated\n\
         kmod_early: MOD_LOAD: Vec allocated\n\
         kmod_early: after malloc_uninit: KBox refused: ENOMEM (12)\n\
         kmod_early: after malloc_uninit: Vec refused\n",
        "{}",
        o.all()
    );
    assert_eq!(o.row("kmod_early.ko", "kmod_early"), Some((3, 3, 0, 0)), "{}", o.all());
}

/// Issue 9 items 11, 8 and 7 (uprintf): a module's own linker sets survive
/// `--gc-sections` under their names, also one nothing in the module refers to (as a set
/// only the kernel reads, emitted without SHF_GNU_RETAIN like C's DATA_SET); a NUL inside
/// printed text does not cut the line; uprintf output is shown apart from the console.
#[test]
fn own_linker_sets_are_kept_and_printing_is_whole() {
    use object::{Object, ObjectSection};
    let o = run_ok(&["tools/cargo-kmod/tests/fixtures/kmod-sets"]);
    assert_eq!(
        o.console(),
        "kmod_sets: 3 entries in set_kmod_sets_things, sum 321\n\
         kmod_sets: before\\0after\n",
        "{}",
        o.all()
    );
    assert_eq!(o.terminal(), "kmod_sets: hello, terminal\n", "{}", o.all());
    let ko = repo().join("target/kmod/15.0/kmod_sets.ko");
    let data = std::fs::read(&ko).expect("kmod_sets.ko");
    let file = object::File::parse(&*data).expect("ELF");
    let set = file
        .section_by_name("set_kmod_sets_kernel_only")
        .unwrap_or_else(|| panic!("set_kmod_sets_kernel_only was garbage-collected from {}", ko.display()));
    assert_eq!(set.size(), 16, "both entries kept");
    assert_eq!(set.relocations().count(), 2, "each entry relocated against its target");
}

/// --shutdown delivers MOD_SHUTDOWN before unloading.
#[test]
fn shutdown_is_delivered() {
    let o = run_ok(&["--shutdown", "hello", "nowait-reserve"]);
    assert!(
        o.stdout
            .contains("--- MOD_SHUTDOWN ---\nnowait_reserve: 0\nhello: 0\n"),
        "{}",
        o.all()
    );
}

/// Usage errors are clear.
#[test]
fn missing_inputs_are_clear_errors() {
    let o = kmod(&["run", "no/such/module.ko"]);
    assert!(!o.ok());
    assert!(
        o.stderr.contains("no/such/module.ko: no such file"),
        "{}",
        o.all()
    );
    let o = kmod(&["run", "no-such-example"]);
    assert!(!o.ok());
    assert!(
        o.stderr.contains("unknown module `no-such-example`"),
        "{}",
        o.all()
    );
    let o = kmod(&["run"]);
    assert!(!o.ok());
    let o = kmod(&["run", "--cycles", "0", "hello"]);
    assert!(!o.ok(), "{}", o.all());
}

/// Scheduler flags: bad values are usage errors naming the flag; `--seed` and `--schedules`
/// exclude each other; a seeded run of an example without threads passes and says so.
#[test]
fn schedule_flags_are_checked() {
    let o = kmod(&["run", "--schedules", "0", "hello"]);
    assert!(!o.ok(), "{}", o.all());
    assert!(o.stderr.contains("--schedules"), "{}", o.all());
    let o = kmod(&["run", "--seed", "x", "hello"]);
    assert!(!o.ok(), "{}", o.all());
    assert!(o.stderr.contains("--seed"), "{}", o.all());
    let o = kmod(&["run", "--seed", "1", "--schedules", "2", "hello"]);
    assert!(!o.ok(), "{}", o.all());
    assert!(o.stderr.contains("cannot be used with"), "{}", o.all());
    let o = run_ok(&["--freebsd", "14.0", "--schedules", "3", "hello"]);
    assert!(o.verdict().contains("; 3 seeded schedules"), "{}", o.all());
    let o = run_ok(&["--freebsd", "14.0", "--seed", "42", "hello"]);
    assert!(o.verdict().contains("; scheduler seed 42"), "{}", o.all());
}

/// Every example prints, on 13.1, 14.0 and 15.0, exactly the lines of its
/// `examples/<name>/expected-console.txt`: the file the real-FreeBSD CI job checks `dmesg`
/// against (ci/freebsd-vm/load-examples.sh), so the simulator and real kernels are held
/// to the same lines.
#[test]
fn every_example_prints_its_expected_console() {
    let examples = cargo_kmod::workspace::Workspace::at(repo()).examples();
    assert!(
        examples.iter().any(|e| e == "hello") && examples.iter().any(|e| e == "nowait-reserve"),
        "{examples:?}"
    );
    for release in ["13.1", "14.0", "15.0"] {
        let r = cargo_kmod::release::resolve(Some(release)).unwrap();
        for example in &examples {
            let expected = cargo_kmod::expected_console::read(&repo(), example, r)
                .unwrap_or_else(|e| panic!("{e:#}"));
            let o = run_ok(&["--freebsd", release, example]);
            if let Err(e) = cargo_kmod::expected_console::check(&o.console(), &expected) {
                panic!("{example} on {release}: {e:#}\n{}", o.all());
            }
        }
    }
}

/// The text of a `cargo kmod run` report section (`--- NAME ---`) up to the next section.
fn report_section(stdout: &str, name: &str) -> String {
    let header = format!("--- {name} ---\n");
    let Some(start) = stdout.find(&header).map(|i| i + header.len()) else {
        return String::new();
    };
    let rest = &stdout[start..];
    let end = rest.find("\n--- ").map(|i| i + 1).unwrap_or(rest.len());
    rest[..end]
        .lines()
        .filter(|l| !l.starts_with("(console of cycle 1 shown"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Every example with an `examples/<name>/expected-exec.txt` runs its commands as `--exec`
/// on 13.1, 14.0 and 15.0: the `--- commands ---` transcript is exactly the file's, and the
/// console the file's `--- console` section (or `expected-console.txt`). The FreeBSD VM job
/// runs the same commands with `sh -c` between kldload and kldunload and checks them the
/// same way (ci/freebsd-vm/load-examples.sh), so the simulator and real kernels are held to
/// the same transcript.
#[test]
fn every_example_runs_its_expected_exec() {
    let examples = cargo_kmod::workspace::Workspace::at(repo()).examples();
    for must in ["echo", "counters", "ticker"] {
        assert!(
            cargo_kmod::expected_exec::path(&repo(), must).exists(),
            "{must} has devices or sysctls: it needs examples/{must}/expected-exec.txt"
        );
    }
    let mut ran = 0;
    for release in ["13.1", "14.0", "15.0"] {
        let r = cargo_kmod::release::resolve(Some(release)).unwrap();
        for example in &examples {
            let Some(exec) = cargo_kmod::expected_exec::read(&repo(), example, r)
                .unwrap_or_else(|e| panic!("{e:#}"))
            else {
                continue;
            };
            let mut args = vec!["--freebsd", release, "--cycles", "1", example.as_str()];
            for c in &exec.commands {
                args.extend(["--exec", c.as_str()]);
            }
            let o = run_ok(&args);
            if let Err(e) =
                cargo_kmod::expected_exec::check(&report_section(&o.stdout, "commands"), &exec)
            {
                panic!("{example} on {release}: {e:#}\n{}", o.all());
            }
            let console = match &exec.console {
                Some(c) => c.clone(),
                None => cargo_kmod::expected_console::read(&repo(), example, r)
                    .unwrap_or_else(|e| panic!("{e:#}")),
            };
            if let Err(e) = cargo_kmod::expected_console::check(
                &report_section(&o.stdout, "console"),
                &console,
            ) {
                panic!("{example} on {release} with its --exec commands: {e:#}\n{}", o.all());
            }
            // The VM job's matcher (expect-console.sh -x, what exec-commands.sh runs on
            // the transcript part of the file) accepts the simulator's transcript too.
            let text = std::fs::read_to_string(cargo_kmod::expected_exec::path(&repo(), example)).unwrap();
            let part = text.split("\n--- console\n").next().unwrap();
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("expected-exec");
            std::fs::create_dir_all(&dir).unwrap();
            let (want, got) = (dir.join(format!("{example}-{release}.expected")), dir.join(format!("{example}-{release}.log")));
            std::fs::write(&want, part).unwrap();
            std::fs::write(&got, report_section(&o.stdout, "commands")).unwrap();
            let sh = Command::new("sh")
                .arg(repo().join("ci/freebsd-vm/expect-console.sh"))
                .arg("-x")
                .arg(&want)
                .args([release.to_owned(), r.identity.freebsd_version.to_string()])
                .arg(&got)
                .output()
                .expect("sh");
            assert!(
                sh.status.success(),
                "{example} on {release}: expect-console.sh -x refuses what expected_exec::check accepts:\n{}{}",
                String::from_utf8_lossy(&sh.stdout),
                String::from_utf8_lossy(&sh.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 9, "{ran} example runs");
}

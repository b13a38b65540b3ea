//! `kmod-bench`: prints the Rust vs C benchmark table (run it through `ci/bench`).
//!
//! ```text
//! kmod-bench [--n N] [--cycles C] [--readme]
//!     build the example x release matrix cold and warm (in a private copy of the
//!     workspace), build the C twins, measure sizes, run `kmod-bench measure` under
//!     callgrind for bench.ko and its C twin, print a Markdown report; --readme also
//!     replaces the `## Benchmarks` section at the end of README.md with it.
//! kmod-bench switches [--cycles C]
//!     only the simulator's context switches per second (workers.c, seeded scheduler).
//! kmod-bench measure --release R --n N --cycles C <ko> <function>...
//!     the measured child (see kmod_bench::measure::run_regions); runs natively too.
//! kmod-bench devio [--n N]
//!     only the /dev/echo read/write rows, Rust on 13.1, 14.0 and 15.0 against the C twin
//!     (see kmod_bench::devio::measure_releases); N calls per region, default 2000.
//! kmod-bench measure-dev [--release R] --n N <echo.ko>
//!     the measured child for device I/O (see kmod_bench::devio::run_regions).
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context as _, bail};
use kmod_bench::buildtime::{self, Timed};
use kmod_bench::elfsize::{self, KoSize};
use kmod_bench::measure::{self, OPS, PerOp};
use kmod_bench::{ctwin, repo};


/// Parsed options.
struct Opts {
    n: u64,
    cycles: u64,
    readme: bool,
}

fn value<T: std::str::FromStr>(
    it: &mut std::slice::Iter<'_, String>,
    flag: &str,
) -> anyhow::Result<T> {
    it.next()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{flag} needs a number"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = if args.first().map(String::as_str) == Some("measure") {
        child(&args[1..])
    } else if args.first().map(String::as_str) == Some("measure-dev") {
        child_dev(&args[1..])
    } else if args.first().map(String::as_str) == Some("devio") {
        devio(&args[1..])
    } else if args.first().map(String::as_str) == Some("switches") {
        switches(&args[1..])
    } else {
        parent(&args)
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kmod-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `kmod-bench switches [--cycles C]`
fn switches(args: &[String]) -> anyhow::Result<()> {
    let mut cycles = 200;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--cycles" => cycles = value(&mut it, "--cycles")?,
            _ => bail!("unknown argument `{a}`; usage: kmod-bench switches [--cycles C]"),
        }
    }
    let out_dir = repo().join("target/kmod-bench/c-twins");
    let workers = ctwin::build("workers.c", "workers-switches", &out_dir)?;
    print!("{}", kmod_bench::switches::render(&kmod_bench::switches::measure(&workers, cycles)?));
    Ok(())
}

/// `kmod-bench measure --release R --n N --cycles C <ko> <function>...`
fn child(args: &[String]) -> anyhow::Result<()> {
    let (mut release, mut n, mut cycles) = ("14.0".to_owned(), 1000, 10);
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--release" => release = it.next().context("--release needs a value")?.clone(),
            "--n" => n = value(&mut it, "--n")?,
            "--cycles" => cycles = value(&mut it, "--cycles")?,
            _ => rest.push(a.clone()),
        }
    }
    let Some((ko, funcs)) = rest.split_first() else {
        bail!("usage: kmod-bench measure [--release R] [--n N] [--cycles C] <ko> <function>...")
    };
    let checked = measure::run_regions(Path::new(ko), &release, funcs, n, cycles)?;
    for (f, n, r, allocs) in &checked.calls {
        println!("{f}({n}) = {r}, {allocs} allocations");
    }
    println!("{cycles} load + unload cycles, no memory left allocated");
    Ok(())
}

/// `kmod-bench devio [--n N]`
fn devio(args: &[String]) -> anyhow::Result<()> {
    let mut n = 2000;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => n = value(&mut it, "--n")?,
            _ => bail!("unknown argument `{a}`; usage: kmod-bench devio [--n N]"),
        }
    }
    measure::valgrind_version()?;
    let exe = std::env::current_exe()?;
    print!("{}", kmod_bench::devio::measure_releases(&exe, &repo(), n)?);
    Ok(())
}

/// `kmod-bench measure-dev [--release R] --n N <echo.ko>`
fn child_dev(args: &[String]) -> anyhow::Result<()> {
    let (mut release, mut n) = ("14.0".to_owned(), 1000);
    let mut ko = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--release" => release = it.next().context("--release needs a value")?.clone(),
            "--n" => n = value(&mut it, "--n")?,
            _ => ko = Some(a.clone()),
        }
    }
    let ko = ko.context("usage: kmod-bench measure-dev [--release R] [--n N] <echo.ko>")?;
    kmod_bench::devio::run_regions(Path::new(&ko), &release, n)?;
    println!("{n} x 4 KiB pwrite + pread on /dev/echo");
    Ok(())
}

fn parent(args: &[String]) -> anyhow::Result<()> {
    let mut o = Opts {
        n: 20_000,
        cycles: 20,
        readme: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => o.n = value(&mut it, "--n")?,
            "--cycles" => o.cycles = value(&mut it, "--cycles")?,
            "--readme" => o.readme = true,
            "-h" | "--help" => {
                println!(
                    "usage: kmod-bench [--n N (default 20000)] [--cycles C (default 20)] [--readme]"
                );
                return Ok(());
            }
            _ => bail!("unknown argument `{a}` (see --help)"),
        }
    }
    let started = Instant::now();
    let repo = repo();
    let valgrind = measure::valgrind_version()?;
    let out_dir = repo.join("target/kmod-bench");
    std::fs::create_dir_all(&out_dir)?;

    // 1. Build time: the kernel sysroot (once per toolchain), then the matrix cold and
    // warm, in a private copy of the workspace.
    eprintln!("kmod-bench: kernel sysroot (core/alloc) in a fresh cache");
    let (sysroot_time, sysroot_crates) = buildtime::time_sysroot(&repo, 2)?;
    let ws = std::env::temp_dir().join(format!("kmod-bench-ws-{}", std::process::id()));
    eprintln!("kmod-bench: copying the workspace to {}", ws.display());
    buildtime::copy_workspace(&repo, &ws)?;
    eprintln!("kmod-bench: cold build of the example x release matrix");
    let cold = buildtime::build_matrix(&ws, 2)?;
    eprintln!("kmod-bench: warm build (nothing changed)");
    let warm = buildtime::build_matrix(&ws, 2)?;
    // Keep the modules, drop the copy (its build artefacts are large).
    let ko_dir = out_dir.join("ko");
    let mut built: Vec<(String, &'static str, PathBuf)> = Vec::new();
    for t in &warm {
        let dst = ko_dir
            .join(t.release)
            .join(t.output.ko.file_name().context("ko name")?);
        std::fs::create_dir_all(dst.parent().context("parent")?)?;
        std::fs::copy(&t.output.ko, &dst)?;
        built.push((t.example.clone(), t.release, dst));
    }
    std::fs::remove_dir_all(&ws).with_context(|| format!("rm -r {}", ws.display()))?;

    // 2. C twins (FreeBSD 14 headers: 14.0 modules).
    let mut twins: Vec<(String, PathBuf)> = Vec::new();
    let t0 = Instant::now();
    let mut examples: Vec<String> = built.iter().map(|b| b.0.clone()).collect();
    examples.sort();
    examples.dedup();
    for ex in &examples {
        if let Some(src) = kmod_bench::c_twin_of(&repo, ex) {
            let ko = ctwin::build(&src, ex, &out_dir.join("c-twins"))?;
            twins.push((ex.clone(), ko));
        }
    }
    let c_build = t0.elapsed();

    // 3. Instructions per operation.
    let find = |ex: &str, rel: &str| {
        built
            .iter()
            .find(|b| b.0 == ex && b.1 == rel)
            .map(|b| b.2.clone())
    };
    let rust_bench =
        find("bench", "14.0").context("bench.ko for 14.0 was not built (examples/bench)")?;
    let c_bench = twins
        .iter()
        .find(|t| t.0 == "bench")
        .map(|t| t.1.clone())
        .context("no C twin bench.c")?;
    let exe = std::env::current_exe()?;
    let cg_dir = out_dir.join("callgrind");
    eprintln!("kmod-bench: callgrind: Rust bench.ko");
    let rust_funcs: Vec<&str> = OPS.iter().map(|o| o.rust).collect();
    let rd = measure::callgrind_run(
        &exe,
        &rust_bench,
        "14.0",
        &rust_funcs,
        o.n,
        o.cycles,
        &cg_dir.join("rust"),
    )?;
    eprintln!("kmod-bench: callgrind: C bench.ko");
    let c_funcs: Vec<&str> = OPS.iter().map(|o| o.c).collect();
    let cd = measure::callgrind_run(
        &exe,
        &c_bench,
        "14.0",
        &c_funcs,
        o.n,
        o.cycles,
        &cg_dir.join("c"),
    )?;
    let mut rows = Vec::new();
    for op in OPS {
        let r = measure::per_op(
            &rd,
            &measure::region_name(op.rust, 0),
            &measure::region_name(op.rust, o.n),
            o.n,
        )?;
        let c = measure::per_op(
            &cd,
            &measure::region_name(op.c, 0),
            &measure::region_name(op.c, o.n),
            o.n,
        )?;
        rows.push((op.label.to_owned(), r, c));
    }
    let (lz, lc) = (
        measure::load_region_name(0),
        measure::load_region_name(o.cycles),
    );
    rows.push((
        "(d) module load + unload (`kldload` + `kldunload` of bench.ko)".to_owned(),
        measure::per_op(&rd, &lz, &lc, o.cycles)?,
        measure::per_op(&cd, &lz, &lc, o.cycles)?,
    ));
    let sn = measure::sysctl_reads(o.n);
    let (sz, sm) = (
        measure::region_name(measure::SYSCTL_READ, 0),
        measure::region_name(measure::SYSCTL_READ, sn),
    );
    rows.push((
        "(f) sysctl read of an int (`debug.bench.value` via sysctl(2)): `SysctlCtx::add_rw::<i32>` handler vs `SYSCTL_INT`".to_owned(),
        measure::per_op(&rd, &sz, &sm, sn)?,
        measure::per_op(&cd, &sz, &sm, sn)?,
    ));

    // 3b. Device I/O: examples/echo vs c-twins/echo.c, 4 KiB per system call (n / 10 calls:
    // each one crosses the simulator's system-call gate and devfs).
    let dev_n = (o.n / 10).max(1);
    let rust_echo = find("echo", "14.0").context("echo.ko for 14.0 was not built (examples/echo)")?;
    let c_echo = twins.iter().find(|t| t.0 == "echo").map(|t| t.1.clone()).context("no C twin echo.c")?;
    eprintln!("kmod-bench: callgrind: /dev/echo, Rust and C");
    let rdev = measure::callgrind_dev_run(&exe, &rust_echo, "14.0", dev_n, &cg_dir.join("rust-echo"))?;
    let cdev = measure::callgrind_dev_run(&exe, &c_echo, "14.0", dev_n, &cg_dir.join("c-echo"))?;
    for (label, op) in kmod_bench::devio::DEV_OPS {
        let (z, m) = (kmod_bench::devio::region_name(op, 0), kmod_bench::devio::region_name(op, dev_n));
        rows.push((label.to_owned(), measure::per_op(&rdev, &z, &m, dev_n)?, measure::per_op(&cdev, &z, &m, dev_n)?));
    }

    // 4. Simulator throughput (natively).
    eprintln!("kmod-bench: context switches (workers.c)");
    let workers = ctwin::build("workers.c", "workers-switches", &out_dir.join("c-twins"))?;
    let sw = kmod_bench::switches::measure(&workers, o.cycles.max(200))?;

    // 4b. Fuzzing throughput on /dev/echo (natively).
    eprintln!("kmod-bench: fuzzing /dev/echo (Rust and C)");
    let fuzz_ops = 5000;
    let fuzz = (
        kmod_bench::devio::fuzz_rate(&rust_echo, fuzz_ops)?,
        kmod_bench::devio::fuzz_rate(&c_echo, fuzz_ops)?,
    );

    // 5. Report.
    let mut report = render(
        &o,
        &built,
        &twins,
        &rows,
        (sysroot_time, &sysroot_crates),
        &cold,
        &warm,
        c_build,
        &valgrind,
    )?;
    report.push('\n');
    report.push_str(&kmod_bench::switches::render(&sw));
    report.push('\n');
    report.push_str(&kmod_bench::devio::render_fuzz(fuzz_ops, fuzz.0, fuzz.1));
    println!("{report}");
    std::fs::write(out_dir.join("latest.md"), &report)?;
    if o.readme {
        update_readme(&repo.join("README.md"), &report)?;
        eprintln!("kmod-bench: README.md `## Benchmarks` updated");
    }
    eprintln!(
        "kmod-bench: done in {:.0} s; report in {}",
        started.elapsed().as_secs_f64(),
        out_dir.join("latest.md").display()
    );
    Ok(())
}

fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "-".into()
    } else {
        format!("{:.2}", a / b)
    }
}

fn cmd_line(prog: &str, args: &[&str]) -> String {
    Command::new(prog)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| format!("({prog} unavailable)"))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[allow(clippy::too_many_arguments)]
fn render(
    o: &Opts,
    built: &[(String, &'static str, PathBuf)],
    twins: &[(String, PathBuf)],
    rows: &[(String, PerOp, PerOp)],
    sysroot: (std::time::Duration, &[String]),
    cold: &[Timed],
    warm: &[Timed],
    c_build: std::time::Duration,
    valgrind: &str,
) -> anyhow::Result<String> {
    let mut s = String::new();
    let releases: Vec<&str> = buildtime::freebsd_releases()
        .iter()
        .map(|r| r.identity.name)
        .collect();

    writeln!(s, "### Module size (bytes)\n")?;
    writeln!(
        s,
        "Sections the kernel linker maps, as `size(1)` counts them: text = read-only (code, constants; \
         the kmod linker scripts pad `.text` and `.rodata` to 4 KiB each), used = text without that padding, \
         data/bss = writable. Rust: `cargo kmod build` (opt-level `s`); C: gcc `-O2` with kern.mk's flags + `ld.lld -r`.\n"
    )?;
    writeln!(
        s,
        "| module | release | Rust text (used) | Rust data | Rust bss | C text (used) | C data | C bss | Rust/C used text |"
    )?;
    writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---:|")?;
    for (ex, c_ko) in twins {
        let c = elfsize::ko_sizes(c_ko)?;
        for rel in &releases {
            let Some((_, _, ko)) = built.iter().find(|b| &b.0 == ex && b.1 == *rel) else {
                continue;
            };
            let r = elfsize::ko_sizes(ko)?;
            let twin_here = *rel == "14.0";
            let cc = |f: fn(&KoSize) -> String| if twin_here { f(&c) } else { "-".to_owned() };
            writeln!(
                s,
                "| {ex} | {rel} | {} ({}) | {} | {} | {} | {} | {} | {} |",
                r.text,
                r.text_used,
                r.data,
                r.bss,
                cc(|c| format!("{} ({})", c.text, c.text_used)),
                cc(|c| c.data.to_string()),
                cc(|c| c.bss.to_string()),
                if twin_here {
                    ratio(r.text_used as f64, c.text_used as f64)
                } else {
                    "-".into()
                },
            )?;
        }
    }
    writeln!(
        s,
        "\nC twins exist for FreeBSD 14 only (built against the 14.2 headers, `__FreeBSD_version` 1400097)."
    )?;
    if let Some((_, _, ko)) = built.iter().find(|b| b.0 == "bench" && b.1 == "14.0") {
        let groups = elfsize::code_by_crate(ko)?;
        let list: Vec<String> = groups.iter().map(|(g, b)| format!("{g} {b}")).collect();
        writeln!(
            s,
            "Where the Rust bench.ko (14.0) code goes, bytes of function symbols by crate: {} \
             (`C ABI`: the module's exported `bench_*` loops and `compiler_builtins`' C-named aliases).",
            list.join(", ")
        )?;
        if elfsize::defines_function(ko, "log")? {
            writeln!(
                s,
                "\n**Note:** bench.ko defines `log` itself: it is `compiler_builtins`' libm `log(f64)` (with its \
                 soft-float helpers), to which the link binds the facade's call of the kernel's `log(9)` \
                 (`klog!`), instead of leaving it for the kernel linker."
            )?;
        }
    }

    writeln!(
        s,
        "\n### Instructions per operation (callgrind `Ir`, FreeBSD 14.0 modules in kernel-sim)\n"
    )?;
    writeln!(
        s,
        "Each loop runs N = {} times in a callgrind region of its own, minus the same call with N = 0, divided by N \
         (load + unload: {} cycles minus an empty region). *total* = every instruction executed, including the \
         simulator's malloc(9)/free(9) (host Rust code + glibc malloc, identical for Rust and C) and for (d) its \
         ELF linker; *module* = instructions executed in module code only (the simulator's arena: the module's \
         code plus one `jmp` trampoline per kernel-function call, i.e. 2 per allocation + free).\n",
        o.n, o.cycles
    )?;
    writeln!(
        s,
        "| operation | Rust total | C total | Rust/C | Rust module | C module | Rust/C |"
    )?;
    writeln!(s, "|---|---:|---:|---:|---:|---:|---:|")?;
    for (label, r, c) in rows {
        writeln!(
            s,
            "| {label} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {} |",
            r.total,
            c.total,
            ratio(r.total, c.total),
            r.module,
            c.module,
            ratio(r.module, c.module)
        )?;
    }

    writeln!(
        s,
        "\n### Build time of the example x release matrix (seconds)\n"
    )?;
    writeln!(
        s,
        "`core`, `alloc` and `compiler_builtins` do not depend on the release or the module: `cargo kmod` compiles \
         them once per toolchain (build-std) into the kernel sysroot cache (`~/.cache/cargo-kmod`), shared by every \
         release, module and workspace. On a machine that never built a module, that takes **{:.1} s** \
         (compiled: {}).\n\n\
         Then `cargo kmod build --freebsd <release> <example>` for every example and release, one after the other with \
         `-j2`, in a private copy of the workspace: cold = empty `target/kmod-build` (every crate of every module \
         compiled, the sysroot cached), warm = the same again with nothing changed. Builds that compiled `core`: \
         cold {}, warm {}.\n",
        sysroot.0.as_secs_f64(),
        sysroot.1.join(", "),
        buildtime::core_builds(cold),
        buildtime::core_builds(warm)
    )?;
    let mut head = String::from("| example |");
    let mut rule = String::from("|---|");
    for rel in &releases {
        write!(head, " {rel} cold | {rel} warm |")?;
        rule.push_str("---:|---:|");
    }
    writeln!(s, "{head}\n{rule}")?;
    let mut examples: Vec<&str> = cold.iter().map(|t| t.example.as_str()).collect();
    examples.sort();
    examples.dedup();
    let secs = |v: &[Timed], ex: &str, rel: &str| {
        v.iter()
            .find(|t| t.example == ex && t.release == rel)
            .map(|t| t.time.as_secs_f64())
    };
    for ex in &examples {
        let mut line = format!("| {ex} |");
        for rel in &releases {
            let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.1}"));
            write!(
                line,
                " {} | {} |",
                f(secs(cold, ex, rel)),
                f(secs(warm, ex, rel))
            )?;
        }
        writeln!(s, "{line}")?;
    }
    let total = |v: &[Timed]| v.iter().map(|t| t.time.as_secs_f64()).sum::<f64>();
    let first = ["bench", "hello", "nowait-reserve"];
    let first_matrix: f64 = cold
        .iter()
        .filter(|t| first.contains(&t.example.as_str()))
        .map(|t| t.time.as_secs_f64())
        .sum();
    writeln!(
        s,
        "\nWhole matrix ({} builds): **cold {:.1} s, warm {:.1} s**; with the one-off sysroot, as on a new machine: \
         {:.1} s. The 9 builds of the first example matrix ({}), which took 83.6 s cold when every release \
         compiled `core`/`alloc` again: {:.1} s. For comparison, the C twins ({}) build in {:.2} s (gcc + `ld.lld -r`).",
        cold.len(),
        total(cold),
        total(warm),
        sysroot.0.as_secs_f64() + total(cold),
        first.join(", "),
        first_matrix,
        twins
            .iter()
            .map(|t| format!("{}.c", t.0))
            .collect::<Vec<_>>()
            .join(", "),
        c_build.as_secs_f64()
    )?;

    let tc = cargo_kmod::toolchain::Toolchain::discover()
        .map(|t| format!("rustc {} ({})", t.rustc_version, t.origin))
        .unwrap_or_else(|e| e.to_string());
    s.push_str(&kmod_bench::coverage::render());
    writeln!(s, "\n### Machine\n")?;
    writeln!(
        s,
        "{} ({} CPUs per `nproc`), {}, {}, {}; {}.",
        cpu_model(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        tc,
        ctwin::gcc_version(),
        valgrind,
        cmd_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    )?;
    Ok(s)
}

/// Replaces everything from the `## Benchmarks` heading to the end of `readme` (or appends
/// the section).
fn update_readme(readme: &Path, report: &str) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(readme).with_context(|| format!("read {}", readme.display()))?;
    let head = match text.find("\n## Benchmarks\n") {
        Some(i) => &text[..=i],
        None => text.as_str(),
    };
    let mut out = head.trim_end().to_owned();
    out.push_str("\n\n## Benchmarks\n\n");
    out.push_str(README_INTRO);
    out.push('\n');
    out.push_str(report.trim_end());
    out.push('\n');
    std::fs::write(readme, out).with_context(|| format!("write {}", readme.display()))
}

const README_INTRO: &str = "\
Numbers, not pass/fail tests: Rust modules against their C twins (`examples/c-twins`), printed by one command
(about 2 minutes on 2 cores, plus building the harness the first time; installs valgrind if missing):

```sh
ci/bench            # print the tables below
ci/bench --readme   # ... and replace this section with them
```

The harness is `tools/kmod-bench`; the measured module is `examples/bench` and its C twin
`examples/c-twins/bench.c`. Instruction counts come from `valgrind --tool=callgrind` and are
repeatable; they are counts in the userspace simulator, not cycles on a FreeBSD kernel (there
malloc(9) is UMA, here it is the simulator's host code: compare the *module* columns for what
the Rust code itself costs).
";

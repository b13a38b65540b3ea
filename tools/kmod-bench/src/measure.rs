//! The measured part: load a bench module in the simulator and call its loops, each call
//! in a callgrind region of its own ([`run_regions`], the `kmod-bench measure` child), and
//! the parent side that runs that child under valgrind and turns the dumps into
//! instructions per operation ([`callgrind_run`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use kernel_sim::{Kernel, SimOptions, SimRelease};

use crate::callgrind::{self, Dump, region};

/// One measured operation: a Rust loop of `examples/bench` and its C twin in
/// `examples/c-twins/bench.c`.
#[derive(Clone, Copy, Debug)]
pub struct Op {
    /// Row label in the table.
    pub label: &'static str,
    /// Exported function of `bench.ko` (Rust).
    pub rust: &'static str,
    /// Exported function of the C twin.
    pub c: &'static str,
    /// Allocations each iteration makes (0 for the lock loop, whose Rust mutex is allocated
    /// once per call).
    pub allocs_per_iteration: u64,
}

/// The operations, in table order.
pub const OPS: [Op; 5] = [
    Op {
        label: "(a) `Box::new(u64)` + drop, global allocator (M_WAITOK) vs `malloc(8, M_WAITOK)` + `free`",
        rust: "bench_box_alloc",
        c: "bench_malloc8_waitok",
        allocs_per_iteration: 1,
    },
    Op {
        label: "(a) `Vec::<u64>::new()` + `push` + drop (32 B) vs `malloc(32, M_WAITOK)` + `free`",
        rust: "bench_vec_alloc",
        c: "bench_malloc32_waitok",
        allocs_per_iteration: 1,
    },
    Op {
        label: "(b) `KBox::try_new(u64, Flags::NOWAIT)` + drop vs `malloc(8, M_NOWAIT)` + NULL check + `free`",
        rust: "bench_kbox_try_new",
        c: "bench_malloc8_nowait",
        allocs_per_iteration: 1,
    },
    Op {
        label: "(b) `KVec::<u64>::new()` + `try_push(.., NOWAIT)` + drop vs `malloc(32, M_NOWAIT)` + `free`",
        rust: "bench_kvec_try_push",
        c: "bench_malloc32_nowait",
        allocs_per_iteration: 1,
    },
    Op {
        label: "(c) uncontended `Mutex::lock` + guard drop vs `mtx_lock` + `mtx_unlock` (MTX_DEF)",
        rust: "bench_mutex_lock",
        c: "bench_mtx_lock",
        allocs_per_iteration: 0,
    },
];

/// The int both bench modules publish (`examples/bench`: a `SysctlCtx` handler; `bench.c`:
/// `SYSCTL_INT`), read through the simulated sysctl(2) in the `sysctl_read/N` regions.
pub const SYSCTL_OID: &str = "debug.bench.value";
/// Region-name prefix of the sysctl reads.
pub const SYSCTL_READ: &str = "sysctl_read";

/// How many sysctl reads are measured for a loop count of `n` (each read is a whole
/// simulated system call: fewer than the loops).
pub fn sysctl_reads(n: u64) -> u64 {
    (n / 10).max(1)
}

/// Region name of `n` calls of `func`.
pub fn region_name(func: &str, n: u64) -> String {
    format!("{func}/{n}")
}

/// Region name of `cycles` load + unload cycles.
pub fn load_region_name(cycles: u64) -> String {
    format!("load+unload/{cycles}")
}

/// Fails when a malloc type still holds memory.
fn check_no_live_memory(k: &Kernel, when: &str) -> anyhow::Result<()> {
    check_live_memory(k, &[], when)
}

/// Live allocations per malloc type: `(name, allocations, bytes)`.
fn live_memory(k: &Kernel) -> Vec<(String, u64, u64)> {
    k.malloc_stats().iter().map(|t| (t.name.clone(), t.live_allocs, t.live_bytes)).collect()
}

/// Fails when a malloc type holds more than `baseline` (what the loaded module keeps: the
/// Rust module's sysctl context) or the kernel reported a leak or a panic.
fn check_live_memory(k: &Kernel, baseline: &[(String, u64, u64)], when: &str) -> anyhow::Result<()> {
    for t in k.malloc_stats() {
        let (a, b) = baseline.iter().find(|(n, ..)| *n == t.name).map_or((0, 0), |(_, a, b)| (*a, *b));
        ensure!(
            t.live_allocs == a && t.live_bytes == b,
            "{when}: malloc type {} still holds {} allocations ({} bytes)",
            t.name,
            t.live_allocs,
            t.live_bytes
        );
    }
    ensure!(
        !k.console().contains("leaked"),
        "{when}: the kernel reported a leak:\n{}",
        k.console()
    );
    ensure!(k.panics().is_empty(), "{when}: panics {:?}", k.panics());
    Ok(())
}

/// What one [`run_regions`] did, for the harness's own checks.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    /// `(function, n, return value, allocations made during the call)` for every measured call.
    pub calls: Vec<(String, u64, u64, u64)>,
    /// Console output of the whole run.
    pub console: String,
}

fn total_allocs(k: &Kernel) -> u64 {
    k.malloc_stats().iter().map(|t| t.total_allocs).sum()
}

/// Boots a `release` kernel, loads `ko`, and for every function of `funcs` runs two regions:
/// `f(0)` and `f(n)` (the difference is `n` operations; the constant cost of the call gate
/// cancels out). Then unloads, runs one load + unload cycle unmeasured (warm-up) and two
/// regions: nothing, and `cycles` load + unload cycles. Each call's return value must be
/// its `n` and no memory may stay allocated.
pub fn run_regions(
    ko: &Path,
    release: &str,
    funcs: &[String],
    n: u64,
    cycles: u64,
) -> anyhow::Result<Checked> {
    let rel =
        SimRelease::by_name(release).with_context(|| format!("no simulated release {release}"))?;
    // Under valgrind everything runs ~50x slower: no watchdog deadline that could fire.
    let opts = SimOptions {
        timeout: Duration::from_secs(3600),
        ..SimOptions::default()
    };
    let mut k = Kernel::boot(rel, opts).context("boot the simulated kernel")?;
    let mut out = Checked::default();
    let id = k
        .load(ko)
        .map_err(|e| anyhow::anyhow!("kldload {}: {e}\n{}", ko.display(), k.console()))?;
    // What the loaded module keeps until unload (the Rust module's sysctl context).
    let baseline = live_memory(&k);
    for f in funcs {
        let addr = k
            .lookup_symbol(id, f)
            .with_context(|| format!("{} has no symbol {f}", ko.display()))?;
        // Warm-up: the simulator's allocator tables and the host heap reach their steady state.
        let r = k
            .call(addr, &[64])
            .map_err(|e| anyhow::anyhow!("{f}(64): {e}"))?;
        ensure!(r == 64, "{f}(64) returned {r}");
        for m in [0, n] {
            let before = total_allocs(&k);
            let r = region(&region_name(f, m), || k.call(addr, &[m]))
                .map_err(|e| anyhow::anyhow!("{f}({m}): {e}"))?;
            ensure!(r == m, "{f}({m}) returned {r}, expected {m}");
            out.calls.push((f.clone(), m, r, total_allocs(&k) - before));
        }
        check_live_memory(&k, &baseline, &format!("after {f}"))?;
    }
    // A sysctl read of an int, through the simulated sysctl(2): the module's instructions
    // are its handler (Rust) or none but the trampoline to the kernel's handler (C).
    let root = kernel_sim::kern::kern_sysctl::SysctlCred::ROOT;
    let read = |k: &mut Kernel| -> anyhow::Result<()> {
        let r = k.sysctl(SYSCTL_OID, Some(4), None, root).map_err(|e| anyhow::anyhow!("sysctl {SYSCTL_OID}: {e}"))?;
        ensure!(r.error == 0 && r.old.len() == 4, "sysctl {SYSCTL_OID}: error {}, {} bytes", r.error, r.old.len());
        Ok(())
    };
    read(&mut k)?;
    for m in [0, sysctl_reads(n)] {
        region(&region_name(SYSCTL_READ, m), || -> anyhow::Result<()> {
            for _ in 0..m {
                read(&mut k)?;
            }
            Ok(())
        })?;
    }
    k.unload(id)
        .map_err(|e| anyhow::anyhow!("kldunload: {e}\n{}", k.console()))?;
    check_no_live_memory(&k, "after unload")?;
    let cycle = |k: &mut Kernel| -> anyhow::Result<()> {
        let id = k
            .load(ko)
            .map_err(|e| anyhow::anyhow!("kldload {}: {e}", ko.display()))?;
        k.unload(id)
            .map_err(|e| anyhow::anyhow!("kldunload: {e}"))?;
        Ok(())
    };
    cycle(&mut k)?;
    region(&load_region_name(0), || ());
    region(&load_region_name(cycles), || -> anyhow::Result<()> {
        for _ in 0..cycles {
            cycle(&mut k)?;
        }
        Ok(())
    })?;
    check_no_live_memory(&k, "after the load + unload cycles")?;
    out.console = k.take_console();
    Ok(out)
}

/// Instructions of one measured operation, per operation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PerOp {
    /// Everything the CPU executed: module code, the simulator's kernel-function stubs
    /// (host code: malloc/free accounting, glibc malloc) and the trampolines.
    pub total: f64,
    /// Instructions executed in the simulator's arena only: module code plus one `jmp`
    /// trampoline per kernel-function call.
    pub module: f64,
}

/// Self cost in the arena: callgrind names code in anonymous mappings `???`.
fn arena(d: &Dump) -> u64 {
    d.objects(|o| o == "???")
}

/// `(dump(n) - dump(0)) / n`, total and arena-only.
pub fn per_op(dumps: &[Dump], zero: &str, many: &str, n: u64) -> anyhow::Result<PerOp> {
    let find = |name: &str| {
        dumps
            .iter()
            .find(|d| d.trigger.ends_with(&format!(": {name}")) || d.trigger == name)
            .with_context(|| format!("no callgrind dump for region {name}"))
    };
    let (a, b) = (find(zero)?, find(many)?);
    Ok(PerOp {
        total: (b.total as f64 - a.total as f64) / n as f64,
        module: (arena(b) as f64 - arena(a) as f64) / n as f64,
    })
}

/// `valgrind --version`, or an error saying how to install it.
pub fn valgrind_version() -> anyhow::Result<String> {
    let out = Command::new("valgrind")
        .arg("--version")
        .output()
        .context("valgrind is not installed: apt-get install valgrind (ci/bench installs it)")?;
    ensure!(out.status.success(), "valgrind --version failed");
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `valgrind --tool=callgrind` running `exe`, collecting only inside [`region`]s, dumps to
/// `prefix.<n>-01`, log to `log`.
pub fn valgrind_command(exe: &Path, prefix: &Path, log: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        // Only the main thread (the one calling module code) counts; the simulator's
        // watchdog thread gets dumps of its own, which are ignored.
        .arg("--separate-threads=yes")
        .arg("--collect-atstart=no")
        .arg("--dump-instr=no")
        .arg("--compress-strings=no")
        .arg("--compress-pos=no")
        .arg(format!("--callgrind-out-file={}", prefix.display()))
        .arg(format!("--log-file={}", log.display()))
        .arg(exe);
    cmd
}

/// Removes the dumps of an earlier run tagged `tag` in `dir`.
pub fn clean_dumps(dir: &Path, tag: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with(&format!("{tag}.cg")))
        {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// Runs `exe <args>` (a `kmod-bench` measuring subcommand) under callgrind with the output
/// prefix `out` (dumps `<out>.cg.<n>-01`, log `<out>.valgrind.log`; earlier dumps removed
/// first) and returns its dumps, which must number `expected`.
fn callgrind_subcommand(
    exe: &Path,
    args: &[&std::ffi::OsStr],
    out: &Path,
    expected: usize,
) -> anyhow::Result<Vec<Dump>> {
    let dir = out.parent().context("output prefix has no directory")?;
    let tag = out
        .file_name()
        .context("output prefix has no file name")?
        .to_string_lossy()
        .into_owned();
    clean_dumps(dir, &tag)?;
    let prefix: PathBuf = dir.join(format!("{tag}.cg"));
    let log = dir.join(format!("{tag}.valgrind.log"));
    let mut cmd = valgrind_command(exe, &prefix, &log);
    cmd.args(args);
    let output = cmd.output().context("run valgrind")?;
    if !output.status.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        bail!(
            "{cmd:?} failed ({}):\n{}{}\n{log}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let dumps = callgrind::read_dumps(&prefix)?;
    ensure!(
        dumps.len() == expected,
        "expected {expected} callgrind dumps from {}, found {}",
        prefix.display(),
        dumps.len()
    );
    Ok(dumps)
}

/// Runs `kmod-bench measure-dev --release R --n N <ko>` under callgrind ([`crate::devio`]); returns the
/// dumps of its regions.
pub fn callgrind_dev_run(
    exe: &Path,
    ko: &Path,
    release: &str,
    n: u64,
    out: &Path,
) -> anyhow::Result<Vec<Dump>> {
    let n = n.to_string();
    let args: [&std::ffi::OsStr; 6] = [
        "measure-dev".as_ref(),
        "--release".as_ref(),
        release.as_ref(),
        "--n".as_ref(),
        n.as_ref(),
        ko.as_os_str(),
    ];
    callgrind_subcommand(exe, &args, out, 2 * crate::devio::DEV_OPS.len())
}

/// Runs `kmod-bench measure` on `ko` under callgrind, writing `<out>.cg.<n>-01` dumps and
/// `<out>.valgrind.log`; returns the dumps of its regions.
pub fn callgrind_run(
    exe: &Path,
    ko: &Path,
    release: &str,
    funcs: &[&str],
    n: u64,
    cycles: u64,
    out: &Path,
) -> anyhow::Result<Vec<Dump>> {
    let (n, cycles) = (n.to_string(), cycles.to_string());
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "measure".as_ref(),
        "--release".as_ref(),
        release.as_ref(),
        "--n".as_ref(),
        n.as_ref(),
        "--cycles".as_ref(),
        cycles.as_ref(),
        ko.as_os_str(),
    ];
    args.extend(funcs.iter().map(|f| std::ffi::OsStr::new(f)));
    // Two per loop, two for the load + unload cycles, two for the sysctl reads.
    callgrind_subcommand(exe, &args, out, 2 * funcs.len() + 4)
}

//! Device I/O per system call: a 4 KiB `pwrite(2)` and a 4 KiB `pread(2)` at offset 0 on
//! `/dev/echo` (examples/echo vs its C twin examples/c-twins/echo.c), counted with
//! callgrind like [`crate::measure`]: region `dev_<op>(0)` and `dev_<op>(N)` around N
//! system calls made by a simulated root process (`kernel_sim::user::shell::Shell`), the
//! difference divided by N. *module* counts only the arena (the module's `d_read`/`d_write`,
//! its locking and `uiomove` calls through their trampolines); *total* adds the simulator's
//! system-call gate, devfs and uiomove (host code, identical for Rust and C).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use kernel_sim::kern::sys_generic::sys_rw;
use kernel_sim::user::Ucred;
use kernel_sim::user::shell::Shell;
use kernel_sim::user::shell::oflags::O_RDWR;
use kernel_sim::{Kernel, SimOptions, SimRelease};

use crate::callgrind::region;

/// Bytes per system call.
pub const IO_SIZE: usize = 4096;

/// The measured operations: (row label, region stem).
pub const DEV_OPS: [(&str, &str); 2] = [
    (
        "(e) 4 KiB `write(2)` to `/dev/echo` (`d_write`: sx lock + `uiomove` into the buffer)",
        "dev_write",
    ),
    (
        "(e) 4 KiB `read(2)` from `/dev/echo` (`d_read`: shared sx lock + `uiomove` from the buffer)",
        "dev_read",
    ),
];

/// `dev_write(N)` etc.
pub fn region_name(op: &str, n: u64) -> String {
    format!("{op}({n})")
}

/// Boots `release` (`13.1`, `14.0`, `15.0`), loads `ko` (an echo module built for it), opens
/// `/dev/echo` as root and runs, for each of [`DEV_OPS`], one unmeasured warm-up call and
/// two regions of 0 and `n` calls. Every call must move exactly [`IO_SIZE`] bytes.
pub fn run_regions(ko: &Path, release: &str, n: u64) -> anyhow::Result<()> {
    let opts = SimOptions {
        timeout: Duration::from_secs(3600),
        ..SimOptions::default()
    };
    let sim = SimRelease::by_name(release)
        .with_context(|| format!("no simulated release {release} (13.1, 14.0, 15.0)"))?;
    let mut k = Kernel::boot(sim, opts).context("boot the simulated kernel")?;
    let id = k
        .load(ko)
        .map_err(|e| anyhow::anyhow!("kldload {}: {e}\n{}", ko.display(), k.console()))?;
    let pid = k.spawn("bench", Ucred::root());
    {
        let mut sh = Shell::new(&mut k, pid);
        let fd = sh
            .open("/dev/echo", O_RDWR)
            .map_err(|e| anyhow::anyhow!("open /dev/echo: errno {e}"))?;
        let buf = sh.alloc(IO_SIZE).context("user memory")?;
        sh.poke(buf, &[b'x'; IO_SIZE]);
        for (_, op) in DEV_OPS {
            let write = op == "dev_write";
            let call = |sh: &mut Shell<'_>| -> anyhow::Result<()> {
                let done = sh
                    .sys(|| sys_rw(fd, &[(buf, IO_SIZE)], Some(0), write))
                    .map_err(|e| anyhow::anyhow!("{op}: errno {e}"))?;
                ensure!(
                    done == IO_SIZE,
                    "{op} moved {done} bytes, expected {IO_SIZE}"
                );
                Ok(())
            };
            call(&mut sh)?;
            for m in [0, n] {
                region(&region_name(op, m), || -> anyhow::Result<()> {
                    for _ in 0..m {
                        call(&mut sh)?;
                    }
                    Ok(())
                })?;
            }
        }
        sh.close(fd)
            .map_err(|e| anyhow::anyhow!("close: errno {e}"))?;
    }
    k.unload(id)
        .map_err(|e| anyhow::anyhow!("kldunload: {e}\n{}", k.console()))?;
    Ok(())
}

/// Fuzzing throughput on one module's devices: `ops` random system calls from 4 simulated
/// processes (`Kernel::fuzz`, seed 1, natively, not under callgrind); returns operations
/// per second of host time. A fuzz failure is an error.
pub fn fuzz_rate(ko: &Path, ops: u64) -> anyhow::Result<f64> {
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default())
        .context("boot the simulated kernel")?;
    let id = k
        .load(ko)
        .map_err(|e| anyhow::anyhow!("kldload {}: {e}\n{}", ko.display(), k.console()))?;
    let rep = k.fuzz(ops, 4, 1);
    if let Some(f) = &rep.failure {
        anyhow::bail!("fuzzing {} failed: {f}", ko.display());
    }
    ensure!(rep.ops == ops, "{} of {ops} fuzz operations ran", rep.ops);
    k.unload(id)
        .map_err(|e| anyhow::anyhow!("kldunload: {e}\n{}", k.console()))?;
    Ok(rep.ops as f64 / rep.seconds.max(1e-9))
}

/// The Markdown section for [`fuzz_rate`] of the Rust example and its C twin.
pub fn render_fuzz(ops: u64, rust: f64, c: f64) -> String {
    format!(
        "### Fuzzing throughput (`cargo kmod run --fuzz`, /dev/echo)\n\n\
         {ops} random system calls (open/close, reads and writes at random offsets, readv/writev, \
         ioctls with valid, short, NULL and unmapped buffers) from 4 simulated processes, seed 1, \
         FreeBSD 14.0 simulator, host time.\n\n\
         | module | operations/s |\n|---|---:|\n| echo (Rust) | {rust:.0} |\n| echo.c (C twin) | {c:.0} |\n"
    )
}

/// The releases `kmod-bench devio` measures the Rust echo on (the C twin: 14.0 only, see
/// [`crate::ctwin`]).
pub const RELEASES: [&str; 3] = ["13.1", "14.0", "15.0"];

/// `kmod-bench devio [--n N]`: only the device I/O rows, on every release. Builds
/// examples/echo for each of [`RELEASES`] (`cargo kmod build --freebsd <release> echo`) and the
/// C twin, runs [`run_regions`] under callgrind for each (`n` calls per region) and returns a
/// Markdown table: module instructions (and total) per call, Rust on its own release's
/// simulator against the C twin on 14.0 (the same source for every release).
pub fn measure_releases(exe: &Path, repo: &Path, n: u64) -> anyhow::Result<String> {
    use crate::measure::{callgrind_dev_run, per_op};
    use cargo_kmod::build::{BuildOptions, build};
    use cargo_kmod::workspace::Workspace;

    let out_dir = repo.join("target/kmod-bench");
    let cg_dir = out_dir.join("callgrind");
    let c_ko = crate::ctwin::build("echo.c", "echo", &out_dir.join("c-twins"))?;
    eprintln!("kmod-bench: callgrind: /dev/echo, C twin (14.0)");
    let c = callgrind_dev_run(exe, &c_ko, "14.0", n, &cg_dir.join("c-echo"))?;
    let mut out = format!(
        "### Device I/O per 4 KiB system call (/dev/echo, callgrind `Ir`, N = {n})\n\n\
         *module* = instructions in module code (`d_read`/`d_write` and trampolines); C twin: \
         FreeBSD 14 headers on the 14.0 simulator.\n\n\
         | release | operation | Rust module | C module | Rust/C | Rust total | C total |\n\
         |---|---|---:|---:|---:|---:|---:|\n"
    );
    for release in RELEASES {
        let opts = BuildOptions {
            module: "echo".into(),
            release: cargo_kmod::release::resolve(Some(release))
                .map_err(|e| anyhow::anyhow!("{release}: {e}"))?,
            jobs: Some(2),
            verbose: false,
        };
        let rust_ko = build(&Workspace::at(repo), &opts)
            .map_err(|e| anyhow::anyhow!("cargo kmod build --freebsd {release} echo: {e:#}"))?
            .ko;
        eprintln!("kmod-bench: callgrind: /dev/echo, Rust ({release})");
        let r = callgrind_dev_run(exe, &rust_ko, release, n, &cg_dir.join(format!("rust-echo-{release}")))?;
        for (_, op) in DEV_OPS {
            let (z, m) = (region_name(op, 0), region_name(op, n));
            let (rp, cp) = (per_op(&r, &z, &m, n)?, per_op(&c, &z, &m, n)?);
            let ratio = if cp.module == 0.0 { 0.0 } else { rp.module / cp.module };
            out.push_str(&format!(
                "| {release} | {op} | {:.1} | {:.1} | {ratio:.2} | {:.1} | {:.1} |\n",
                rp.module, cp.module, rp.total, cp.total
            ));
        }
    }
    Ok(out)
}

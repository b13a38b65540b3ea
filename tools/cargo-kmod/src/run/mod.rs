//! `cargo kmod run`: run modules in the userspace FreeBSD kernel simulator
//! (`tools/kernel-sim`, lib [`kernel_sim`]).
//!
//! ```text
//! cargo kmod run [--freebsd R] [--cycles N] [--nowait-sweep] [--shutdown] [--force-unload] [--kmem SIZE] <module | file.ko>...
//! ```
//!
//! 1. [`inputs`]: each argument is a prebuilt `.ko` (checked with `cargo kmod check`
//!    first) or a module package, built with [`crate::build::build`] for the release.
//! 2. A simulated kernel of the release boots ([`kernel_sim::Kernel::boot`]) with a kmem
//!    arena of `--kmem` bytes (default 1 GiB, [`kernel_sim::kern::malloc::DEFAULT_KMEM_SIZE`]).
//! 3. [`lifecycle`]: the modules are loaded in command-line order (dependencies are
//!    resolved by the simulated kernel linker like `kern_linker.c` does), optionally sent
//!    `MOD_SHUTDOWN`, and unloaded in reverse order (`--force-unload`: like `kldunload -f`,
//!    ignoring `MOD_QUIESCE` refusals); `--cycles N` repeats this N times in
//!    the same kernel and checks after every cycle that no allocation of the modules'
//!    malloc types is live.
//! 4. [`sweep`]: `--nowait-sweep` fails each `M_NOWAIT` allocation in turn.
//! 5. `--schedules N` repeats all of this in N fresh kernels whose schedulers use seeds
//!    1..=N (every lock, sleep, wakeup and thread KPI call is a seeded preemption point);
//!    the first failing schedule stops the run and the report names its seed, which
//!    `--seed S` replays exactly.
//! 5. [`report`]: console, per-malloc-type allocation report, one-line verdict.
//!
//! The run fails on: a check problem, a refused load, a panic, a fault (reported with
//! symbol + offset), a refused unload, a leak, or an unhandled `M_NOWAIT` failure.
//!
//! The simulator allows one kernel per process at a time: do not call [`run`] from two
//! threads at once.

pub mod inputs;
pub mod lifecycle;
pub mod report;
pub mod sweep;
pub mod user;

use anyhow::anyhow;
use freebsd_kpi::release::Release;
use kernel_sim::{Kernel, SimOptions, SimRelease};

use crate::workspace::Workspace;
pub use inputs::Input;
pub use report::{AllocRow, Failure, RunReport};

/// What `cargo kmod run` does besides one load/unload.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Load/unload cycles (at least 1).
    pub cycles: u32,
    /// Fail each `M_NOWAIT` allocation site in turn.
    pub nowait_sweep: bool,
    /// Send `MOD_SHUTDOWN` before unloading.
    pub shutdown: bool,
    /// Unload like `kldunload -f`: a `MOD_QUIESCE` refusal is ignored and `MOD_UNLOAD`
    /// sent anyway (kern_linker.c `linker_file_unload`, `LINKER_UNLOAD_FORCE`).
    pub force_unload: bool,
    /// Size of the simulated kmem arena (`vm_kmem_size`), `--kmem`.
    pub kmem: usize,
    /// Run the whole lifecycle this many times, each in a fresh kernel whose scheduler uses
    /// seed 1, 2, ... N (0: once, deterministic or with [`RunConfig::seed`]).
    pub schedules: u32,
    /// Scheduler seed of a single run (replays a schedule that failed).
    pub seed: Option<u64>,
    /// The kernel environment before the first load (`--kenv NAME=VALUE`, repeatable):
    /// loader.conf tunables read by `getenv_*`/`TUNABLE_*_FETCH` and `CTLFLAG_TUN` oids.
    pub kenv: std::collections::BTreeMap<String, String>,
    /// `kern.securelevel` (`--securelevel N`, default -1).
    pub securelevel: i32,
    /// `--exec` commands (with their `--exec-as` credentials), run after the loads.
    pub execs: Vec<user::ExecStep>,
    /// `--fuzz N`: random system calls on the modules' devices after the loads.
    pub fuzz: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            cycles: 1,
            nowait_sweep: false,
            shutdown: false,
            force_unload: false,
            kmem: kernel_sim::kern::malloc::DEFAULT_KMEM_SIZE,
            schedules: 0,
            seed: None,
            kenv: Default::default(),
            securelevel: -1,
            execs: Vec::new(),
            fuzz: 0,
        }
    }
}

/// The command line of `cargo kmod run`.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Module names / package paths / `.ko` paths, in load order.
    pub modules: Vec<String>,
    /// The release to build for and simulate.
    pub release: &'static Release,
    /// Cycles, sweep, shutdown.
    pub config: RunConfig,
    /// `-j` for builds.
    pub jobs: Option<u32>,
    /// Print build commands.
    pub verbose: bool,
}

/// The simulated kernel of a release of the bindings.
pub fn sim_release(release: &'static Release) -> anyhow::Result<SimRelease> {
    SimRelease::by_name(release.identity.name).ok_or_else(|| {
        anyhow!(
            "the kernel simulator has no FreeBSD {} kernel",
            release.identity.name
        )
    })
}

/// Builds (or takes) the modules and runs them.
pub fn run(ws: &Workspace, opts: &RunOptions) -> anyhow::Result<RunReport> {
    let inputs = inputs::resolve(ws, &opts.modules, opts.release, opts.jobs, opts.verbose)?;
    run_inputs(&inputs, sim_release(opts.release)?, &opts.config)
}

fn boot(release: SimRelease, config: &RunConfig, seed: Option<u64>) -> anyhow::Result<Kernel> {
    let opts = SimOptions {
        kmem: config.kmem,
        sched_seed: seed,
        kenv: config.kenv.clone(),
        securelevel: config.securelevel,
        ..SimOptions::default()
    };
    Kernel::boot(release, opts).map_err(|e| anyhow!("{e}"))
}

/// Parses `--kenv NAME=VALUE` (kenv(1)'s form; the name must not be empty).
pub fn parse_kenv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, v)) if !n.is_empty() && !n.contains(char::is_whitespace) => Ok((n.to_string(), v.to_string())),
        _ => Err(format!("--kenv {s:?}: expected NAME=VALUE (e.g. --kenv debug.counters.limit=7)")),
    }
}

/// Parses `--kmem`: bytes, or a number with a `K`, `M`, `G` or `T` suffix (powers of 1024),
/// rounded up to pages like `kmeminit()` does; at least 1 MiB, at most 2^62 bytes.
pub fn parse_kmem(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| {
        format!("--kmem {s:?}: not a size; use bytes or a K, M, G or T suffix (e.g. 512M)")
    })?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => {
            return Err(format!(
                "--kmem {s:?}: unknown unit {unit:?}; use bytes or a K, M, G or T suffix (e.g. 512M)"
            ));
        }
    };
    let bytes = n
        .checked_mul(1u64 << shift)
        .filter(|&b| b <= 1 << 62)
        .ok_or_else(|| format!("--kmem {s:?}: too large (at most 2^62 bytes)"))?;
    if bytes < 1 << 20 {
        return Err(format!("--kmem {s:?}: too small (at least 1M)"));
    }
    Ok(bytes.next_multiple_of(4096) as usize)
}

/// Runs already resolved modules in a simulated kernel of `release`: once (deterministic
/// scheduler, or `config.seed`), or `config.schedules` times with seeds 1..=N, stopping at
/// the first schedule that fails (its seed is in the report).
pub fn run_inputs(
    inputs: &[Input],
    release: SimRelease,
    config: &RunConfig,
) -> anyhow::Result<RunReport> {
    if config.schedules == 0 {
        let mut r = run_schedule(inputs, release, config, config.seed, config.nowait_sweep)?;
        r.seed = config.seed;
        return Ok(r);
    }
    let mut last = None;
    for seed in 1..=u64::from(config.schedules) {
        let mut r = run_schedule(inputs, release, config, Some(seed), config.nowait_sweep && seed == 1)?;
        r.seed = Some(seed);
        r.schedules_run = seed as u32;
        let failed = !r.passed();
        last = Some(r);
        if failed {
            break;
        }
    }
    Ok(last.expect("at least one schedule"))
}

fn run_schedule(
    inputs: &[Input],
    release: SimRelease,
    config: &RunConfig,
    seed: Option<u64>,
    nowait_sweep: bool,
) -> anyhow::Result<RunReport> {
    let mut report = RunReport {
        release: release.name.to_owned(),
        files: inputs.iter().map(|i| i.file.clone()).collect(),
        cycles_requested: config.cycles.max(1),
        ..Default::default()
    };
    let mut cycles = config.cycles.max(1);
    let mut sweep = nowait_sweep;
    for i in inputs {
        for n in &i.check_notes {
            report.warnings.push(format!(
                "{}: {n} (the simulated kernel linker decides)",
                i.file
            ));
        }
        if !i.check_problems.is_empty() {
            report.failures.push(Failure::Check {
                file: i.file.clone(),
                release: release.name.to_owned(),
                problems: i.check_problems.clone(),
            });
        }
    }
    if !report.failures.is_empty() {
        eprintln!("The check failed; loading once anyway to show what the kernel does");
        cycles = 1;
        sweep = false;
    }

    eprintln!(
        "Booting a simulated FreeBSD {} kernel (__FreeBSD_version {}); loading {}{}{}",
        release.name,
        release.freebsd_version,
        report.files.join(", "),
        if cycles > 1 {
            format!(" ({cycles} load/unload cycles)")
        } else {
            String::new()
        },
        match seed {
            Some(s) => format!(" (scheduler seed {s})"),
            None => String::new(),
        }
    );
    let started = std::time::Instant::now();
    let mut k = boot(release, config, seed)?;
    for c in 1..=cycles {
        let user = user::UserRun { execs: config.execs.clone(), fuzz: config.fuzz, fuzz_seed: seed.or(config.seed).unwrap_or(1) };
        let cy = lifecycle::run_cycle_with(&mut k, inputs, c, config.shutdown, config.force_unload, &user);
        for t in &cy.types {
            let file = t
                .module
                .map(|i| inputs[i].file.clone())
                .unwrap_or_else(|| "?".into());
            match report
                .allocations
                .iter_mut()
                .find(|r| r.file == file && r.malloc_type == t.name)
            {
                Some(r) => {
                    r.allocs += t.allocs;
                    r.frees += t.frees;
                    r.live_allocs = t.live_allocs;
                    r.live_bytes = t.live_bytes;
                }
                None => report.allocations.push(AllocRow {
                    file,
                    malloc_type: t.name.clone(),
                    allocs: t.allocs,
                    frees: t.frees,
                    live_allocs: t.live_allocs,
                    live_bytes: t.live_bytes,
                }),
            }
        }
        if c == 1 {
            report.console = cy.console;
            report.terminal = cy.terminal;
            report.shutdown = cy.shutdown;
            report.commands = user::transcript(&cy.commands);
            report.fuzz = cy.fuzz;
        } else if !cy.failures.is_empty() {
            report
                .console
                .push_str(&format!("--- console of cycle {c} ---\n{}", cy.console));
        }
        if !cy.failures.is_empty() {
            report.failures.extend(cy.failures);
            break;
        }
        report.cycles_completed = c;
    }
    drop(k);
    report.allocations.sort_by_key(|r| {
        inputs
            .iter()
            .position(|i| i.file == r.file)
            .unwrap_or(usize::MAX)
    });
    eprintln!(
        "Ran {} cycle(s) in {:.2?}",
        report.cycles_completed,
        started.elapsed()
    );

    if sweep {
        if report.failures.is_empty() {
            let (sw, failures) = sweep::sweep(inputs, config.shutdown, config.force_unload, &|| {
                boot(release, config, seed)
            })?;
            report.sweep = Some(sw);
            report.failures.extend(failures);
        } else {
            report
                .warnings
                .push("--nowait-sweep not run: the plain lifecycle already fails".into());
        }
    }
    Ok(report)
}

#[cfg(test)]
mod kmem_tests {
    use super::parse_kmem;

    #[test]
    fn kenv_pairs() {
        assert_eq!(super::parse_kenv("debug.x=7"), Ok(("debug.x".into(), "7".into())));
        assert_eq!(super::parse_kenv("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(super::parse_kenv("empty="), Ok(("empty".into(), String::new())));
        assert!(super::parse_kenv("novalue").unwrap_err().contains("NAME=VALUE"));
        assert!(super::parse_kenv("=5").is_err());
    }

    #[test]
    fn kmem_sizes() {
        assert_eq!(parse_kmem("1G"), Ok(1 << 30));
        assert_eq!(parse_kmem("512m"), Ok(512 << 20));
        assert_eq!(parse_kmem("2T"), Ok(2 << 40));
        assert_eq!(parse_kmem("1048577"), Ok((1 << 20) + 4096));
        assert!(parse_kmem("1K").unwrap_err().contains("too small"));
        assert!(parse_kmem("5X").unwrap_err().contains("unknown unit"));
        assert!(parse_kmem("lots").unwrap_err().contains("not a size"));
        assert!(
            parse_kmem("99999999999T")
                .unwrap_err()
                .contains("too large")
        );
    }
}

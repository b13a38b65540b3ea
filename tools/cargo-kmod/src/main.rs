//! `cargo kmod`: builds FreeBSD amd64 kernel modules written in Rust and checks them.
//!
//! ```text
//! cargo kmod build [--freebsd 13.1|14.0|14.2|...] [-j N] [-v] <module>
//! cargo kmod check [--freebsd <release>] <file.ko>
//! cargo kmod run [--freebsd <release>] [--cycles N] [--nowait-sweep] [--shutdown] [--force-unload] [--kmem SIZE] [--schedules N | --seed S] [--kenv NAME=VALUE]... [--securelevel N] [--exec-as UID[:GID]] [--exec CMD]... [--fuzz N] <module | file.ko>...
//! cargo kmod releases
//! ```
//!
//! Run through the workspace alias (`.cargo/config.toml`: `kmod = "run --quiet -p
//! cargo-kmod --"`) or as an installed cargo subcommand (`cargo-kmod kmod ...`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use cargo_kmod::{build, check, release, run as kmod_run, workspace::Workspace};
use clap::{Parser, Subcommand};

/// Build, check and run (in a kernel simulator) FreeBSD amd64 kernel modules written in Rust.
#[derive(Parser)]
#[command(name = "cargo kmod", bin_name = "cargo kmod", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a module package for the kernel and write target/kmod/<release>/<module>.ko,
    /// then check it.
    Build {
        /// FreeBSD release to build for: 13.1, 14.0, or any newer kernel of a supported
        /// major (14.2 builds the 14.0 bindings). Default: the current release.
        #[arg(long, value_name = "RELEASE")]
        freebsd: Option<String>,
        /// Parallel jobs for the inner cargo build.
        #[arg(short, long)]
        jobs: Option<u32>,
        /// Print the commands run.
        #[arg(short, long)]
        verbose: bool,
        /// A module under examples/ (e.g. `hello`) or the path of a module package.
        module: String,
    },
    /// Check a .ko against what the FreeBSD kernel linker accepts for a release.
    Check {
        /// FreeBSD release the module is meant for (default: the current release).
        #[arg(long, value_name = "RELEASE")]
        freebsd: Option<String>,
        /// The module file.
        file: PathBuf,
    },
    /// Build (or take) modules, run them in a simulated FreeBSD kernel of the release
    /// (load in order, unload in reverse) and report the console, allocations per malloc
    /// type and a verdict. Fails on a refused load, panic, fault, refused unload or leak.
    Run {
        /// FreeBSD release to build for and simulate (default: the current release).
        #[arg(long, value_name = "RELEASE")]
        freebsd: Option<String>,
        /// Load/unload cycles in the same kernel; each must leave no live allocation.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        cycles: u32,
        /// Fail each M_NOWAIT allocation of a load + unload in turn (fresh kernel per
        /// site): the load must succeed or fail cleanly with an errno, leaving nothing.
        #[arg(long)]
        nowait_sweep: bool,
        /// Send MOD_SHUTDOWN to the modules before unloading them.
        #[arg(long)]
        shutdown: bool,
        /// Unload like `kldunload -f`: a MOD_QUIESCE refusal is ignored and MOD_UNLOAD
        /// sent anyway (a MOD_UNLOAD error still keeps the module loaded).
        #[arg(long)]
        force_unload: bool,
        /// Size of the simulated kmem arena (vm_kmem_size): the most malloc(9) memory live
        /// at once and the largest single request. Bytes or K/M/G/T (e.g. 256M).
        #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = kmod_run::parse_kmem)]
        kmem: usize,
        /// Run the load/unload sequence N times, each in a fresh kernel whose scheduler
        /// interleaves the kernel threads with seed 1..=N; a failure prints its seed.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "seed")]
        schedules: Option<u32>,
        /// Replay one seeded schedule (the seed a failing `--schedules` run printed).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Set a kernel environment variable before the first load (loader.conf tunable:
        /// getenv_*, TUNABLE_*_FETCH, CTLFLAG_TUN sysctls). Repeatable.
        #[arg(long, value_name = "NAME=VALUE", value_parser = kmod_run::parse_kenv)]
        kenv: Vec<(String, String)>,
        /// kern.securelevel of the simulated kernel: CTLFLAG_SECURE sysctls refuse writes
        /// above their level (default -1).
        #[arg(long, value_name = "N", default_value_t = -1, allow_negative_numbers = true)]
        securelevel: i32,
        /// Run a command as a user process after the loads and before the unloads
        /// (`echo TEXT > PATH`, `cat PATH`, `dd if=.. of=.. bs=N count=N skip=N`,
        /// `sleep SECONDS`); repeat for more, run in order. A failing command fails the run.
        #[arg(long = "exec", value_name = "CMD")]
        exec: Vec<String>,
        /// Credential of the `--exec` commands that follow: `UID[:GID]` (the group defaults
        /// to the uid), `jail:UID[:GID]` for a jailed process; root:wheel by default.
        #[arg(long = "exec-as", value_name = "UID[:GID]")]
        exec_as: Vec<String>,
        /// After the loads, make N random system calls (open/close, read/write, readv/writev,
        /// ioctl with good and bad buffers) on every device node the modules created, from 4
        /// concurrent processes (2 unprivileged); seeded by --seed (default 1), replayable.
        #[arg(long, value_name = "N")]
        fuzz: Option<u64>,
        /// Parallel jobs for module builds.
        #[arg(short, long)]
        jobs: Option<u32>,
        /// Print the build commands.
        #[arg(short, long)]
        verbose: bool,
        /// Modules under examples/ (e.g. `hello`), module package paths, or `.ko` files
        /// (run as they are, checked first); loaded in this order.
        #[arg(required = true, value_name = "MODULE")]
        modules: Vec<String>,
    },
    /// List the supported releases.
    Releases,
}

/// Whether the command succeeded (a failed run has already printed its verdict).
fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Run {
            freebsd,
            cycles,
            nowait_sweep,
            shutdown,
            force_unload,
            kmem,
            schedules,
            seed,
            kenv,
            securelevel,
            exec,
            exec_as,
            fuzz,
            jobs,
            verbose,
            modules,
        } => {
            let raw: Vec<String> = std::env::args().collect();
            let execs = kmod_run::user::steps_from_args(&raw).map_err(|e| anyhow::anyhow!(e))?;
            anyhow::ensure!(
                execs.len() == exec.len() && (exec_as.is_empty() || !exec.is_empty()),
                "--exec/--exec-as: could not pair the commands with their credentials; write them as `--exec-as UID --exec 'CMD'`"
            );
            let release = release::resolve(freebsd.as_deref())?;
            let ws = Workspace::locate()?;
            let report = kmod_run::run(
                &ws,
                &kmod_run::RunOptions {
                    modules,
                    release,
                    config: kmod_run::RunConfig {
                        cycles,
                        nowait_sweep,
                        shutdown,
                        force_unload,
                        kmem,
                        schedules: schedules.unwrap_or(0),
                        seed,
                        kenv: kenv.into_iter().collect(),
                        securelevel,
                        execs,
                        fuzz: fuzz.unwrap_or(0),
                    },
                    jobs,
                    verbose,
                },
            )?;
            print!("{}", report.render());
            return Ok(report.passed());
        }
        Command::Build {
            freebsd,
            jobs,
            verbose,
            module,
        } => {
            let release = release::resolve(freebsd.as_deref())?;
            let ws = Workspace::locate()?;
            let out = build::build(
                &ws,
                &build::BuildOptions {
                    module,
                    release,
                    jobs,
                    verbose,
                },
            )?;
            println!("{}", out.report);
            println!("wrote {}", out.ko.display());
        }
        Command::Check { freebsd, file } => {
            let release = release::resolve(freebsd.as_deref())?;
            eprintln!(
                "Checking {} for FreeBSD {}",
                file.display(),
                release.identity.name
            );
            let report = check::check_file(&file, release).context("check failed")?;
            println!("{report}");
        }
        Command::Releases => {
            for r in freebsd_kpi::catalog::RELEASES {
                let id = &r.identity;
                println!(
                    "{}  {:?}  feature {}  __FreeBSD_version {}  loads on {}..={}  sysinit {} bytes  {} KPI symbols",
                    id.name,
                    id.status,
                    id.feature,
                    id.freebsd_version,
                    id.kernel_min,
                    id.kernel_max,
                    r.sysinit_size,
                    r.symbols().count()
                );
            }
        }
    }
    Ok(true)
}

fn main() -> ExitCode {
    // As an external subcommand cargo runs `cargo-kmod kmod <args>`; through the alias
    // the arguments start directly.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "kmod") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! What `cargo kmod run` found: failures, the allocation report, the sweep lines, and how
//! they are printed (`--- console ---`, the report, a one-line verdict).

use std::fmt::{self, Write as _};

use kernel_sim::Fault;

/// `sys/sys/errno.h` names of the errno values module code and the kernel linker return.
pub fn errno_name(e: i32) -> &'static str {
    match e {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        5 => "EIO",
        6 => "ENXIO",
        8 => "ENOEXEC",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        22 => "EINVAL",
        28 => "ENOSPC",
        35 => "EAGAIN",
        45 => "EOPNOTSUPP",
        60 => "ETIMEDOUT",
        78 => "ENOSYS",
        _ => "errno",
    }
}

/// `ENOMEM` (sys/sys/errno.h).
pub const ENOMEM: i32 = 12;

/// `NAME (N)`.
pub fn errno_text(e: i32) -> String {
    format!("{} ({e})", errno_name(e))
}

/// Where in the lifecycle module code failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// `kldload`: SYSINITs, `MOD_LOAD`.
    Load,
    /// `MOD_SHUTDOWN`.
    Shutdown,
    /// `kldunload`: `MOD_QUIESCE`, `MOD_UNLOAD`, SYSUNINITs.
    Unload,
    /// A system call of an `--exec` command.
    Command,
    /// `--fuzz`.
    Fuzz,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Load => f.write_str("load"),
            Phase::Shutdown => f.write_str("MOD_SHUTDOWN"),
            Phase::Unload => f.write_str("unload"),
            Phase::Command => f.write_str("an --exec command"),
            Phase::Fuzz => f.write_str("--fuzz"),
        }
    }
}

/// One reason the run fails.
#[derive(Clone, Debug)]
pub enum Failure {
    /// The `.ko` does not pass `cargo kmod check` for the release.
    Check {
        /// File name.
        file: String,
        /// The release checked against.
        release: String,
        /// The checker's problems.
        problems: Vec<String>,
    },
    /// `kldload` refused the file (link error, dependency, version, failed `MOD_LOAD`).
    Load {
        /// Cycle (1-based).
        cycle: u32,
        /// File name.
        file: String,
        /// The errno `kldload(2)` returns.
        errno: i32,
        /// The kernel's message.
        message: String,
        /// `(module, errno)` of failed `MOD_LOAD`s in this load.
        mod_load: Vec<(String, i32)>,
        /// Why, when known (e.g. built for another release).
        hint: Option<String>,
    },
    /// Module code faulted or panicked (the real kernel would be dead).
    Fault {
        /// Cycle (1-based).
        cycle: u32,
        /// File name.
        file: String,
        /// When.
        phase: Phase,
        /// What and where.
        fault: Box<Fault>,
        /// `symbol+0xoff (file.ko)` with the Rust symbol demangled.
        location: String,
    },
    /// `kldunload` was refused (`MOD_QUIESCE` / `MOD_UNLOAD` error); the file stays loaded.
    UnloadRefused {
        /// Cycle (1-based).
        cycle: u32,
        /// File name.
        file: String,
        /// The errno.
        errno: i32,
        /// The kernel's message.
        message: String,
    },
    /// Allocations of a malloc type outlived the cycle.
    Leak {
        /// Cycle (1-based).
        cycle: u32,
        /// The file the type belongs to.
        file: String,
        /// `ks_shortdesc`.
        malloc_type: String,
        /// Allocations left.
        live_allocs: u64,
        /// Bytes left (zone-rounded).
        live_bytes: u64,
    },
    /// A `panic(9)` that did not stop module code (recorded by the kernel).
    Panic {
        /// Cycle (1-based).
        cycle: u32,
        /// The message.
        message: String,
    },
    /// `--fuzz` found a bug that is not a crash (a privilege check ignored).
    Fuzz {
        /// Cycle (1-based).
        cycle: u32,
        /// What went wrong.
        message: String,
        /// The fuzz seed (`--seed`).
        seed: u64,
    },
    /// An `--exec` command failed (non-zero exit status).
    Command {
        /// Cycle (1-based).
        cycle: u32,
        /// The command line.
        line: String,
        /// Its exit status.
        status: i32,
        /// What it printed on standard error.
        stderr: String,
    },
    /// malloc(9) called with flags that are not exactly one of `M_WAITOK` and `M_NOWAIT`
    /// (an INVARIANTS kernel prints `Bad malloc flags: %x` with a backtrace).
    BadMallocFlags {
        /// Cycle (1-based).
        cycle: u32,
        /// The flags passed.
        flags: i32,
        /// The caller, `symbol+offset (file.ko)`.
        location: String,
    },
    /// A failed `M_NOWAIT` site of `--nowait-sweep` was not handled cleanly.
    NowaitSite {
        /// 1-based index of the failed `M_NOWAIT` allocation.
        site: u64,
        /// Whether every `M_NOWAIT` allocation from `site` on failed (kmem exhausted).
        exhausted: bool,
        /// What went wrong there.
        what: Box<Failure>,
    },
    /// The sweep could not start (the clean count run failed).
    SweepSetup(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cyc = |c: &u32| {
            if *c > 1 {
                format!(" in cycle {c}")
            } else {
                String::new()
            }
        };
        match self {
            Failure::Check {
                file,
                release,
                problems,
            } => {
                let first = problems.first().map(String::as_str).unwrap_or("");
                let first = match first.char_indices().nth(160) {
                    Some((i, _)) => format!("{}...", &first[..i]),
                    None => first.to_owned(),
                };
                write!(
                    f,
                    "{file} fails `cargo kmod check --freebsd {release}` ({} problem(s)): {first}",
                    problems.len()
                )
            }
            Failure::Load {
                cycle,
                file,
                errno,
                message,
                mod_load,
                hint,
            } => {
                write!(
                    f,
                    "load of {file} refused{}: {} [kldload: {}]",
                    cyc(cycle),
                    message.trim_end(),
                    errno_text(*errno)
                )?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                for (m, e) in mod_load {
                    write!(f, " [MOD_LOAD of {m} returned {}]", errno_text(*e))?;
                }
                Ok(())
            }
            Failure::Fault {
                cycle,
                file,
                phase,
                fault,
                location,
            } => {
                let what = match &fault.kind {
                    kernel_sim::FaultKind::Panic(m) => format!("panic: {m}"),
                    kernel_sim::FaultKind::PageFault { addr } => {
                        format!("page fault at address {addr:#x}")
                    }
                    kernel_sim::FaultKind::StackOverflow { addr } => {
                        format!("kernel stack overflow ({addr:#x})")
                    }
                    kernel_sim::FaultKind::Timeout(d) => {
                        format!("no return within {d:?} (watchdog)")
                    }
                    other => format!("{other:?}"),
                };
                write!(
                    f,
                    "{file} crashed during {phase}{}: {what} at {location}",
                    cyc(cycle)
                )
            }
            Failure::UnloadRefused {
                cycle,
                file,
                errno,
                message,
            } => {
                write!(
                    f,
                    "unload of {file} refused{}: {} [{}]",
                    cyc(cycle),
                    message.trim_end(),
                    errno_text(*errno)
                )
            }
            Failure::Leak {
                cycle,
                file,
                malloc_type,
                live_allocs,
                live_bytes,
            } => write!(
                f,
                "{file} leaked{}: malloc type `{malloc_type}` has {live_allocs} allocation(s), {live_bytes} bytes live after unload",
                if *cycle > 0 {
                    format!(" in cycle {cycle}")
                } else {
                    String::new()
                }
            ),
            Failure::Panic { cycle, message } => write!(f, "panic{}: {message}", cyc(cycle)),
            Failure::Fuzz { cycle, message, seed } => write!(f, "fuzz{}: {message} (replay with --seed {seed})", cyc(cycle)),
            Failure::Command { cycle, line, status, stderr } => write!(
                f,
                "command `{line}`{} exited with status {status}{}",
                cyc(cycle),
                if stderr.is_empty() { String::new() } else { format!(": {}", stderr.trim_end()) }
            ),
            Failure::BadMallocFlags {
                cycle,
                flags,
                location,
            } => write!(
                f,
                "malloc(9) called with flags {flags:#x}{} at {location}: pass exactly one of M_WAITOK and M_NOWAIT \
                 (an INVARIANTS kernel prints `Bad malloc flags: {:x}`)",
                cyc(cycle),
                flags & 3
            ),
            Failure::NowaitSite {
                site,
                exhausted,
                what,
            } => write!(
                f,
                "M_NOWAIT site {site} failed{}: {what}",
                if *exhausted {
                    " (kmem exhausted from there on)"
                } else {
                    ""
                }
            ),
            Failure::SweepSetup(m) => {
                write!(f, "--nowait-sweep could not count the M_NOWAIT sites: {m}")
            }
        }
    }
}

/// Allocation accounting of one malloc type of one module, summed over the cycles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllocRow {
    /// The `.ko` that defines the type.
    pub file: String,
    /// `ks_shortdesc` (`vmstat -m` name).
    pub malloc_type: String,
    /// Allocations made.
    pub allocs: u64,
    /// Frees made.
    pub frees: u64,
    /// Allocations live at the end.
    pub live_allocs: u64,
    /// Bytes live at the end (zone-rounded, as the kernel accounts).
    pub live_bytes: u64,
}

/// One line of `--nowait-sweep`.
#[derive(Clone, Debug)]
pub struct SiteResult {
    /// 1-based index of the `M_NOWAIT` allocation made to fail.
    pub site: u64,
    /// Whether every `M_NOWAIT` allocation from `site` on failed (kmem exhausted), not just
    /// that one.
    pub exhausted: bool,
    /// Human-readable outcome.
    pub outcome: String,
    /// Whether the failure was handled cleanly.
    pub ok: bool,
}

/// Result of `--nowait-sweep`.
#[derive(Clone, Debug, Default)]
pub struct SweepReport {
    /// `M_NOWAIT` allocations of a clean load + unload (K).
    pub sites: u64,
    /// One entry per site.
    pub results: Vec<SiteResult>,
}

/// Everything `cargo kmod run` found.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// The simulated release.
    pub release: String,
    /// The `.ko` file names, in load order.
    pub files: Vec<String>,
    /// Console of the first cycle (and of the failing one, if any).
    pub console: String,
    /// uprintf(9) output of the first cycle: the terminal of the process that ran
    /// kldload/kldunload, shown apart from the console.
    pub terminal: String,
    /// Per module and malloc type, summed over the cycles.
    pub allocations: Vec<AllocRow>,
    /// Cycles asked for.
    pub cycles_requested: u32,
    /// Cycles that ran to the end.
    pub cycles_completed: u32,
    /// `MOD_SHUTDOWN` results of the first cycle (`--shutdown`).
    pub shutdown: Vec<(String, i32)>,
    /// `--nowait-sweep`.
    pub sweep: Option<SweepReport>,
    /// Things worth knowing that do not fail the run.
    pub warnings: Vec<String>,
    /// Why the run fails (empty: it passes).
    pub failures: Vec<Failure>,
    /// Scheduler seed of the (last) run, if seeded.
    pub seed: Option<u64>,
    /// Schedules run by `--schedules N` (0 without it).
    pub schedules_run: u32,
    /// The `--exec` commands of the first cycle and what they printed.
    pub commands: String,
    /// `--fuzz` summary of the first cycle.
    pub fuzz: String,
}

impl RunReport {
    /// Whether the run passes.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The live allocations of `malloc_type` of `file` at the end, if the type was seen.
    pub fn row(&self, file: &str, malloc_type: &str) -> Option<&AllocRow> {
        self.allocations
            .iter()
            .find(|r| r.file == file && r.malloc_type == malloc_type)
    }

    /// The one-line verdict.
    pub fn verdict(&self) -> String {
        let files = self.files.join(" + ");
        // The kernel's verdict first: a check problem matters less than what happened.
        let first = self
            .failures
            .iter()
            .find(|f| !matches!(f, Failure::Check { .. }))
            .or(self.failures.first());
        if let Some(first) = first {
            let more = if self.failures.len() > 1 {
                format!(" (+{} more, see above)", self.failures.len() - 1)
            } else {
                String::new()
            };
            let seed = match self.seed {
                Some(s) => format!(" [scheduler seed {s}: replay with --seed {s}]"),
                None => String::new(),
            };
            return format!("FAIL: {files} on FreeBSD {}: {first}{more}{seed}", self.release);
        }
        let mut s = format!(
            "PASS: {files} on FreeBSD {}: {} load/unload cycle{} leak-free, no panic, no fault",
            self.release,
            self.cycles_completed,
            if self.cycles_completed == 1 { "" } else { "s" }
        );
        if self.schedules_run > 0 {
            let _ = write!(
                s,
                "; {} seeded schedule{}",
                self.schedules_run,
                if self.schedules_run == 1 { "" } else { "s" }
            );
        } else if let Some(seed) = self.seed {
            let _ = write!(s, "; scheduler seed {seed}");
        }
        if let Some(sw) = &self.sweep {
            let _ = write!(
                s,
                "; {} M_NOWAIT site{} failed in turn, all handled",
                sw.sites,
                if sw.sites == 1 { "" } else { "s" }
            );
        }
        s
    }

    /// Console, report and verdict as printed by `cargo kmod run`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("--- console ---\n");
        s.push_str(&self.console);
        if !self.console.is_empty() && !self.console.ends_with('\n') {
            s.push('\n');
        }
        if self.cycles_completed > 1 {
            let _ = writeln!(
                s,
                "(console of cycle 1 shown; {} more cycles ran)",
                self.cycles_completed - 1
            );
        }
        if !self.terminal.is_empty() {
            s.push_str("--- terminal (uprintf) ---\n");
            s.push_str(&self.terminal);
            if !self.terminal.ends_with('\n') {
                s.push('\n');
            }
        }
        if !self.commands.is_empty() {
            s.push_str("--- commands ---\n");
            s.push_str(&self.commands);
        }
        if !self.fuzz.is_empty() {
            s.push_str("--- fuzz ---\n");
            s.push_str(&self.fuzz);
        }
        let _ = writeln!(
            s,
            "--- allocations ({} cycle{}) ---",
            self.cycles_completed.max(1),
            if self.cycles_completed > 1 { "s" } else { "" }
        );
        let fw = self
            .allocations
            .iter()
            .map(|r| r.file.len())
            .chain([6])
            .max()
            .unwrap_or(6);
        let tw = self
            .allocations
            .iter()
            .map(|r| r.malloc_type.len())
            .chain([11])
            .max()
            .unwrap_or(11);
        let _ = writeln!(
            s,
            "{:<fw$}  {:<tw$}  {:>10}  {:>10}  {:>10}  {:>10}",
            "module", "malloc type", "allocs", "frees", "live", "live bytes"
        );
        for r in &self.allocations {
            let _ = writeln!(
                s,
                "{:<fw$}  {:<tw$}  {:>10}  {:>10}  {:>10}  {:>10}",
                r.file, r.malloc_type, r.allocs, r.frees, r.live_allocs, r.live_bytes
            );
        }
        if self.allocations.is_empty() {
            s.push_str("(no malloc type registered)\n");
        }
        let live: u64 = self.allocations.iter().map(|r| r.live_bytes).sum();
        let leaks = self
            .allocations
            .iter()
            .filter(|r| r.live_allocs > 0)
            .count();
        let _ = writeln!(s, "leaks: {leaks} malloc type(s), {live} bytes live");
        if !self.shutdown.is_empty() {
            s.push_str("--- MOD_SHUTDOWN ---\n");
            for (m, e) in &self.shutdown {
                let _ = writeln!(
                    s,
                    "{m}: {}",
                    if *e == 0 {
                        "0".to_owned()
                    } else {
                        errno_text(*e)
                    }
                );
            }
        }
        if let Some(sw) = &self.sweep {
            let _ = writeln!(
                s,
                "--- nowait sweep: {} M_NOWAIT allocation site(s) ---",
                sw.sites
            );
            for r in &sw.results {
                let _ = writeln!(
                    s,
                    "{}site {}/{}: {} {}",
                    if r.exhausted { "exhausted from " } else { "" },
                    r.site,
                    sw.sites,
                    if r.ok { "ok  " } else { "FAIL" },
                    r.outcome
                );
            }
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        for f in &self.failures {
            if let Failure::Check {
                file,
                release,
                problems,
            } = f
            {
                let _ = writeln!(
                    s,
                    "--- cargo kmod check --freebsd {release} {file}: {} problem(s) ---",
                    problems.len()
                );
                for p in problems {
                    let _ = writeln!(s, "- {p}");
                }
            }
        }
        if self.failures.len() > 1 {
            s.push_str("--- failures ---\n");
            for f in &self.failures {
                let _ = writeln!(s, "- {f}");
            }
        }
        s.push_str(&self.verdict());
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_names_the_first_failure() {
        let mut r = RunReport {
            release: "14.0".into(),
            files: vec!["a.ko".into()],
            cycles_completed: 3,
            ..Default::default()
        };
        assert!(
            r.verdict()
                .starts_with("PASS: a.ko on FreeBSD 14.0: 3 load/unload cycles leak-free")
        );
        r.failures.push(Failure::Leak {
            cycle: 2,
            file: "a.ko".into(),
            malloc_type: "a".into(),
            live_allocs: 1,
            live_bytes: 16,
        });
        assert_eq!(
            r.verdict(),
            "FAIL: a.ko on FreeBSD 14.0: a.ko leaked in cycle 2: malloc type `a` has 1 allocation(s), 16 bytes live after unload"
        );
        let out = r.render();
        assert!(out.starts_with("--- console ---\n"), "{out}");
        assert!(out.trim_end().ends_with("after unload"), "{out}");
    }

    #[test]
    fn terminal_output_is_shown_apart_from_the_console() {
        let r = RunReport {
            release: "15.0".into(),
            files: vec!["a.ko".into()],
            console: "a: loaded\n".into(),
            terminal: "a: hello, user\n".into(),
            cycles_completed: 1,
            ..Default::default()
        };
        let out = r.render();
        assert!(
            out.starts_with("--- console ---\na: loaded\n--- terminal (uprintf) ---\na: hello, user\n--- allocations"),
            "{out}"
        );
        let quiet = RunReport { terminal: String::new(), ..r }.render();
        assert!(!quiet.contains("--- terminal"), "{quiet}");
    }

    #[test]
    fn errno_names_follow_errno_h() {
        assert_eq!(errno_text(12), "ENOMEM (12)");
        assert_eq!(errno_name(2), "ENOENT");
        assert_eq!(errno_name(8), "ENOEXEC");
    }
}

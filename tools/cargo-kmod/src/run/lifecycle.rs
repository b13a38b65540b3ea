//! One lifecycle of a set of modules in a simulated kernel: `kldload` each in order (the
//! simulator resolves `MODULE_DEPEND`s against what is loaded, like `kern_linker.c`),
//! optionally `MOD_SHUTDOWN`, `kldunload` in reverse order; then the checks: faults,
//! panics, refused unloads, and live allocations of every malloc type touched.

use std::collections::BTreeMap;

use kernel_sim::{Fault, Kernel, LoadError, MallocTypeStats, ModuleId, UnloadError};

use super::inputs::Input;
use super::report::{Failure, Phase};

/// Allocation counts of one malloc type during one cycle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeDelta {
    /// Index of the module (in load order) that defines the type, if known.
    pub module: Option<usize>,
    /// `ks_shortdesc`.
    pub name: String,
    /// Allocations made this cycle.
    pub allocs: u64,
    /// Frees made this cycle.
    pub frees: u64,
    /// Live allocations after the cycle.
    pub live_allocs: u64,
    /// Live bytes after the cycle.
    pub live_bytes: u64,
}

/// What one cycle did.
#[derive(Clone, Debug, Default)]
pub struct Cycle {
    /// Console text of the cycle.
    pub console: String,
    /// What uprintf(9) wrote to the terminal of the process running kldload/kldunload.
    pub terminal: String,
    /// The first thing that went wrong, and any leaks found after it.
    pub failures: Vec<Failure>,
    /// Whether module code crashed (the real kernel would be dead).
    pub crashed: bool,
    /// Whether a file is still loaded afterwards (unload refused).
    pub left_loaded: bool,
    /// Per malloc type touched.
    pub types: Vec<TypeDelta>,
    /// `MOD_SHUTDOWN` results.
    pub shutdown: Vec<(String, i32)>,
    /// The `--exec` commands run and their output.
    pub commands: Vec<(super::user::ExecStep, kernel_sim::user::shell::CommandOutput)>,
    /// `--fuzz` summary.
    pub fuzz: String,
}

/// `symbol+0xoff (file.ko)` with a Rust symbol demangled (no hash).
pub fn location(k: &Kernel, f: &Fault) -> String {
    match &f.symbol {
        Some(sym) => {
            let file = f
                .location
                .rsplit_once(" (")
                .map(|(_, r)| format!(" ({r}"))
                .unwrap_or_default();
            format!("{:#}+{:#x}{file}", rustc_demangle::demangle(sym), f.offset)
        }
        None if f.rip != 0 => k.symbolize(f.rip).0,
        None => f.location.clone(),
    }
}

fn by_mtp(k: &Kernel) -> BTreeMap<usize, MallocTypeStats> {
    k.malloc_stats().into_iter().map(|t| (t.mtp, t)).collect()
}

/// Runs one cycle of `inputs` (`cycle` is its 1-based number, for messages). With
/// `force_unload` the modules are unloaded like `kldunload -f` ([`Kernel::unload_force`]).
pub fn run_cycle(k: &mut Kernel, inputs: &[Input], cycle: u32, shutdown: bool, force_unload: bool) -> Cycle {
    run_cycle_with(k, inputs, cycle, shutdown, force_unload, &super::user::UserRun::default())
}

/// [`run_cycle`] with `--exec` commands run between the loads and the unloads.
pub fn run_cycle_with(
    k: &mut Kernel,
    inputs: &[Input],
    cycle: u32,
    shutdown: bool,
    force_unload: bool,
    user: &super::user::UserRun,
) -> Cycle {
    let before = by_mtp(k);
    let panics_before = k.panics().len();
    let bad_flags_before = k.bad_malloc_flags().len();
    let mut out = Cycle::default();
    let mut owner: BTreeMap<usize, usize> = BTreeMap::new();
    let mut loaded: Vec<(usize, ModuleId)> = Vec::new();
    let mut failed_load = None;

    for (i, input) in inputs.iter().enumerate() {
        let mod_errs = k.mod_load_errors().len();
        match k.load(&input.ko) {
            Ok(id) => {
                for t in k.malloc_types_of(id) {
                    owner.insert(t.mtp, i);
                }
                loaded.push((i, id));
            }
            Err(LoadError::Crashed(fault)) => {
                out.crashed = true;
                failed_load = Some(i);
                let location = location(k, &fault);
                out.failures.push(Failure::Fault {
                    cycle,
                    file: input.file.clone(),
                    phase: Phase::Load,
                    fault,
                    location,
                });
                break;
            }
            Err(e) => {
                failed_load = Some(i);
                out.failures.push(Failure::Load {
                    cycle,
                    file: input.file.clone(),
                    errno: e.errno(),
                    message: e.to_string(),
                    mod_load: k.mod_load_errors()[mod_errs..].to_vec(),
                    hint: input.wrong_release.clone(),
                });
                break;
            }
        }
    }

    if out.failures.is_empty() && !user.execs.is_empty() {
        super::user::run_execs(k, &user.execs, cycle, &mut out);
    }
    if out.failures.is_empty() && user.fuzz > 0 {
        super::user::run_fuzz(k, user.fuzz, user.fuzz_seed, cycle, &mut out);
    }

    if shutdown && out.failures.is_empty() {
        match k.shutdown() {
            Ok(r) => out.shutdown = r,
            Err(fault) => {
                out.crashed = true;
                let location = location(k, &fault);
                let file = fault
                    .location
                    .rsplit_once(" (")
                    .map(|(_, r)| r.trim_end_matches(')').to_owned())
                    .unwrap_or_default();
                out.failures.push(Failure::Fault {
                    cycle,
                    file,
                    phase: Phase::Shutdown,
                    fault: Box::new(fault),
                    location,
                });
            }
        }
    }

    // Unload in reverse order, also after a failure, so that what can be checked is.
    for &(i, id) in loaded.iter().rev() {
        let r = if force_unload { k.unload_force(id) } else { k.unload(id) };
        match r {
            Ok(()) => {}
            Err(UnloadError::Crashed(fault)) => {
                out.crashed = true;
                let location = location(k, &fault);
                out.failures.push(Failure::Fault {
                    cycle,
                    file: inputs[i].file.clone(),
                    phase: Phase::Unload,
                    fault,
                    location,
                });
            }
            Err(e) => {
                out.left_loaded = true;
                out.failures.push(Failure::UnloadRefused {
                    cycle,
                    file: inputs[i].file.clone(),
                    errno: e.errno(),
                    message: e.to_string(),
                });
            }
        }
    }

    // Every malloc type whose counters moved this cycle.
    for (mtp, t) in by_mtp(k) {
        let b = before.get(&mtp).cloned().unwrap_or_default();
        if t.total_allocs == b.total_allocs
            && t.total_frees == b.total_frees
            && t.live_allocs == b.live_allocs
            && !owner.contains_key(&mtp)
        {
            continue;
        }
        // A type not seen while loaded belongs to the file whose load failed.
        let module = owner.get(&mtp).copied().or(failed_load);
        out.types.push(TypeDelta {
            module,
            name: t.name.clone(),
            allocs: t.total_allocs - b.total_allocs,
            frees: t.total_frees - b.total_frees,
            live_allocs: t.live_allocs,
            live_bytes: t.live_bytes,
        });
    }
    // Leaks: allocations left behind by what was unloaded (or failed to load). A file that
    // refused to unload still owns its memory.
    if !out.left_loaded {
        for t in &out.types {
            if t.live_allocs > 0 {
                out.failures.push(Failure::Leak {
                    cycle,
                    file: t
                        .module
                        .map(|i| inputs[i].file.clone())
                        .unwrap_or_else(|| "?".into()),
                    malloc_type: t.name.clone(),
                    live_allocs: t.live_allocs,
                    live_bytes: t.live_bytes,
                });
            }
        }
    }
    if !out.crashed {
        for p in &k.panics()[panics_before..] {
            out.failures.push(Failure::Panic {
                cycle,
                message: p.clone(),
            });
        }
    }
    for (flags, location) in k.bad_malloc_flags().into_iter().skip(bad_flags_before) {
        out.failures.push(Failure::BadMallocFlags {
            cycle,
            flags,
            location,
        });
    }
    out.console = k.take_console();
    out.terminal = k.take_terminal();
    out
}

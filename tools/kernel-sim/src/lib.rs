//! A userspace FreeBSD amd64 kernel linker and KPI simulator.
//!
//! It loads a kernel module (`.ko`, an ELF64 `ET_REL` object) natively into a Linux process,
//! links it like `sys/kern/link_elf_obj.c`, starts it like `sys/kern/kern_linker.c` (module
//! metadata, dependencies, SYSINITs) and runs its code on a simulated kernel stack with fault
//! recovery. Kernel functions it calls are host implementations ([`kern`]).
//!
//! ```no_run
//! use kernel_sim::{Kernel, SimOptions, SimRelease};
//! let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).unwrap();
//! let id = k.load(std::path::Path::new("hello.ko")).unwrap();
//! print!("{}", k.console());
//! k.unload(id).unwrap();
//! ```
//!
//! **One kernel per process at a time.** Kernel functions called by module code find the
//! kernel through a process-wide pointer, the arena has a fixed address and the signal handlers
//! are process-wide. [`Kernel::boot`] fails with [`SimError::AlreadyBooted`] while another
//! kernel exists; after it is dropped a new one can be booted. Module code runs on the host
//! thread that calls [`Kernel::load`] / [`Kernel::call`], one call at a time.
//!
//! **Simulated kernel threads.** Within a call, module code may create kernel threads
//! (`kthread_add`, ...). They are simulated threads of one simulated CPU, each with its own
//! guarded kernel stack and `curthread`, switched cooperatively on that same host thread
//! (`kern::kern_switch`): the call's own function runs as thread 0, then the other threads
//! run until all of them wait (in kldunload only once the file is freed: a thread still in
//! its text then is reported, `kern::kern_linker`). Scheduling is deterministic unless
//! [`SimOptions::sched_seed`] is set, in which case every lock, sleep, wakeup, printf and
//! thread KPI call is a seeded preemption point. Locks, sleeps and condition variables follow
//! `kern_mutex.c`, `kern_sx.c`, `kern_condvar.c`, `kern_synch.c`, with WITNESS-like checks
//! (`kern::subr_witness`); the clock is simulated ([`Kernel::sleep`], [`Kernel::ticks`]).
//! Tests that load modules
//! should still run one process per test (cargo-nextest does; with `cargo test`, put one test
//! per file or serialise them), because a module that corrupts host memory takes the process
//! with it.

pub mod arena;
pub mod exec;
pub mod kern;
pub mod ksyms;
pub mod loader;
pub mod reloc;
pub mod twins;
pub mod report;
pub mod user;

use std::path::Path;
use std::time::Duration;

pub use kern::malloc::MallocTypeStats;
pub use ksyms::{KsymDef, KsymKind};
pub use loader::LoadError;
pub use report::{Fault, FaultKind};

use arena::Arena;
use exec::{AbortInfo, Executor};
use kern::KState;
use kern::module::{EINVAL, EOPNOTSUPP, MOD_QUIESCE, MOD_SHUTDOWN, MOD_UNLOAD};
use ksyms::KernelSymbols;
use loader::Image;

/// Identity of a simulated FreeBSD kernel.
///
/// Every simulated kernel is derived from a release folder of the bindings
/// (`freebsd_kpi::<folder>::RELEASE`, generated from `releases/<folder>/release.toml` and
/// the folder's layouts), so the simulator and the bindings cannot disagree. A minor
/// release (`14.2`) is its major's folder with that minor's `__FreeBSD_version`
/// ([`SimRelease::by_name`], `freebsd_kpi::catalog::MINOR_RELEASES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimRelease {
    /// Release name, e.g. "14.0" or "14.2".
    pub name: &'static str,
    /// The release folder whose tables (export list, layouts) the kernel follows ("v14_0").
    pub folder: &'static str,
    /// `__FreeBSD_version` of the running kernel (the version of module "kernel").
    pub freebsd_version: u32,
    /// `sizeof(struct sysinit)`: 24 on 13.x, 32 on 14.x/15.x (`next` pointer at offset 8).
    pub sysinit_size: usize,
    /// `M_VERSION` expected in `struct malloc_type.ks_version`.
    pub m_version: u64,
}

impl SimRelease {
    /// FreeBSD 13.1-RELEASE.
    pub const V13_1: SimRelease = SimRelease::from_catalog(&freebsd_kpi::v13_1::RELEASE);
    /// FreeBSD 14.0-RELEASE.
    pub const V14_0: SimRelease = SimRelease::from_catalog(&freebsd_kpi::v14_0::RELEASE);
    /// FreeBSD 15.0-RELEASE.
    pub const V15_0: SimRelease = SimRelease::from_catalog(&freebsd_kpi::v15_0::RELEASE);
    /// Every simulated release.
    pub const ALL: [SimRelease; 3] = [SimRelease::V13_1, SimRelease::V14_0, SimRelease::V15_0];

    /// The kernel a release folder of the bindings targets.
    pub const fn from_catalog(r: &'static freebsd_kpi::release::Release) -> SimRelease {
        SimRelease {
            name: r.identity.name,
            folder: r.identity.folder,
            freebsd_version: r.identity.freebsd_version,
            sysinit_size: r.sysinit_size,
            m_version: r.m_version,
        }
    }

    /// Look a release up by name: a release folder ("13.1", "14.0", "15.0") or a known
    /// minor release ("14.2": the 14.0 folder's tables, `__FreeBSD_version` 1402000).
    pub fn by_name(name: &str) -> Option<SimRelease> {
        if let Some(r) = SimRelease::ALL.into_iter().find(|r| r.name == name) {
            return Some(r);
        }
        let m = freebsd_kpi::catalog::minor_release(name)?;
        let base = freebsd_kpi::catalog::for_kernel(m.major, m.minor)?;
        Some(SimRelease { name: m.name, freebsd_version: m.freebsd_version, ..SimRelease::from_catalog(base) })
    }

    /// The release folder this kernel follows (its bindings, export list and layouts).
    pub fn bindings(&self) -> &'static freebsd_kpi::release::Release {
        freebsd_kpi::catalog::RELEASES
            .iter()
            .find(|r| r.identity.folder == self.folder)
            .expect("SimRelease::folder names a catalog release")
    }
}

/// Options of a simulated kernel.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Watchdog deadline of every call into module code (SYSINITs, events, [`Kernel::call`]).
    pub timeout: Duration,
    /// Copy console output to stderr as it is printed.
    pub echo_console: bool,
    /// Additional kernel symbols (future KPI).
    pub extra_symbols: Vec<KsymDef>,
    /// Scheduler seed: `None` runs threads deterministically (a thread runs until it
    /// blocks, yields or exits); `Some(seed)` makes every lock, sleep, wakeup and thread KPI
    /// call a preemption point with a seeded choice of the next thread, the same choices for
    /// the same seed (`cargo kmod run --schedules N` / `--seed S`).
    pub sched_seed: Option<u64>,
    /// Size of the kmem arena (`vm_kmem_size`) in bytes: the most malloc(9) memory that can
    /// be live at once, and the largest single request that can ever be satisfied
    /// (`cargo kmod run --kmem`). Default [`kern::malloc::DEFAULT_KMEM_SIZE`] (1 GiB).
    pub kmem: usize,
    /// Directories searched for a module a `MODULE_DEPEND` names that is not loaded, like
    /// `kern.module_path` (kern_linker.c `linker_search_module`, which reads each
    /// directory's `linker.hints`; the simulator indexes the `.ko` files' `MODULE_VERSION`s
    /// itself, as `kldxref` would).
    pub module_path: Vec<std::path::PathBuf>,
    /// The kernel environment before the first load (`cargo kmod run --kenv NAME=VALUE`,
    /// loader.conf variables): read by `kern_getenv`/`getenv_*` and `CTLFLAG_TUN` oids
    /// (`kern::kern_environment`, `kern::kern_sysctl`).
    pub kenv: std::collections::BTreeMap<String, String>,
    /// `kern.securelevel` (`cargo kmod run --securelevel N`): `CTLFLAG_SECURE` oids refuse
    /// writes above their level (`securelevel_gt`). Default -1, like a kernel booted without
    /// `kern_securelevel_enable`.
    pub securelevel: i32,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            timeout: Duration::from_secs(5),
            echo_console: false,
            extra_symbols: Vec::new(),
            kmem: kern::malloc::DEFAULT_KMEM_SIZE,
            sched_seed: None,
            module_path: Vec::new(),
            kenv: Default::default(),
            securelevel: -1,
        }
    }
}

/// Why a kernel could not boot.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Another [`Kernel`] exists in this process.
    #[error("kernel-sim: a simulated kernel is already running in this process (one at a time)")]
    AlreadyBooted,
    /// The low arena could not be mapped.
    #[error("kernel-sim: {0}")]
    Arena(String),
}

/// Why `kldunload` failed; the file stays loaded.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum UnloadError {
    /// No such file.
    #[error("kldunload: no loaded file with id {0}")]
    NoSuchFile(u32),
    /// The file was loaded as a dependency, not by the user.
    #[error("kldunload: attempt to unload file that was loaded by the kernel")]
    NotUserLoaded,
    /// `MOD_QUIESCE` refused (the kernel's `linker_file_unload` returns its error).
    #[error("kldunload: module {module} vetoed unload: MOD_QUIESCE returned {error}")]
    Quiesce {
        /// Module name.
        module: String,
        /// Handler's return value.
        error: i32,
    },
    /// `MOD_UNLOAD` failed.
    #[error("kldunload: module {module} failed to unload: MOD_UNLOAD returned {error}")]
    Unload {
        /// Module name.
        module: String,
        /// Handler's return value.
        error: i32,
    },
    /// Module code crashed during unload (the file was torn down by force).
    #[error("{0}")]
    Crashed(Box<Fault>),
}

impl UnloadError {
    /// The errno `kldunload(2)` would return.
    pub fn errno(&self) -> i32 {
        match self {
            UnloadError::NoSuchFile(_) => kern::module::ENOENT,
            UnloadError::NotUserLoaded => kern::module::EBUSY,
            UnloadError::Quiesce { error, .. } | UnloadError::Unload { error, .. } => *error,
            UnloadError::Crashed(_) => kern::module::EBUSY,
        }
    }
}

/// A loaded file (`kldload` returns its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub u32);

#[derive(Debug)]
struct LinkerFile {
    id: u32,
    image: Image,
    refs: u32,
    userrefs: u32,
    deps: Vec<u32>,
    linked: bool,
    /// `set_sysctl_set` bounds once `linker_file_register_sysctls` ran.
    sysctl_set: Option<(usize, usize)>,
}

/// One `MODULE_VERSION` provided by a file (`struct modlist`); `file == None` is the kernel.
#[derive(Debug, Clone)]
struct ModList {
    name: String,
    version: i32,
    file: Option<u32>,
}

/// Parsed `struct mod_metadata`.
#[derive(Debug, Clone)]
struct Md {
    mtype: i32,
    data: usize,
    cval: String,
}

/// `MDT_DEPEND`, `MDT_MODULE`, `MDT_VERSION` (sys/sys/module.h).
const MDT_DEPEND: i32 = 1;
const MDT_MODULE: i32 = 2;
const MDT_VERSION: i32 = 3;
/// `SI_SUB_DUMMY` (sys/sys/kernel.h).
const SI_SUB_DUMMY: u32 = 0;

/// One simulated FreeBSD kernel. See the crate documentation for the one-per-process rule.
#[derive(Debug)]
pub struct Kernel {
    // Field order is drop order: executor (watchdog) first, arena last.
    exec: Executor,
    files: Vec<LinkerFile>,
    modlist: Vec<ModList>,
    ksyms: KernelSymbols,
    /// Names the real kernel of this release exports (its `kernel-exports.txt`).
    exports: std::collections::HashSet<&'static str>,
    /// `kern.module_path`.
    module_path: Vec<std::path::PathBuf>,
    next_id: u32,
    st: *mut KState,
    release: SimRelease,
    arena: Arena,
}

impl Kernel {
    /// Boot a simulated kernel of `release`.
    pub fn boot(release: SimRelease, opts: SimOptions) -> Result<Kernel, SimError> {
        let st = Box::into_raw(Box::new(KState {
            console: String::new(),
            terminal: String::new(),
            release,
            malloc: kern::malloc::MallocState::with_kmem(release.m_version, opts.kmem),
            modules: Default::default(),
            panics: Vec::new(),
            mod_load_errors: Vec::new(),
            echo: opts.echo_console,
            timeout: Default::default(),
            taskq: Default::default(),
            evh: Default::default(),
            devfs: Default::default(),
            user: Default::default(),
            sel: Default::default(),
        }));
        if !kern::install(st) {
            // SAFETY: st was never shared.
            drop(unsafe { Box::from_raw(st) });
            return Err(SimError::AlreadyBooted);
        }
        kern::kern_switch::install(opts.sched_seed, kern::kern_clock::BOOT_SBT, release.freebsd_version);
        let fail = |e: String| {
            kern::kern_switch::uninstall();
            kern::uninstall(st);
            // SAFETY: st is no longer installed, nobody else holds it.
            drop(unsafe { Box::from_raw(st) });
            SimError::Arena(e)
        };
        let mut arena = Arena::reserve().map_err(|e| fail(e.to_string()))?;
        let mut defs = ksyms::release_symbols(release);
        defs.retain(|d| kern::subr_taskqueue::exported_on(&d.name, release.freebsd_version));
        defs.extend(opts.extra_symbols.iter().cloned());
        let ksyms = KernelSymbols::build(&mut arena, &defs).map_err(|e| fail(e.to_string()))?;
        kern::kern_clock::attach(["ticks", "ticksl"].iter().filter_map(|n| ksyms.lookup(n)).collect());
        kern::subr_eventhandler::boot();
        let system_tq = kern::subr_taskqueue::create_system_queue();
        if let Some(at) = ksyms.lookup("taskqueue_thread") {
            // SAFETY: the 8-byte `struct taskqueue *taskqueue_thread` data object of
            // kern::subr_taskqueue::symbols, read-write in the arena; no module runs yet.
            unsafe { (at as *mut usize).write(system_tq) };
        }
        if let Some(at) = ksyms.lookup("vm_kmem_size") {
            // SAFETY: the 8-byte data object of kern::malloc::symbols, mapped read-write in
            // the arena; no module runs yet.
            unsafe { (at as *mut u64).write(opts.kmem as u64) };
        }
        kern::kern_sysctl::boot(release.name, release.freebsd_version, &|n| ksyms.lookup(n), opts.kenv.clone(), opts.securelevel);
        let exec = Executor::new(opts.timeout, arena.bounds());
        Ok(Kernel {
            exec,
            files: Vec::new(),
            // The running kernel provides module "kernel" at its __FreeBSD_version.
            modlist: vec![ModList { name: "kernel".into(), version: release.freebsd_version as i32, file: None }],
            ksyms,
            exports: release.bindings().kernel_exports().map(|e| e.name).collect(),
            module_path: opts.module_path.clone(),
            next_id: 1,
            st,
            release,
            arena,
        })
    }

    fn st(&self) -> &KState {
        // SAFETY: st is valid for the kernel's lifetime; no module code runs during this borrow.
        unsafe { &*self.st }
    }

    fn st_mut(&mut self) -> &mut KState {
        // SAFETY: as above, and &mut self guarantees no other borrow from this side.
        unsafe { &mut *self.st }
    }

    /// The simulated release.
    pub fn release(&self) -> SimRelease {
        self.release
    }

    /// Everything printed so far by printf/log/panic and by the kernel itself.
    pub fn console(&self) -> &str {
        &self.st().console
    }

    /// What uprintf(9) printed so far on the terminal of the (simulated) process calling
    /// `kldload`/`kldunload`: not the console (kern/subr_prf.c `uprintf` writes `TOTTY`).
    pub fn terminal(&self) -> &str {
        &self.st().terminal
    }

    /// Return and clear the terminal output.
    pub fn take_terminal(&mut self) -> String {
        std::mem::take(&mut self.st_mut().terminal)
    }

    /// Return and clear the console.
    pub fn take_console(&mut self) -> String {
        std::mem::take(&mut self.st_mut().console)
    }

    fn kprintf(&mut self, s: &str) {
        let st = self.st_mut();
        if st.echo {
            eprint!("{s}");
        }
        st.console.push_str(s);
    }

    /// Per-malloc-type accounting.
    pub fn malloc_stats(&self) -> Vec<MallocTypeStats> {
        self.st().malloc.stats()
    }

    /// Accounting of the malloc type whose `ks_shortdesc` is `name`.
    pub fn malloc_type(&self, name: &str) -> Option<MallocTypeStats> {
        self.malloc_stats().into_iter().find(|t| t.name == name)
    }

    /// Panic messages seen so far.
    pub fn panics(&self) -> &[String] {
        &self.st().panics
    }

    /// Accounting of the malloc types defined by loaded file `id` (`struct malloc_type`s
    /// that lie in its image), in address order. Empty when `id` is not loaded.
    pub fn malloc_types_of(&self, id: ModuleId) -> Vec<MallocTypeStats> {
        let Some(f) = self.file(id.0) else { return Vec::new() };
        // sizeof(struct malloc_type) is 112 on amd64 (kern/malloc.rs).
        self.malloc_stats().into_iter().filter(|t| f.image.contains(t.mtp, 112)).collect()
    }

    /// `vm_kmem_size` and the bytes of it live allocations use.
    pub fn kmem(&self) -> (usize, usize) {
        let m = &self.st().malloc;
        (m.kmem_size(), m.kmem_used())
    }

    /// Every malloc(9) call so far whose flags were not exactly one of `M_WAITOK` and
    /// `M_NOWAIT` (an INVARIANTS kernel prints the first, `Bad malloc flags: %x`):
    /// `(flags, caller as symbol+offset)`.
    pub fn bad_malloc_flags(&self) -> Vec<(i32, String)> {
        let m = &self.st().malloc;
        m.bad_flags().iter().map(|b| (b.flags, b.location.clone().unwrap_or_else(|| self.symbolize(b.caller).0))).collect()
    }

    /// Symbolise recorded malloc callers while their files are still mapped.
    fn settle_malloc_callers(&mut self) {
        let todo: Vec<(usize, usize)> = self.st().malloc.bad_flags().iter().enumerate()
            .filter(|(_, b)| b.location.is_none()).map(|(i, b)| (i, b.caller)).collect();
        for (i, caller) in todo {
            let loc = self.symbolize(caller).0;
            self.st_mut().malloc.bad_flags_mut()[i].location = Some(loc);
        }
    }

    /// How many `M_NOWAIT` allocations module code has requested since boot, including the
    /// ones made to fail by [`Kernel::set_nowait_failure`]. A fault-injection sweep counts
    /// the `M_NOWAIT` sites of a clean load + unload with it, then fails each in turn.
    pub fn nowait_allocations(&self) -> u64 {
        self.st().malloc.nowait_allocations()
    }

    /// `(module, error)` of every `MOD_LOAD` that failed since boot, oldest first: the
    /// errno a module's load handler returned (`module_register_init` prints it as
    /// `module_register_init: MOD_LOAD (name, ...) error N`; `kldload` itself then fails with
    /// `ENOEXEC`, see [`LoadError::ModulesFailed`]).
    pub fn mod_load_errors(&self) -> &[(String, i32)] {
        &self.st().mod_load_errors
    }

    /// From the `nth` `M_NOWAIT` allocation from now on, make every `M_NOWAIT` allocation
    /// return NULL, as when the kmem arena is exhausted (`None` disables).
    pub fn set_nowait_exhaustion(&mut self, nth: Option<u64>) {
        self.st_mut().malloc.set_nowait_exhaustion(nth);
    }

    /// Make the `nth` `M_NOWAIT` allocation from now on return NULL (`None` disables).
    pub fn set_nowait_failure(&mut self, nth: Option<u64>) {
        self.st_mut().malloc.set_nowait_failure(nth);
    }

    /// Address of kernel symbol `name` (trampoline or data object).
    pub fn kernel_symbol(&self, name: &str) -> Option<usize> {
        self.ksyms.lookup(name)
    }

    /// Address of symbol `name` defined by loaded file `id` (globals first, then locals).
    pub fn lookup_symbol(&self, id: ModuleId, name: &str) -> Option<usize> {
        self.file(id.0).and_then(|f| f.image.lookup(name, false))
    }

    /// Whether file `id` is loaded.
    pub fn is_loaded(&self, id: ModuleId) -> bool {
        self.file(id.0).is_some()
    }

    /// Names of the registered modules (`modfind`-able), in the kernel's list order.
    pub fn modules(&self) -> Vec<String> {
        self.st().modules.mods.iter().map(|m| m.name.clone()).collect()
    }

    /// Loaded files: `(id, filename)`.
    pub fn files(&self) -> Vec<(ModuleId, String)> {
        self.files.iter().map(|f| (ModuleId(f.id), f.image.filename.clone())).collect()
    }

    fn file(&self, id: u32) -> Option<&LinkerFile> {
        self.files.iter().find(|f| f.id == id)
    }

    /// Call module code `addr` with up to six integer arguments on the kernel stack.
    pub fn call(&mut self, addr: usize, args: &[u64]) -> Result<u64, Fault> {
        self.call_timeout(addr, args, None)
    }

    /// Like [`Kernel::call`] with an explicit watchdog deadline.
    pub fn call_timeout(&mut self, addr: usize, args: &[u64], timeout: Option<Duration>) -> Result<u64, Fault> {
        self.exec_call(addr, args, timeout).map_err(|a| self.fault(a))
    }

    /// Run `f` as thread 0 through the gate, then replace the module-address markers that
    /// host stubs wrote into the console and panic messages (see `kern::subr_witness`).
    fn exec_call(&mut self, f: usize, args: &[u64], timeout: Option<Duration>) -> Result<u64, AbortInfo> {
        let r = self.exec.call(f, args, timeout);
        if r.is_err() {
            // Every simulated thread was abandoned: none is inside a device method any more.
            kern::kern_conf::after_abort();
        }
        let r = r.map_err(|a| match a {
            AbortInfo::Panic { message, caller } => AbortInfo::Panic { message: self.resolve_markers(&message), caller },
            other => other,
        });
        if self.st().console.contains("{{sym:") {
            let c = self.resolve_markers(&self.st().console);
            self.st_mut().console = c;
        }
        let panics: Vec<String> = self.st().panics.iter().map(|p| self.resolve_markers(p)).collect();
        self.st_mut().panics = panics;
        r
    }

    /// Replace every `{{sym:0xADDR}}` in `s` by the location of return address `ADDR`.
    fn resolve_markers(&self, s: &str) -> String {
        if !s.contains("{{sym:") {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find("{{sym:") {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 6..];
            let Some(j) = tail.find("}}") else {
                out.push_str(&rest[i..]);
                return out;
            };
            let addr = usize::from_str_radix(tail[..j].trim_start_matches("0x"), 16).unwrap_or(0);
            out.push_str(&self.symbolize_return(addr));
            rest = &tail[j + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Location of the call that returns to `ra` (symbolised at its last byte, like a
    /// debugger's backtrace), `unknown` for 0.
    pub fn symbolize_return(&self, ra: usize) -> String {
        if ra == 0 {
            return "unknown".into();
        }
        let (loc, sym, off) = self.symbolize(ra - 1);
        match sym {
            Some(_) => loc.replacen(&format!("+{off:#x}"), &format!("+{:#x}", off + 1), 1),
            None => self.symbolize(ra).0,
        }
    }

    /// Advance the simulated clock by `d` with thread 0 asleep (the `sleep SECONDS`
    /// command): timed waits that expire on the way return `EWOULDBLOCK` and their threads
    /// run, in deadline order.
    pub fn sleep(&mut self, d: Duration) -> Result<(), Fault> {
        let sbt = ((d.as_nanos() * (1u128 << 32)) / 1_000_000_000) as i64;
        let until = self.uptime_sbt() + sbt;
        kern::kern_switch::sched().set_main_name("sleep");
        self.exec_call(kern::kern_switch::sleep_until as *const () as usize, &[until as u64], None)
            .map(|_| ())
            .map_err(|a| self.fault(a))
    }

    /// Simulated `sbinuptime()`.
    pub fn uptime_sbt(&self) -> i64 {
        kern::kern_switch::sched().now
    }

    /// Simulated `ticks` (hz = 1000).
    pub fn ticks(&self) -> i64 {
        kern::kern_clock::ticks_at(self.uptime_sbt())
    }

    /// Context switches between simulated threads since boot.
    pub fn context_switches(&self) -> u64 {
        kern::kern_switch::sched().switches
    }

    /// The scheduler seed of this kernel (`None`: deterministic FIFO).
    pub fn sched_seed(&self) -> Option<u64> {
        kern::kern_switch::sched().seed
    }

    /// Live kernel threads: `(tid, name, state)` where state is `runnable` or
    /// `sleeping on "wmesg"`.
    pub fn threads(&self) -> Vec<(u32, String, String)> {
        kern::kern_switch::sched()
            .threads
            .iter()
            .skip(1)
            .filter_map(|t| {
                let st = match &t.state {
                    kern::kern_switch::TState::Exited => return None,
                    kern::kern_switch::TState::Blocked(w) if w.on_lock => format!("blocked on lock \"{}\"", w.wmesg),
                    kern::kern_switch::TState::Blocked(w) => format!("sleeping on \"{}\"", w.wmesg),
                    _ => "runnable".into(),
                };
                Some((t.tid, t.name.clone(), st))
            })
            .collect()
    }

    /// Describe `addr`: `symbol+0xoff (file.ko)`.
    pub fn symbolize(&self, addr: usize) -> (String, Option<String>, usize) {
        for f in &self.files {
            if let Some((name, off)) = f.image.symbolize(addr) {
                return (format!("{name}+{off:#x} ({})", f.image.filename), Some(name), off);
            }
            if f.image.contains(addr, 1) {
                return (format!("{}+{:#x}", f.image.filename, addr - f.image.base), None, 0);
            }
        }
        if let Some((name, off)) = self.ksyms.symbolize(addr) {
            return (format!("{name}+{off:#x} (kernel)"), Some(name.to_string()), off);
        }
        if addr == 0 {
            return ("unknown".into(), None, 0);
        }
        ("host code of the simulator (a kernel function stub)".into(), None, 0)
    }

    fn fault(&self, a: AbortInfo) -> Fault {
        let (kind, rip) = match a {
            AbortInfo::Signal { signo, code, addr, rip, rsp } => {
                let kind = match signo {
                    libc::SIGSEGV
                        if self.exec.in_stack_guard(addr)
                            || self.exec.in_stack_guard(rsp)
                            || kern::kern_switch::sched().in_stack_guard(addr)
                            || kern::kern_switch::sched().in_stack_guard(rsp) =>
                    {
                        FaultKind::StackOverflow { addr }
                    }
                    // SI_KERNEL: #GP (privileged instruction, non-canonical address).
                    libc::SIGSEGV if code == 0x80 => FaultKind::ProtectionFault,
                    libc::SIGSEGV => FaultKind::PageFault { addr },
                    libc::SIGBUS => FaultKind::BusError { addr },
                    libc::SIGILL => FaultKind::IllegalInstruction,
                    libc::SIGFPE => FaultKind::DivideError,
                    _ => FaultKind::Breakpoint,
                };
                (kind, rip)
            }
            AbortInfo::Timeout { rip, after } => (FaultKind::Timeout(after), rip),
            AbortInfo::Panic { message, caller } => (FaultKind::Panic(message), caller),
        };
        // A panic's `caller` is the return address of the call to panic(9); the call is
        // usually the last instruction of a noreturn path, so the return address can be the
        // first byte of the next function. Symbolise the call instruction's last byte
        // instead, as a debugger's backtrace does.
        let is_call = matches!(kind, FaultKind::Panic(_)) && rip != 0;
        let (location, symbol, offset) = if is_call {
            let (_, sym, off) = self.symbolize(rip - 1);
            match sym {
                Some(name) => {
                    let (loc, ..) = self.symbolize(rip - 1);
                    (loc.replacen(&format!("+{off:#x}"), &format!("+{:#x}", off + 1), 1), Some(name), off + 1)
                }
                None => self.symbolize(rip),
            }
        } else {
            self.symbolize(rip)
        };
        let thread = kern::kern_switch::sched().aborted_thread.take();
        Fault { kind, rip, location, symbol, offset, thread }
    }

    // ---- kern_linker.c ----

    fn read_usize(img: &Image, addr: usize) -> Option<usize> {
        // SAFETY: bounds-checked against the image, which is mapped readable.
        img.contains(addr, 8).then(|| unsafe { (addr as *const usize).read_unaligned() })
    }

    fn read_i32(img: &Image, addr: usize) -> Option<i32> {
        // SAFETY: bounds-checked against the image.
        img.contains(addr, 4).then(|| unsafe { (addr as *const i32).read_unaligned() })
    }

    fn read_cstr(img: &Image, addr: usize) -> Option<String> {
        let mut v = Vec::new();
        let mut a = addr;
        while img.contains(a, 1) {
            // SAFETY: bounds-checked.
            let b = unsafe { *(a as *const u8) };
            if b == 0 {
                return Some(String::from_utf8_lossy(&v).into_owned());
            }
            v.push(b);
            a += 1;
        }
        None
    }

    /// Walk `set_modmetadata_set`.
    fn metadata(img: &Image) -> Result<Vec<Md>, LoadError> {
        let Some((start, stop)) = img.set_bounds("modmetadata_set") else { return Ok(Vec::new()) };
        let bad = |what: &str| LoadError::Format(format!("kldload: {}: bad module metadata: {what}", img.filename));
        let mut out = Vec::new();
        let mut p = start;
        while p + 8 <= stop {
            let md = Self::read_usize(img, p).ok_or_else(|| bad("set entry"))?;
            let mtype = Self::read_i32(img, md + 4).ok_or_else(|| bad("mod_metadata pointer outside the file"))?;
            let data = Self::read_usize(img, md + 8).ok_or_else(|| bad("md_data"))?;
            let cval_p = Self::read_usize(img, md + 16).ok_or_else(|| bad("md_cval"))?;
            let cval = Self::read_cstr(img, cval_p).ok_or_else(|| bad("md_cval string"))?;
            out.push(Md { mtype, data, cval });
            p += 8;
        }
        Ok(out)
    }

    /// `modlist_lookup2`: the best provider of `name` within `[min, max]`, preferring `pref`.
    fn modlist_lookup2(&self, name: &str, ver: Option<(i32, i32, i32)>) -> Option<ModList> {
        let Some((min, pref, max)) = ver else {
            return self.modlist.iter().find(|m| m.name == name).cloned();
        };
        let mut best: Option<&ModList> = None;
        for m in self.modlist.iter().filter(|m| m.name == name) {
            if m.version == pref {
                return Some(m.clone());
            }
            if m.version >= min && m.version <= max && best.is_none_or(|b| m.version > b.version) {
                best = Some(m);
            }
        }
        best.cloned()
    }

    /// `kldload(2)`: link the file, resolve dependencies, register its modules, run its
    /// SYSINITs (which send `MOD_LOAD` through `module_register_init`).
    pub fn load(&mut self, path: &Path) -> Result<ModuleId, LoadError> {
        kern::kern_switch::sched().set_main_name("kldload");
        let r = self.load_inner(path);
        // A crash has printed itself; "cannot simulate" is the simulator's limit, not
        // something the kernel would print.
        if let Err(e) = &r
            && !matches!(e, LoadError::Crashed(_) | LoadError::NotSimulated { .. }) {
                let msg = format!("{e}\n");
                self.kprintf(&msg);
            }
        r
    }

    fn load_inner(&mut self, path: &Path) -> Result<ModuleId, LoadError> {
        let filename = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if self.files.iter().any(|f| f.image.filename == filename) {
            return Err(LoadError::FileExists(filename));
        }
        let mut img = Image::map(path, &mut self.arena)?;
        // link_elf_reloc_local: relocations against the file's own symbols.
        if let Err(e) = img.relocate(true, &|_| None) {
            img.unmap(&mut self.arena);
            return Err(e);
        }
        // linker_make_file takes the next file id at once (a dependency loaded from the
        // module path while this file is being linked gets the following one).
        let id = self.next_id;
        self.next_id += 1;
        // linker_load_dependencies
        let deps = match self.load_dependencies(&img, id) {
            Ok(d) => d,
            Err(e) => {
                img.unmap(&mut self.arena);
                return Err(e);
            }
        };
        // relocate_file: the rest, looking up the kernel first, then the dependencies.
        let r = {
            let ksyms = &self.ksyms;
            let dep_imgs: Vec<&Image> =
                deps.iter().filter_map(|d| self.files.iter().find(|f| f.id == *d)).map(|f| &f.image).collect();
            img.relocate(false, &|name| {
                ksyms.lookup(name).or_else(|| dep_imgs.iter().find_map(|i| i.lookup_export(name)))
            })
        };
        // The real kernel resolves every export of its release; what it does not export is
        // its refusal, what it exports but the simulator lacks is the simulator's limit.
        let r = match r {
            Err(LoadError::UndefinedSymbols(missing)) => {
                let (exported, undefined): (Vec<String>, Vec<String>) =
                    missing.into_iter().partition(|n| self.exports.contains(n.as_str()));
                Err(if undefined.is_empty() {
                    LoadError::NotSimulated { release: self.release.name.to_owned(), symbols: exported }
                } else {
                    LoadError::UndefinedSymbols(undefined)
                })
            }
            r => r,
        };
        if let Err(e) = r {
            self.drop_deps(&deps);
            self.modlist.retain(|m| m.file != Some(id));
            img.unmap(&mut self.arena);
            return Err(e);
        }
        img.protect(&self.arena);
        self.files.push(LinkerFile { id, image: img, refs: 1, userrefs: 0, deps, linked: false, sysctl_set: None });

        // linker_file_register_modules
        let md = Self::metadata(&self.file(id).expect("file").image)?;
        let mut first_error = None;
        for m in md.iter().filter(|m| m.mtype == MDT_MODULE) {
            let img = &self.file(id).expect("file").image;
            let name = Self::read_usize(img, m.data).and_then(|p| Self::read_cstr(img, p));
            let evhand = Self::read_usize(img, m.data + 8).unwrap_or(0);
            let priv_ = Self::read_usize(img, m.data + 16).unwrap_or(0);
            let Some(name) = name else { continue };
            let r = self.st_mut().modules.register(&name, evhand, priv_, id);
            if let Err(err) = r {
                let other = self.st().modules.file_of(&name).and_then(|f| self.file(f)).map(|f| f.image.filename.clone());
                let msg = format!(
                    "module_register: cannot register {name} from {filename}; already loaded from {}\nModule {name} failed to register: {err}\n",
                    other.clone().unwrap_or_default()
                );
                self.kprintf(&msg);
                if first_error.is_none() {
                    first_error = Some((name, other.unwrap_or_default()));
                }
            }
        }
        if let Some((module, other)) = first_error {
            // EEXIST: linker_file_unload(lf, LINKER_UNLOAD_FORCE)
            let _ = self.file_unload(id, true);
            return Err(LoadError::ModuleExists { module, file: filename, other });
        }
        let had_modules = !self.st().modules.of_file(id).is_empty();
        // linker_file_register_sysctls(lf, false): the static oids, dormant until the
        // SYSINITs ran (a CTLFLAG_TUN oid fetches its tunable now, through its handler).
        if let Err(f) = self.register_sysctls(id) {
            self.kprintf(&format!("{f}\n"));
            self.crash_teardown(id);
            return Err(LoadError::Crashed(Box::new(f)));
        }
        // linker_file_sysinit
        let inits = self.sysinits(id, "sysinit_set", false);
        for (_, _, func, udata) in inits {
            if let Err(a) = self.exec_call(func, &[udata as u64], None) {
                let f = self.fault(a);
                self.kprintf(&format!("{f}\n"));
                self.crash_teardown(id);
                return Err(LoadError::Crashed(Box::new(f)));
            }
        }
        if let Some(f) = self.files.iter_mut().find(|f| f.id == id) {
            f.linked = true;
        }
        // linker_file_enable_sysctls
        if let Some((a, b)) = self.file(id).and_then(|f| f.sysctl_set) {
            kern::kern_sysctl::enable_set(a, b);
        }
        if had_modules && self.st().modules.of_file(id).is_empty() {
            let _ = self.file_unload(id, true);
            return Err(LoadError::ModulesFailed { file: filename });
        }
        if let Some(f) = self.files.iter_mut().find(|f| f.id == id) {
            f.userrefs += 1;
        }
        Ok(ModuleId(id))
    }

    /// `linker_load_dependencies`: returns the files this one depends on (refs taken).
    fn load_dependencies(&mut self, img: &Image, id: u32) -> Result<Vec<u32>, LoadError> {
        let md = Self::metadata(img)?;
        for m in md.iter().filter(|m| m.mtype == MDT_VERSION) {
            let ver = Self::read_i32(img, m.data).unwrap_or(0);
            if let Some(p) = self.modlist.iter().find(|p| p.name == m.cval && p.version == ver) {
                let file = p.file.and_then(|f| self.file(f)).map(|f| f.image.filename.clone()).unwrap_or_else(|| "kernel".into());
                return Err(LoadError::InterfaceExists { module: m.cval.clone(), version: ver, file });
            }
        }
        let mut deps = Vec::new();
        for m in md.iter().filter(|m| m.mtype == MDT_DEPEND) {
            // A dependency on a module this file provides itself is skipped.
            if md.iter().any(|n| n.mtype == MDT_VERSION && n.cval == m.cval) {
                continue;
            }
            let v = (
                Self::read_i32(img, m.data).unwrap_or(0),
                Self::read_i32(img, m.data + 4).unwrap_or(0),
                Self::read_i32(img, m.data + 8).unwrap_or(0),
            );
            match self.modlist_lookup2(&m.cval, Some(v)) {
                Some(p) => {
                    if let Some(f) = p.file
                        && let Some(lf) = self.files.iter_mut().find(|x| x.id == f) {
                            lf.refs += 1;
                            deps.push(f);
                        }
                }
                None => {
                    // linker_load_module(NULL, modname, lf, verinfo): find a file providing
                    // the module in the module path and load it; it belongs to the kernel
                    // (no user reference) and goes away with its last dependent.
                    let found = self.search_module(&m.cval, v);
                    let loaded = match found.map(|path| self.load_inner(&path)) {
                        Some(Ok(dep)) => Some(dep),
                        // The dependency needs what the simulator lacks: say so, not
                        // "not available".
                        Some(Err(e @ LoadError::NotSimulated { .. })) => {
                            self.drop_deps(&deps);
                            return Err(e);
                        }
                        Some(Err(e)) => {
                            if !matches!(e, LoadError::Crashed(_)) {
                                self.kprintf(&format!("{e}\n"));
                            }
                            None
                        }
                        None => None,
                    };
                    match loaded {
                        Some(dep) if self.modlist_lookup2(&m.cval, Some(v)).is_some() => {
                            if let Some(lf) = self.files.iter_mut().find(|x| x.id == dep.0) {
                                lf.userrefs = 0;
                            }
                            deps.push(dep.0);
                        }
                        _ => {
                            self.drop_deps(&deps);
                            return Err(LoadError::Dependency { file: img.filename.clone(), module: m.cval.clone() });
                        }
                    }
                }
            }
        }
        // linker_addmodules
        for m in md.iter().filter(|m| m.mtype == MDT_VERSION) {
            let ver = Self::read_i32(img, m.data).unwrap_or(0);
            self.modlist.push(ModList { name: m.cval.clone(), version: ver, file: Some(id) });
        }
        Ok(deps)
    }

    /// `linker_search_module` + `linker_hints_lookup`: the `.ko` in the module path whose
    /// `MODULE_VERSION(name, v)` fits `(min, pref, max)`, the preferred version first, else
    /// the newest in range (as `kldxref`'s `linker.hints` would name it).
    fn search_module(&mut self, name: &str, (min, pref, max): (i32, i32, i32)) -> Option<std::path::PathBuf> {
        let mut best: Option<(i32, std::path::PathBuf)> = None;
        for dir in self.module_path.clone() {
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<std::path::PathBuf> =
                rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "ko")).collect();
            files.sort();
            for path in files {
                let fname = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                if self.files.iter().any(|f| f.image.filename == fname) {
                    continue;
                }
                let Ok(mut img) = Image::map(&path, &mut self.arena) else { continue };
                let versions: Vec<i32> = match img.relocate(true, &|_| None).ok().and(Self::metadata(&img).ok()) {
                    Some(md) => md
                        .iter()
                        .filter(|m| m.mtype == MDT_VERSION && m.cval == name)
                        .filter_map(|m| Self::read_i32(&img, m.data))
                        .collect(),
                    None => Vec::new(),
                };
                img.unmap(&mut self.arena);
                for v in versions {
                    if v == pref {
                        return Some(path);
                    }
                    if v >= min && v <= max && best.as_ref().is_none_or(|(b, _)| v > *b) {
                        best = Some((v, path.clone()));
                    }
                }
            }
        }
        best.map(|(_, p)| p)
    }

    fn drop_deps(&mut self, deps: &[u32]) {
        for d in deps {
            if let Some(f) = self.files.iter_mut().find(|f| f.id == *d) {
                f.refs -= 1;
            }
        }
    }

    /// The SYSINITs (or SYSUNINITs) of file `id`, sorted like `linker_file_sysinit` /
    /// `linker_file_sysuninit` (the kernel's in-place bubble sort, written back to the set):
    /// `(subsystem, order, func, udata)`, dummies removed.
    fn sysinits(&mut self, id: u32, set: &str, reverse: bool) -> Vec<(u32, u32, usize, usize)> {
        let sz = self.release.sysinit_size;
        let Some(f) = self.file(id) else { return Vec::new() };
        let img = &f.image;
        let Some((start, stop)) = img.set_bounds(set) else { return Vec::new() };
        let mut ptrs: Vec<usize> = (start..stop).step_by(8).filter_map(|p| Self::read_usize(img, p)).collect();
        let key = |p: usize| (Self::read_i32(img, p).unwrap_or(0) as u32, Self::read_i32(img, p + 4).unwrap_or(0) as u32);
        for i in 0..ptrs.len() {
            for j in i + 1..ptrs.len() {
                let (a, b) = (key(ptrs[i]), key(ptrs[j]));
                let skip = if reverse {
                    a.0 > b.0 || (a.0 == b.0 && a.1 >= b.1)
                } else {
                    a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1)
                };
                if !skip {
                    ptrs.swap(i, j);
                }
            }
        }
        // The set is writable (DATA_WSET); the kernel leaves it sorted.
        for (k, p) in ptrs.iter().enumerate() {
            if img.contains(start + 8 * k, 8) {
                // SAFETY: inside the writable set section of the image.
                unsafe { ((start + 8 * k) as *mut usize).write_unaligned(*p) };
            }
        }
        let func_off = if sz == 32 { 16 } else { 8 };
        ptrs.iter()
            .filter_map(|&p| {
                let (sub, order) = key(p);
                let func = Self::read_usize(img, p + func_off)?;
                let udata = Self::read_usize(img, p + func_off + 8)?;
                Some((sub, order, func, udata))
            })
            .filter(|s| s.0 != SI_SUB_DUMMY)
            .collect()
    }

    fn event(&mut self, handler: usize, handle: usize, what: i32, arg: usize) -> Result<i32, Fault> {
        if handler == 0 {
            return Ok(kern::module::modevent_nop(what));
        }
        self.exec_call(handler, &[handle as u64, what as u64, arg as u64], None)
            .map(|r| r as i32)
            .map_err(|a| self.fault(a))
    }

    /// `kldunload(2)`: `MOD_QUIESCE` then `MOD_UNLOAD` for each module of the file, then its
    /// SYSUNINITs in reverse order. A refusal keeps the file loaded and returns the error.
    /// Unloading a file other files depend on only drops the user reference (the kernel's
    /// `linker_file_unload` with `refs > 1`): it goes away with its last dependent.
    pub fn unload(&mut self, id: ModuleId) -> Result<(), UnloadError> {
        self.kldunloadf(id, false)
    }

    /// `kldunload -f` (`kldunloadf(2)` with `LINKER_UNLOAD_FORCE`): like
    /// [`Kernel::unload`], but a module's `MOD_QUIESCE` refusal is ignored and `MOD_UNLOAD`
    /// is sent anyway (kern_linker.c `linker_file_unload`: `if (error != 0 && flags !=
    /// LINKER_UNLOAD_FORCE)` returns the quiesce error, otherwise it goes on to
    /// `module_unload`). A `MOD_UNLOAD` error still keeps the file loaded.
    pub fn unload_force(&mut self, id: ModuleId) -> Result<(), UnloadError> {
        self.kldunloadf(id, true)
    }

    fn kldunloadf(&mut self, id: ModuleId, force: bool) -> Result<(), UnloadError> {
        kern::kern_switch::sched().set_main_name("kldunload");
        let r = self.unload_inner(id.0, force);
        if let Err(e) = &r
            && !matches!(e, UnloadError::Crashed(_)) {
                self.kprintf(&format!("{e}\n"));
            }
        r
    }

    fn unload_inner(&mut self, id: u32, force: bool) -> Result<(), UnloadError> {
        let Some(f) = self.files.iter_mut().find(|f| f.id == id) else { return Err(UnloadError::NoSuchFile(id)) };
        if f.userrefs == 0 {
            return Err(UnloadError::NotUserLoaded);
        }
        f.userrefs -= 1;
        let r = self.file_unload(id, force);
        if r.is_err()
            && let Some(f) = self.files.iter_mut().find(|f| f.id == id) {
                f.userrefs += 1;
            }
        r
    }

    /// `linker_file_unload(file, flags)`. The other threads do not run after each of the
    /// file's calls returns (they would run on other CPUs meanwhile): the file is checked
    /// for threads still in its text before it is freed, then the CPU goes idle.
    fn file_unload(&mut self, id: u32, force: bool) -> Result<(), UnloadError> {
        let deferred = std::mem::replace(&mut kern::kern_switch::sched().defer_drain, true);
        let r = self.file_unload_deferred(id, force);
        kern::kern_switch::sched().defer_drain = deferred;
        if !deferred && kern::kern_switch::has_runnable() {
            extern "C" fn idle() -> u64 {
                0
            }
            if let Err(a) = self.exec_call(idle as *const () as usize, &[], None) {
                let fault = self.fault(a);
                self.kprintf(&format!("{fault}\n"));
                if r.is_ok() {
                    return Err(UnloadError::Crashed(Box::new(fault)));
                }
            }
        }
        r
    }

    fn file_unload_deferred(&mut self, id: u32, force: bool) -> Result<(), UnloadError> {
        let Some(f) = self.files.iter_mut().find(|f| f.id == id) else { return Ok(()) };
        if f.refs > 1 {
            f.refs -= 1;
            return Ok(());
        }
        let mods = self.st().modules.of_file(id);
        for (name, handler, handle, arg) in &mods {
            let mut e = match self.event(*handler, *handle, MOD_QUIESCE, *arg) {
                Ok(e) => e,
                Err(fault) => return Err(self.crashed(id, fault)),
            };
            if e == EOPNOTSUPP || e == EINVAL {
                e = 0;
            }
            if e != 0 && !force {
                return Err(UnloadError::Quiesce { module: name.clone(), error: e });
            }
        }
        for (name, handler, handle, arg) in &mods {
            let e = match self.event(*handler, *handle, MOD_UNLOAD, *arg) {
                Ok(e) => e,
                Err(fault) => return Err(self.crashed(id, fault)),
            };
            if e != 0 {
                return Err(UnloadError::Unload { module: name.clone(), error: e });
            }
            self.st_mut().modules.release(name);
        }
        self.modlist.retain(|m| m.file != Some(id));
        let linked = self.file(id).is_some_and(|f| f.linked);
        if linked {
            if let Some(f) = self.files.iter_mut().find(|f| f.id == id) {
                f.linked = false;
            }
            self.unregister_sysctls(id);
            for (_, _, func, udata) in self.sysinits(id, "sysuninit_set", true) {
                if let Err(a) = self.exec_call(func, &[udata as u64], None) {
                    let fault = self.fault(a);
                    return Err(self.crashed(id, fault));
                }
            }
        }
        self.unregister_sysctls(id);
        self.check_threads_gone(id);
        self.check_deferred_gone(id);
        self.check_devices_gone(id);
        self.check_sysctls_gone(id);
        self.settle_malloc_callers();
        let pos = self.files.iter().position(|f| f.id == id).expect("file");
        let f = self.files.remove(pos);
        kern::kern_switch::sched().locks.retain(|&lo, _| !f.image.contains(lo, 1));
        for d in &f.deps {
            let _ = self.file_unload(*d, force);
        }
        f.image.unmap(&mut self.arena);
        Ok(())
    }

    /// A file's code must be unused when it is freed: a thread still running, runnable or
    /// asleep with a return address into its text (or not started, its function in the file)
    /// would execute freed memory in the kernel (`kern/kern_linker.rs`). Reported as a panic
    /// naming the thread and where it is; the thread is never run again.
    fn check_threads_gone(&mut self, id: u32) {
        let Some(f) = self.file(id) else { return };
        let name = f.image.filename.clone();
        let stale = kern::kern_linker::threads_in_text(&f.image);
        if stale.is_empty() {
            return;
        }
        for t in &stale {
            let at = if t.is_return {
                self.symbolize_return(t.addr)
            } else {
                format!("{} (not started yet)", self.symbolize(t.addr).0)
            };
            let msg = format!(
                "kldunload: thread {} ({}) still executing in unloaded module {name} at {at}: the file was freed after MOD_UNLOAD and its SYSUNINITs (kern_linker.c linker_file_unload); join the thread before MOD_UNLOAD returns (sleep on its struct thread until kthread_exit's wakeup(td))",
                t.tid, t.name
            );
            self.kprintf(&format!("panic: {msg}\n"));
            self.st_mut().panics.push(msg);
        }
        kern::kern_switch::sched().kill(&stale.iter().map(|t| t.tid).collect::<Vec<_>>());
    }

    /// Callouts, tasks and event handlers of an unloaded file must be gone: the kernel would
    /// call their freed code or touch their freed `struct callout`/`struct task`.
    fn check_deferred_gone(&mut self, id: u32) {
        let Some(f) = self.file(id) else { return };
        let name = f.image.filename.clone();
        let (lo, hi) = (f.image.base, f.image.base + f.image.len);
        let mut what: Vec<String> = kern::kern_timeout::pending_in(lo, hi)
            .into_iter()
            .map(|(c, func)| format!("callout {c:#x} (function {})", self.symbolize(func).0))
            .collect();
        what.extend(kern::subr_taskqueue::pending_in(lo, hi).into_iter().map(|(t, func, q)| {
            if func == 0 {
                format!("taskqueue \"{q}\" (never freed with taskqueue_free)")
            } else {
                format!("task {t:#x} (function {}) on taskqueue \"{q}\"", self.symbolize(func).0)
            }
        }));
        what.extend(
            kern::subr_eventhandler::registered_in(lo, hi)
                .into_iter()
                .map(|(l, func)| format!("event handler {} on \"{l}\"", self.symbolize(func).0)),
        );
        what.extend(
            kern::sys_generic::queued_selinfo_in(lo, hi)
                .into_iter()
                .map(|(s, n)| format!("struct selinfo {s:#x} with {n} thread(s) in poll(2) (seldrain it)")),
        );
        kern::sys_generic::forget_selinfo_in(lo, hi);
        kern::kern_timeout::forget_in(lo, hi);
        kern::subr_taskqueue::forget_in(lo, hi);
        kern::subr_eventhandler::forget_in(lo, hi);
        if what.is_empty() {
            return;
        }
        let msg = format!(
            "kldunload: {name}: still armed after the module was unloaded: {}: the kernel would run freed code (callout_drain, taskqueue_drain/taskqueue_free and EVENTHANDLER_DEREGISTER in MOD_UNLOAD)",
            what.join(", ")
        );
        self.kprintf(&format!("panic: {msg}\n"));
        self.st_mut().panics.push(msg);
    }

    /// A module's devices must be destroyed when its code goes: devfs would call the
    /// methods of its cdevsw in freed memory (`destroy_dev` in `MOD_UNLOAD`).
    fn check_devices_gone(&mut self, id: u32) {
        let Some(f) = self.file(id) else { return };
        let name = f.image.filename.clone();
        let gone = kern::kern_conf::forget_devices_in(|a| f.image.contains(a, 1));
        if gone.is_empty() {
            return;
        }
        let list: Vec<String> = gone.iter().map(|n| format!("/dev/{n}")).collect();
        let msg = format!(
            "kldunload: {name}: device(s) {} still exist after the module was unloaded: their cdevsw is freed code (destroy_dev them in MOD_UNLOAD)",
            list.join(", ")
        );
        self.kprintf(&format!("panic: {msg}\n"));
        self.st_mut().panics.push(msg);
    }

    /// Run the kernel's event handler list `which` (0 `shutdown_pre_sync`, 1
    /// `shutdown_final`, 2 `vm_lowmem`) with `arg`, as thread 0.
    fn invoke_eventhandler(&mut self, which: u64, arg: i32) -> Result<(), Fault> {
        self.exec_call(kern::subr_eventhandler::invoke_entry as *const () as usize, &[which, arg as u64], None)
            .map(|_| ())
            .map_err(|a| self.fault(a))
    }

    /// The page daemon is short of memory (`vm_pageout_lowmem()`, sys/vm/vm_pageout.c):
    /// `EVENTHANDLER_INVOKE(vm_lowmem, VM_LOW_PAGES)` (the `lowmem` command).
    pub fn lowmem(&mut self) -> Result<(), Fault> {
        kern::kern_switch::sched().set_main_name("pagedaemon");
        self.invoke_eventhandler(2, kern::subr_eventhandler::VM_LOW_PAGES)
    }

    /// Names of the live device nodes (`/dev/<name>`), in creation order.
    pub fn devices(&self) -> Vec<String> {
        self.st().devfs.names()
    }

    fn crashed(&mut self, id: u32, fault: Fault) -> UnloadError {
        self.kprintf(&format!("{fault}\n"));
        self.crash_teardown(id);
        UnloadError::Crashed(Box::new(fault))
    }

    /// After a crash in module code the real kernel is dead; the simulator removes the file
    /// without running any more of its code so the process can go on (its leaked allocations
    /// stay visible in [`Kernel::malloc_stats`]).
    fn crash_teardown(&mut self, id: u32) {
        self.unregister_sysctls(id);
        self.check_sysctls_gone(id);
        let mods = self.st().modules.of_file(id);
        for (name, ..) in mods {
            self.st_mut().modules.release(&name);
        }
        self.modlist.retain(|m| m.file != Some(id));
        self.settle_malloc_callers();
        if let Some(f) = self.file(id) {
            kern::kern_conf::forget_devices_in(|a| f.image.contains(a, 1));
        }
        if let Some(pos) = self.files.iter().position(|f| f.id == id) {
            let f = self.files.remove(pos);
            kern::kern_switch::sched().locks.retain(|&lo, _| !f.image.contains(lo, 1));
            self.drop_deps(&f.deps);
            f.image.unmap(&mut self.arena);
        }
    }

    /// Shut down like `kern_reboot(RB_AUTOBOOT)` (sys/kern/kern_shutdown.c): the
    /// `shutdown_pre_sync` event handlers, then `MOD_SHUTDOWN` to every module
    /// (`module_shutdown`, a `shutdown_post_sync` handler), then the `shutdown_final`
    /// handlers. Returns the modules' `MOD_SHUTDOWN` results.
    pub fn shutdown(&mut self) -> Result<Vec<(String, i32)>, Fault> {
        kern::kern_switch::sched().set_main_name("reboot");
        self.invoke_eventhandler(0, kern::subr_eventhandler::RB_AUTOBOOT)?;
        let out = self.module_shutdown()?;
        self.invoke_eventhandler(1, kern::subr_eventhandler::RB_AUTOBOOT)?;
        Ok(out)
    }

    fn module_shutdown(&mut self) -> Result<Vec<(String, i32)>, Fault> {
        let mods: Vec<_> = self.st().modules.mods.iter().map(|m| (m.name.clone(), m.handler, m.handle.as_ptr() as usize, m.arg)).collect();
        let mut out = Vec::new();
        for (name, handler, handle, arg) in mods {
            out.push((name, self.event(handler, handle, MOD_SHUTDOWN, arg)?));
        }
        Ok(out)
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        for f in std::mem::take(&mut self.files) {
            f.image.unmap(&mut self.arena);
        }
        self.st_mut().malloc.release_all();
        kern::kern_sysctl::shutdown();
        kern::kern_switch::uninstall();
        kern::uninstall(self.st);
        // SAFETY: uninstalled; no module code can run any more.
        drop(unsafe { Box::from_raw(self.st) });
    }
}

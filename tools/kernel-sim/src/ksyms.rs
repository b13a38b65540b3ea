//! The simulated kernel's symbol table.
//!
//! Undefined symbols of an `ET_REL` object are `STT_NOTYPE`, so the registry itself says what
//! each name is: a function, a variadic function (reached through an assembly shim that spills
//! the argument registers, since stable Rust cannot define C-variadic functions) or a data
//! object. Functions are reached through `jmp *0(%rip); .quad target` trampolines in the low
//! arena: they change no register, in particular not `%al`, which carries the number of vector
//! registers of a variadic call (SysV AMD64 ABI). Data objects live in the arena as well,
//! because gcc reaches them RIP-relative (`R_X86_64_PC32`).
//!
//! Future KPI (locks, sysctl, cdev) is added by appending [`KsymDef`]s to
//! [`default_symbols`] (a `kern/*.rs` file's `symbols(v)`) or by passing extra ones in
//! `SimOptions::extra_symbols`.
//!
//! **One table per release.** A simulated kernel exports only what the real kernel of its
//! release exports: [`release_symbols`] keeps the implemented symbols that the release
//! folder's `kernel-exports.txt` (generated from the real headers, see
//! `ci/kernel-exports.py`) lists, so `malloc_aligned` does not exist on 13.1. `cargo kmod
//! check` reads the same list ([`kernel_exports`]); a stub only needs its name in that list.

use std::collections::{BTreeMap, HashMap};

use crate::arena::{Arena, ArenaError, PAGE_SIZE, round_up};

/// What a kernel symbol is.
#[derive(Debug, Clone)]
pub enum KsymKind {
    /// An ordinary `extern "C"` function at a host address.
    Function(usize),
    /// A C-variadic function: the host address of its assembly shim.
    VariadicFunction(usize),
    /// A data object: its initial bytes (size = length) and alignment.
    Data {
        /// Initial contents.
        init: Vec<u8>,
        /// Required alignment.
        align: usize,
    },
}

/// One symbol the simulated kernel exports.
#[derive(Debug, Clone)]
pub struct KsymDef {
    /// Symbol name as the module references it.
    pub name: String,
    /// What it is.
    pub kind: KsymKind,
}

impl KsymDef {
    /// A plain function.
    pub fn function(name: &str, addr: usize) -> KsymDef {
        KsymDef { name: name.into(), kind: KsymKind::Function(addr) }
    }
    /// A variadic function (address of its shim).
    pub fn variadic(name: &str, addr: usize) -> KsymDef {
        KsymDef { name: name.into(), kind: KsymKind::VariadicFunction(addr) }
    }
    /// A data object.
    pub fn data(name: &str, init: Vec<u8>, align: usize) -> KsymDef {
        KsymDef { name: name.into(), kind: KsymKind::Data { init, align } }
    }
}

/// Size of one trampoline: `ff 25 00 00 00 00` + 8-byte target, padded to 16.
const TRAMPOLINE: usize = 16;

/// The resolved kernel symbol table (addresses in the arena).
#[derive(Debug, Default)]
pub struct KernelSymbols {
    by_name: HashMap<String, usize>,
    by_addr: BTreeMap<usize, String>,
    /// Trampoline address -> host target.
    targets: HashMap<usize, usize>,
    regions: Vec<(usize, usize)>,
}

impl KernelSymbols {
    /// Build trampolines and data objects for `defs` in the arena.
    pub fn build(arena: &mut Arena, defs: &[KsymDef]) -> Result<KernelSymbols, ArenaError> {
        let nfunc = defs.iter().filter(|d| !matches!(d.kind, KsymKind::Data { .. })).count();
        let text_len = round_up((nfunc * TRAMPOLINE).max(1), PAGE_SIZE);
        let mut data_len = 0usize;
        for d in defs {
            if let KsymKind::Data { init, align } = &d.kind {
                data_len = round_up(data_len, (*align).max(1)) + init.len().max(1);
            }
        }
        let data_len = round_up(data_len.max(1), PAGE_SIZE);
        let text = arena.alloc(text_len)?;
        let data = arena.alloc(data_len)?;
        let mut ks = KernelSymbols::default();
        let (mut t, mut dofs) = (text, 0usize);
        for d in defs {
            let addr = match &d.kind {
                KsymKind::Function(target) | KsymKind::VariadicFunction(target) => {
                    let mut code = [0u8; TRAMPOLINE];
                    code[..6].copy_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
                    code[6..14].copy_from_slice(&(*target as u64).to_le_bytes());
                    code[14..].copy_from_slice(&[0xcc, 0xcc]);
                    // SAFETY: t is inside the freshly allocated RW text run.
                    unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), t as *mut u8, TRAMPOLINE) };
                    ks.targets.insert(t, *target);
                    t += TRAMPOLINE;
                    t - TRAMPOLINE
                }
                KsymKind::Data { init, align } => {
                    dofs = round_up(dofs, (*align).max(1));
                    let a = data + dofs;
                    // SAFETY: a..a+len is inside the freshly allocated RW data run.
                    unsafe { std::ptr::copy_nonoverlapping(init.as_ptr(), a as *mut u8, init.len()) };
                    dofs += init.len().max(1);
                    a
                }
            };
            ks.by_name.insert(d.name.clone(), addr);
            ks.by_addr.insert(addr, d.name.clone());
        }
        arena.protect(text, text_len, libc::PROT_READ | libc::PROT_EXEC);
        ks.regions = vec![(text, text_len), (data, data_len)];
        Ok(ks)
    }

    /// Address of `name`, if the kernel exports it.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Name of the kernel symbol at or below `addr` (within its trampoline or object).
    pub fn symbolize(&self, addr: usize) -> Option<(&str, usize)> {
        let (a, n) = self.by_addr.range(..=addr).next_back()?;
        if !self.regions.iter().any(|&(s, l)| addr >= s && addr < s + l) {
            return None;
        }
        Some((n.as_str(), addr - a))
    }

    /// The regions (start, len) to release at shutdown.
    pub fn regions(&self) -> &[(usize, usize)] {
        &self.regions
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The symbols the real kernel of `release` exports to modules, by name (the release
/// folder's `kernel-exports.txt`): the one table `cargo kmod check` and the simulator share.
pub fn kernel_exports(release: crate::SimRelease) -> BTreeMap<&'static str, freebsd_kpi::kpi::KernelExport> {
    release.bindings().kernel_exports().map(|e| (e.name, e)).collect()
}

/// What the simulated kernel of `release` exports: every implemented symbol
/// ([`default_symbols`]) that the real kernel of that release exports.
pub fn release_symbols(release: crate::SimRelease) -> Vec<KsymDef> {
    let exports = kernel_exports(release);
    default_symbols().into_iter().filter(|d| exports.contains_key(d.name.as_str())).collect()
}

/// Every symbol the simulator implements (all releases; see [`release_symbols`]).
pub fn default_symbols() -> Vec<KsymDef> {
    let mut v = Vec::new();
    crate::kern::printf::symbols(&mut v);
    crate::kern::panic::symbols(&mut v);
    crate::kern::malloc::symbols(&mut v);
    crate::kern::module::symbols(&mut v);
    crate::kern::libkern::symbols(&mut v);
    crate::kern::kern_clock::symbols(&mut v);
    crate::kern::kern_conf::symbols(&mut v);
    crate::kern::devfs_vnops::symbols(&mut v);
    crate::kern::sys_generic::symbols(&mut v);
    crate::kern::subr_uio::symbols(&mut v);
    crate::kern::kern_priv::symbols(&mut v);
    crate::kern::kern_mutex::symbols(&mut v);
    crate::kern::kern_sx::symbols(&mut v);
    crate::kern::kern_condvar::symbols(&mut v);
    crate::kern::kern_synch::symbols(&mut v);
    crate::kern::kern_kthread::symbols(&mut v);
    crate::kern::kern_switch::symbols(&mut v);
    crate::kern::subr_pcpu::symbols(&mut v);
    crate::kern::kern_timeout::symbols(&mut v);
    crate::kern::subr_taskqueue::symbols(&mut v);
    crate::kern::subr_eventhandler::symbols(&mut v);
    crate::kern::kern_sysctl::symbols(&mut v);
    crate::kern::kern_environment::symbols(&mut v);
    v
}

//! malloc(9) with per-type accounting (`sys/kern/kern_malloc.c`, `sys/sys/malloc.h`),
//! behaving like an INVARIANTS kernel.
//!
//! * `struct malloc_type` (112 bytes): `ks_next@0`, `ks_version@8`, `ks_shortdesc@16`
//!   (FACTS.md §3, probe on the 14.2/15.0 headers).
//! * `malloc_init()` panics with `malloc_init: type %s with unsupported version %lu` when
//!   `ks_version != M_VERSION` of the running release; `malloc_uninit()` prints
//!   `Warning: memory type %s leaked memory on destroy (%ld allocations, %ld bytes leaked).`
//!   (text of `malloc_uninit()` in kern_malloc.c).
//! * Sizes are accounted like the kernel's zones (`kmemzones[]`: 16, 32, 64, 128, 256, 384,
//!   512, 1024 ... 65536; larger requests go to `malloc_large`, rounded to pages) and results
//!   are aligned like them: a power-of-two zone to its size (at most `PAGE_SIZE`), the 384
//!   zone to 128, large allocations to pages; so never less than 16 bytes.
//! * `malloc_domainset_aligned()` validates `align` with the kernel's KASSERT messages and
//!   allocates `size <= align ? align : 1 << flsl(size - 1)`.
//! * **The kmem limit.** `kmeminit()` sizes the kmem arena (`vm_kmem_size`, exported to
//!   modules, `vm/vm_kern.h`) and hands it to `uma_set_limit()`; the simulator's is
//!   [`SimOptions::kmem`](crate::SimOptions::kmem) (`cargo kmod run --kmem`, default
//!   [`DEFAULT_KMEM_SIZE`]). Every live allocation counts its zone (or page-rounded) size
//!   against it. A request that does not fit: with `M_NOWAIT`, NULL. With `M_WAITOK`, if it
//!   is larger than the whole arena it can never be satisfied, and the kernel's
//!   `KASSERT((flags & M_WAITOK) == 0, ("malloc(M_WAITOK) returned NULL"))` (malloc() in
//!   kern_malloc.c) is the panic, at the caller; if it could fit once memory is freed it is a
//!   sleep (`sleep_for_kmem()`, the scheduler's hook), reported as a deadlock while nothing
//!   else can run. No size, alignment or flag value makes the host code fail: every size
//!   computation is checked, a host allocation failure is handled (a host panic would run
//!   Rust's panic and unwind machinery on the 16 KiB kernel stack, which is how a 1 TiB
//!   request used to overflow it).
//! * **Flag checks of INVARIANTS kernels.** Not exactly one of `M_WAITOK`/`M_NOWAIT`:
//!   `Bad malloc flags: %x` and a backtrace, then `flags |= M_WAITOK`, once per boot
//!   (`malloc_dbg()` in kern_malloc.c); every occurrence is also recorded
//!   ([`MallocState::bad_flags`]). `M_USE_RESERVE` without `M_NOWAIT` panics with
//!   `M_USE_RESERVE requires M_NOWAIT` (the KASSERT of `malloc2vm_flags()`, vm/vm_page.h; a
//!   kernel only reaches it when the request goes to the page allocator, the simulator checks
//!   every request).
//! * **Trash on free, verify on reuse** (`mtrash_dtor`/`mtrash_ctor`, vm/uma_dbg.c, the
//!   ctor/dtor of the malloc zones under INVARIANTS, `mallocinit()`): a freed zone item is
//!   filled with `0xdeadc0de` except its last pointer-sized word, where `free_save_type()`
//!   stores the type that freed it; it is kept for reuse (LIFO per zone, like UMA's buckets),
//!   and when it is handed out again any word that changed panics: `Memory modified after
//!   free %p(%d) val=%x @ %p` then `panic: Most recently used by <type>`. Fresh memory
//!   without `M_ZERO` is trash as well. Large allocations (`malloc_large`) are not trashed,
//!   as in the kernel.
//! * **realloc** as kern_malloc.c does it: the block is reused in place when the new size
//!   fits its real (zone or page-rounded) size and is more than half of it (or the zone is
//!   `MINALLOCSIZE`), with no change to the accounting; otherwise malloc, copy
//!   `min(size, real size)`, free.
//! * Simulator checks the kernel leaves to INVARIANTS or to luck, reported as panics: use of a
//!   type before `malloc_init`, free of an address malloc never returned (or freed twice), and
//!   free/realloc with a different type than the allocation's.
//! * Every panic names the caller: the stubs are entered through shims that pass the return
//!   address into module code, so a fault report shows the module's symbol + offset.

use std::alloc::Layout;
use std::collections::{BTreeMap, HashMap};

use super::panic::kernel_panic;
use super::{console_write, cstr, with};
use crate::ksyms::KsymDef;

/// `M_NOWAIT` (sys/sys/malloc.h).
pub const M_NOWAIT: i32 = 0x1;
/// `M_WAITOK`.
pub const M_WAITOK: i32 = 0x2;
/// `M_ZERO`.
pub const M_ZERO: i32 = 0x100;
/// `M_USE_RESERVE`.
pub const M_USE_RESERVE: i32 = 0x400;
const PAGE_SIZE: usize = 4096;
/// `kmem_zmax`: larger requests use `malloc_large`.
const KMEM_ZMAX: usize = 65536;
/// The smallest zone (`kmemzones[0]`), realloc's `MINALLOCSIZE` case.
const MINALLOCSIZE: usize = 16;
/// `uma_junk` (vm/uma_dbg.c).
const UMA_JUNK: u32 = 0xdead_c0de;
/// Freed zone items kept (trashed) for reuse, in bytes; beyond this they go back to the host.
const FREE_CACHE_BYTES: usize = 16 << 20;

/// Default `vm_kmem_size` of a simulated kernel: 1 GiB, what `kmeminit()` computes on an
/// amd64 machine with 1 GiB of RAM (`VM_KMEM_SIZE_SCALE` 1, machine/vmparam.h: the arena is
/// the physical memory size up to 3/5 of the kernel address space). Small enough that the
/// host can back every byte, large enough for any reasonable module.
pub const DEFAULT_KMEM_SIZE: usize = 1 << 30;

/// Accounting for one malloc type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MallocTypeStats {
    /// `ks_shortdesc`.
    pub name: String,
    /// Address of the `struct malloc_type`.
    pub mtp: usize,
    /// Whether `malloc_init` ran and `malloc_uninit` has not.
    pub initialized: bool,
    /// Allocations not yet freed.
    pub live_allocs: u64,
    /// Bytes (zone-rounded, as the kernel accounts) not yet freed.
    pub live_bytes: u64,
    /// Allocations ever made.
    pub total_allocs: u64,
    /// Frees ever made.
    pub total_frees: u64,
}

#[derive(Debug)]
struct Alloc {
    layout: Layout,
    accounted: usize,
    mtp: usize,
}

/// A malloc(9) call with flags that are not exactly one of `M_WAITOK`/`M_NOWAIT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFlags {
    /// The flags passed.
    pub flags: i32,
    /// Return address into the caller.
    pub caller: usize,
    /// `symbol+offset (file.ko)` of the caller, filled in before its file is unloaded.
    pub location: Option<String>,
}

/// State of the simulated allocator.
#[derive(Debug, Default)]
pub struct MallocState {
    types: BTreeMap<usize, MallocTypeStats>,
    allocs: HashMap<usize, Alloc>,
    /// `M_VERSION` of the simulated release.
    pub m_version: u64,
    nowait_seen: u64,
    nowait_fail_at: Option<u64>,
    nowait_exhausted_from: Option<u64>,
    nowait_total: u64,
    /// `vm_kmem_size`.
    kmem_size: usize,
    /// Bytes of live allocations (zone / page rounded).
    kmem_used: usize,
    /// Freed, trashed zone items by zone size, most recently freed last.
    free_items: BTreeMap<usize, Vec<usize>>,
    cached_bytes: usize,
    /// Items found modified after free: kept out of circulation until shutdown.
    poisoned: Vec<usize>,
    bad_flags: Vec<BadFlags>,
}

impl MallocState {
    /// New allocator for a release with the given `M_VERSION` and [`DEFAULT_KMEM_SIZE`].
    pub fn new(m_version: u64) -> MallocState {
        MallocState::with_kmem(m_version, DEFAULT_KMEM_SIZE)
    }

    /// New allocator with a kmem arena of `kmem_size` bytes (`vm_kmem_size`).
    pub fn with_kmem(m_version: u64, kmem_size: usize) -> MallocState {
        MallocState { m_version, kmem_size, ..Default::default() }
    }

    /// `vm_kmem_size`: the size of the kmem arena.
    pub fn kmem_size(&self) -> usize {
        self.kmem_size
    }

    /// Bytes of the kmem arena in use by live allocations.
    pub fn kmem_used(&self) -> usize {
        self.kmem_used
    }

    /// Every malloc(9) call so far whose flags were not exactly one of `M_WAITOK` and
    /// `M_NOWAIT` (the kernel prints only the first, `Bad malloc flags: %x`).
    pub fn bad_flags(&self) -> &[BadFlags] {
        &self.bad_flags
    }

    /// The same, to fill in the callers' locations.
    pub fn bad_flags_mut(&mut self) -> &mut [BadFlags] {
        &mut self.bad_flags
    }

    /// Fail the `nth` (1-based, counted from now) `M_NOWAIT` allocation; `None` disables.
    pub fn set_nowait_failure(&mut self, nth: Option<u64>) {
        self.nowait_seen = 0;
        self.nowait_fail_at = nth;
    }

    /// From the `nth` (1-based, counted from now) `M_NOWAIT` allocation on, the kmem arena
    /// counts as full for `M_NOWAIT` requests: every one returns NULL, as when memory runs
    /// out or a request is larger than what is free. `M_WAITOK` requests are not affected
    /// (they would sleep until the page daemon frees memory). `None` disables.
    pub fn set_nowait_exhaustion(&mut self, nth: Option<u64>) {
        self.nowait_seen = 0;
        self.nowait_exhausted_from = nth;
    }

    /// `M_NOWAIT` allocation requests since boot, failed (injected) ones included; not
    /// reset by [`MallocState::set_nowait_failure`].
    pub fn nowait_allocations(&self) -> u64 {
        self.nowait_total
    }

    /// Per-type statistics.
    pub fn stats(&self) -> Vec<MallocTypeStats> {
        self.types.values().cloned().collect()
    }

    /// Release every host allocation (kernel shutdown).
    pub fn release_all(&mut self) {
        for (addr, a) in self.allocs.drain() {
            // SAFETY: addr was returned by std::alloc::alloc with this layout.
            unsafe { std::alloc::dealloc(addr as *mut u8, a.layout) };
        }
        for (zone, items) in std::mem::take(&mut self.free_items) {
            for addr in items {
                // SAFETY: cached items were allocated with the zone's layout.
                unsafe { std::alloc::dealloc(addr as *mut u8, zone_layout(zone)) };
            }
        }
        // Items modified after free stay allocated (leaked) on purpose: stale module
        // pointers may still reach them.
        self.poisoned.clear();
        self.cached_bytes = 0;
        self.kmem_used = 0;
    }
}

/// Zone size the kernel would use for `size` (kmemzones[] in kern_malloc.c); for larger
/// requests `malloc_large`'s `roundup(size, PAGE_SIZE)`. `None` when that overflows.
pub fn checked_zone_size(size: usize) -> Option<usize> {
    const ZONES: [usize; 14] = [16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
    if size > KMEM_ZMAX {
        return size.checked_next_multiple_of(PAGE_SIZE);
    }
    ZONES.iter().copied().find(|&z| z >= size.max(1))
}

/// Zone size the kernel would use for `size`; saturates at `usize::MAX` rounded down to
/// pages when the page rounding overflows.
pub fn zone_size(size: usize) -> usize {
    checked_zone_size(size).unwrap_or(usize::MAX & !(PAGE_SIZE - 1))
}

fn zone_align(zone: usize) -> usize {
    if zone > KMEM_ZMAX {
        PAGE_SIZE
    } else if zone.is_power_of_two() {
        zone.min(PAGE_SIZE)
    } else {
        // 384 = 3 * 128
        128
    }
}

fn zone_layout(zone: usize) -> Layout {
    // zone <= KMEM_ZMAX here, or a page-rounded size checked against isize::MAX before use.
    Layout::from_size_align(zone, zone_align(zone)).unwrap_or(Layout::new::<u8>())
}

fn type_name(mtp: usize) -> String {
    if mtp == 0 {
        return "(NULL type)".into();
    }
    // SAFETY: mtp points to a struct malloc_type in module memory; ks_shortdesc is at 16.
    unsafe { cstr(*((mtp + 16) as *const usize)) }
}

/// The scheduler's hook for an `M_WAITOK` request of `need` bytes that does not fit in the
/// kmem arena now but would once memory is freed: the kernel sleeps (`vmem_xalloc()` /
/// `vm_wait_domain()`) until a free wakes it. Returns whether the caller should retry.
///
/// When no other simulated thread can run (none runnable, no timed wait pending), nothing
/// can free memory: this returns `false` and the caller reports the deadlock. Otherwise the
/// thread sleeps on the kmem wait channel until [`do_free`] releases memory (kern_synch.rs).
fn sleep_for_kmem(_need: usize) -> bool {
    super::kern_synch::sleep_for_kmem()
}

/// `mtrash_dtor` + `free_save_type`: junk all but the last word, which records the type.
///
/// # Safety
/// `addr` is a zone item of `zone` bytes owned by the allocator.
unsafe fn trash(addr: usize, zone: usize, mtp: usize) {
    let words = (zone - 8) / 4;
    for i in 0..words {
        // SAFETY: inside the item (guaranteed by the caller).
        unsafe { ((addr + 4 * i) as *mut u32).write_unaligned(UMA_JUNK) };
    }
    // SAFETY: the last 8 bytes of the item.
    unsafe { ((addr + zone - 8) as *mut usize).write_unaligned(mtp) };
}

/// `mtrash_ctor`: the first modified word of a trashed item, if any, and the type that
/// freed it.
///
/// # Safety
/// As [`trash`].
unsafe fn trash_check(addr: usize, zone: usize) -> Option<(usize, u32, usize)> {
    let words = (zone - 8) / 4;
    for i in 0..words {
        let p = addr + 4 * i;
        // SAFETY: inside the item.
        let v = unsafe { (p as *const u32).read_unaligned() };
        if v != UMA_JUNK {
            // SAFETY: the last 8 bytes of the item.
            let mtp = unsafe { ((addr + zone - 8) as *const usize).read_unaligned() };
            return Some((p, v, mtp));
        }
    }
    None
}

/// Validates malloc(9) flags like an INVARIANTS kernel; returns the flags to use.
fn check_flags(flags: i32, caller: usize) -> i32 {
    let indx = flags & (M_WAITOK | M_NOWAIT);
    let mut flags = flags;
    if indx != M_NOWAIT && indx != M_WAITOK {
        let first = with(|k| {
            k.malloc.bad_flags.push(BadFlags { flags, caller, location: None });
            k.malloc.bad_flags.len() == 1
        });
        // malloc_dbg(): printed (with a backtrace) and fixed up once per boot.
        if first {
            console_write(format!("Bad malloc flags: {indx:x}\nKDB: stack backtrace:\n#0 {caller:#x} (malloc caller)\n").as_bytes());
            flags |= M_WAITOK;
        }
    }
    if flags & M_USE_RESERVE != 0 && flags & M_NOWAIT == 0 {
        kernel_panic("M_USE_RESERVE requires M_NOWAIT".into(), caller);
    }
    flags
}

/// The INVARIANTS check of malloc(9), free(9) and realloc(9) in `sys/kern/kern_malloc.c`
/// (`malloc_dbg()`, `free_dbg()`, `realloc()`): `KASSERT(curthread->td_critnest == 0 ||
/// SCHEDULER_STOPPED(), ("malloc: called with spinlock or critical section held"))` (and
/// `"free: ..."`, `"realloc: ..."`). A spin mutex (spinlock_enter()) and critical_enter()
/// both raise `td_critnest`.
fn assert_not_critical(what: &str, caller: usize) {
    if super::kern_switch::try_sched().is_some_and(|s| s.current().crit > 0) {
        kernel_panic(format!("{what}: called with spinlock or critical section held"), caller);
    }
}

/// Allocate `size` bytes of type `mtp` for `caller` (return address in module code).
fn do_malloc(size: usize, mtp: usize, flags: i32, what: &str, caller: usize) -> usize {
    // malloc_dbg() order: the flag check, then the critical-section KASSERT; uma_zalloc's
    // WITNESS_WARN (malloc_check) comes after.
    let flags = check_flags(flags, caller);
    assert_not_critical("malloc", caller);
    super::subr_witness::malloc_check(size, flags, caller);
    enum Out {
        Ok(usize),
        Null,
        NotInit(String),
        Never { asize: Option<usize>, kmem: usize },
        Later { asize: usize, used: usize, kmem: usize },
        Modified { item: usize, zone: usize, at: usize, val: u32, by: usize },
        HostOom(usize),
    }
    let can_sleep = flags & M_NOWAIT == 0;
    let asize = checked_zone_size(size).filter(|&a| a <= isize::MAX as usize);
    loop {
        let out = with(|k| {
            let m = &mut k.malloc;
            match m.types.get(&mtp) {
                Some(t) if t.initialized => {}
                _ => return Out::NotInit(type_name(mtp)),
            }
            if flags & M_NOWAIT != 0 {
                m.nowait_total += 1;
                m.nowait_seen += 1;
                if m.nowait_fail_at == Some(m.nowait_seen) {
                    m.nowait_fail_at = None;
                    return Out::Null;
                }
                if m.nowait_exhausted_from.is_some_and(|n| m.nowait_seen >= n) {
                    return Out::Null;
                }
            }
            let Some(zone) = asize.filter(|&a| a <= m.kmem_size) else {
                return if can_sleep { Out::Never { asize, kmem: m.kmem_size } } else { Out::Null };
            };
            if zone > m.kmem_size - m.kmem_used {
                return if can_sleep {
                    Out::Later { asize: zone, used: m.kmem_used, kmem: m.kmem_size }
                } else {
                    Out::Null
                };
            }
            let layout = zone_layout(zone);
            let cached = if zone <= KMEM_ZMAX { m.free_items.get_mut(&zone).and_then(Vec::pop) } else { None };
            let p = match cached {
                Some(item) => {
                    m.cached_bytes -= zone;
                    // SAFETY: a trashed item of this zone that the allocator owns.
                    if let Some((at, val, by)) = unsafe { trash_check(item, zone) } {
                        // Keep the item out of circulation (the kernel panics here): module
                        // code may still write to it, so it is never given back to the host.
                        m.poisoned.push(item);
                        return Out::Modified { item, zone, at, val, by };
                    }
                    if flags & M_ZERO != 0 {
                        // SAFETY: the item is `zone` bytes long.
                        unsafe { std::ptr::write_bytes(item as *mut u8, 0, zone) };
                    }
                    item as *mut u8
                }
                None => {
                    // SAFETY: layout has a non-zero size.
                    let p = unsafe {
                        if flags & M_ZERO != 0 { std::alloc::alloc_zeroed(layout) } else { std::alloc::alloc(layout) }
                    };
                    if p.is_null() {
                        return if can_sleep { Out::HostOom(zone) } else { Out::Null };
                    }
                    if flags & M_ZERO == 0 {
                        for i in (0..zone).step_by(4) {
                            // SAFETY: i+4 <= zone (zones are multiples of 16 / pages).
                            unsafe { (p.add(i) as *mut u32).write_unaligned(UMA_JUNK) };
                        }
                    }
                    p
                }
            };
            m.allocs.insert(p as usize, Alloc { layout, accounted: zone, mtp });
            m.kmem_used += zone;
            let t = m.types.get_mut(&mtp).expect("type");
            t.live_allocs += 1;
            t.live_bytes += zone as u64;
            t.total_allocs += 1;
            Out::Ok(p as usize)
        });
        return match out {
            Out::Ok(p) => p,
            Out::Null => 0,
            Out::NotInit(name) => kernel_panic(
                format!("{what}: malloc type {mtp:#x} ('{name}') used before malloc_init() (kernel-sim check)"),
                caller,
            ),
            Out::Never { asize, kmem } => {
                let need = asize.map_or_else(|| "more than 2^63".to_owned(), |a| a.to_string());
                console_write(
                    format!(
                        "kernel-sim: {what}({size}, M_WAITOK) can never be satisfied: it needs {need} bytes, \
                         the kmem arena (vm_kmem_size, --kmem) is {kmem} bytes\n"
                    )
                    .as_bytes(),
                );
                if flags & M_WAITOK != 0 {
                    kernel_panic("malloc(M_WAITOK) returned NULL".into(), caller)
                }
                kernel_panic(
                    format!("kernel-sim: deadlock: {what}({size}) without M_NOWAIT sleeps forever for kmem"),
                    caller,
                )
            }
            Out::Later { asize, used, kmem } => {
                if sleep_for_kmem(asize) {
                    continue;
                }
                kernel_panic(
                    format!(
                        "kernel-sim: deadlock: {what}({size}, M_WAITOK) sleeps until {asize} bytes of kmem are free \
                         ({used} of {kmem} in use, --kmem) and no other thread can run to free memory"
                    ),
                    caller,
                )
            }
            Out::Modified { item, zone, at, val, by } => {
                console_write(
                    format!("Memory modified after free {item:#x}({}) val={val:x} @ {at:#x}\n", zone - 8).as_bytes(),
                );
                let by = if by == 0 { "none".to_owned() } else { type_name(by) };
                kernel_panic(format!("Most recently used by {by}"), caller)
            }
            Out::HostOom(zone) => kernel_panic(
                format!("kernel-sim: the host cannot back a {zone}-byte allocation; lower --kmem"),
                caller,
            ),
        };
    }
}

/// Free `addr` of type `mtp` (`zero`: zfree).
pub(crate) fn do_free(addr: usize, mtp: usize, zero: bool, what: &str, caller: usize) {
    // free_dbg() (free and zfree), before the NULL check.
    assert_not_critical("free", caller);
    if addr == 0 {
        return;
    }
    enum Out {
        Ok,
        Unknown,
        Mismatch(usize),
        Selinfo(Vec<(usize, usize)>),
    }
    let out = with(|k| {
        let m = &mut k.malloc;
        let Some(a) = m.allocs.get(&addr) else { return Out::Unknown };
        if a.mtp != mtp {
            return Out::Mismatch(a.mtp);
        }
        // A struct selinfo in the block with threads still queued (sys_generic.c): they
        // would unlink themselves from the freed memory later (selfdfree).
        let end = addr + a.accounted;
        let queued = k.sel.queued_in(addr, end);
        if !queued.is_empty() {
            return Out::Selinfo(queued);
        }
        let m = &mut k.malloc;
        let a = m.allocs.remove(&addr).expect("present");
        if zero {
            // SAFETY: the allocation is ours and a.accounted bytes long.
            unsafe { std::ptr::write_bytes(addr as *mut u8, 0, a.accounted) };
        }
        if a.accounted <= KMEM_ZMAX && m.cached_bytes + a.accounted <= FREE_CACHE_BYTES {
            // SAFETY: a zone item of a.accounted bytes that we own from now on.
            unsafe { trash(addr, a.accounted, mtp) };
            m.free_items.entry(a.accounted).or_default().push(addr);
            m.cached_bytes += a.accounted;
        } else {
            // SAFETY: addr came from std::alloc with a.layout.
            unsafe { std::alloc::dealloc(addr as *mut u8, a.layout) };
        }
        m.kmem_used -= a.accounted;
        if let Some(t) = m.types.get_mut(&a.mtp) {
            t.live_allocs -= 1;
            t.live_bytes -= a.accounted as u64;
            t.total_frees += 1;
        }
        Out::Ok
    });
    match out {
        Out::Ok => super::kern_synch::kmem_freed(),
        Out::Selinfo(q) => {
            let list: Vec<String> = q.iter().map(|(s, n)| format!("struct selinfo {s:#x} ({n} thread(s) in poll(2))")).collect();
            super::sys_generic::forget_selinfo_in(addr, q.last().map(|x| x.0 + 1).unwrap_or(addr));
            kernel_panic(
                format!(
                    "{what}: {addr:#x} (type '{}') holds {} still queued by selrecord: seldrain() it before freeing, or the sleeping threads write into freed memory (kernel-sim check)\n  offending call at {}\n",
                    type_name(mtp),
                    list.join(", "),
                    super::subr_witness::sym(caller)
                ),
                caller,
            )
        }
        Out::Unknown => kernel_panic(
            format!(
                "{what}: address {addr:#x} (type '{}') was not returned by malloc(9) or was already freed (double free) (kernel-sim check)",
                type_name(mtp)
            ),
            caller,
        ),
        Out::Mismatch(real) => kernel_panic(
            format!(
                "{what}: type mismatch: {addr:#x} was allocated with type '{}' but freed with type '{}' (kernel-sim check)",
                type_name(real),
                type_name(mtp)
            ),
            caller,
        ),
    }
}

/// Define `$shim`, which enters `$imp` with the caller's return address (`[rsp]`) as an
/// extra argument in register `$reg` (the first free argument register), then returns
/// straight to the module.
macro_rules! caller_shim {
    ($shim:ident, $imp:path, $reg:literal) => {
        core::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($shim)),
            concat!(".type ", stringify!($shim), ",@function"),
            concat!(stringify!($shim), ":"),
            concat!("mov ", $reg, ", [rsp]"),
            "jmp {imp}",
            concat!(".size ", stringify!($shim), ", . - ", stringify!($shim)),
            imp = sym $imp,
        );
        unsafe extern "C" {
            fn $shim();
        }
    };
}

extern "C" fn k_malloc(size: usize, mtp: usize, flags: i32, caller: usize) -> usize {
    do_malloc(size, mtp, flags, "malloc", caller)
}
extern "C" fn k_malloc_domainset(size: usize, mtp: usize, _ds: usize, flags: i32, caller: usize) -> usize {
    do_malloc(size, mtp, flags, "malloc_domainset", caller)
}
extern "C" fn k_mallocarray(nmemb: usize, size: usize, mtp: usize, flags: i32, caller: usize) -> usize {
    match nmemb.checked_mul(size) {
        Some(n) => do_malloc(n, mtp, flags, "mallocarray", caller),
        None => kernel_panic(format!("mallocarray: {nmemb} * {size} overflowed"), caller),
    }
}
fn aligned(size: usize, align: usize, mtp: usize, flags: i32, caller: usize) -> usize {
    if align == 0 || !align.is_power_of_two() {
        kernel_panic(format!("malloc_domainset_aligned: wrong align {align:#x} size {size:#x}"), caller);
    }
    if align > PAGE_SIZE {
        kernel_panic(format!("malloc_domainset_aligned: align {align:#x} (size {size:#x}) too large"), caller);
    }
    // `1 << flsl(size - 1)` overflows above 2^63: such a request can never be satisfied.
    let asize = if size <= align { align } else { size.checked_next_power_of_two().unwrap_or(usize::MAX) };
    let p = do_malloc(asize, mtp, flags, "malloc_domainset_aligned", caller);
    if p & (align - 1) != 0 {
        kernel_panic(format!("kernel-sim: internal error: aligned allocation {p:#x} misaligned for {align}"), caller);
    }
    p
}
extern "C" fn k_malloc_domainset_aligned(size: usize, align: usize, mtp: usize, _ds: usize, flags: i32, caller: usize) -> usize {
    aligned(size, align, mtp, flags, caller)
}
extern "C" fn k_malloc_aligned(size: usize, align: usize, mtp: usize, flags: i32, caller: usize) -> usize {
    aligned(size, align, mtp, flags, caller)
}
extern "C" fn k_free(addr: usize, mtp: usize, caller: usize) {
    do_free(addr, mtp, false, "free", caller)
}
extern "C" fn k_zfree(addr: usize, mtp: usize, caller: usize) {
    do_free(addr, mtp, true, "zfree", caller)
}
fn do_realloc(addr: usize, size: usize, mtp: usize, flags: i32, free_on_fail: bool, caller: usize) -> usize {
    assert_not_critical("realloc", caller);
    if addr == 0 {
        return do_malloc(size, mtp, flags, "realloc", caller);
    }
    let old = with(|k| k.malloc.allocs.get(&addr).map(|a| (a.accounted, a.mtp)));
    let Some((alloc, old_mtp)) = old else {
        // The KASSERT of realloc() in kern_malloc.c (vtozoneslab() found no slab).
        kernel_panic(format!("realloc: address {addr:#x} out of range"), caller)
    };
    if old_mtp != mtp {
        kernel_panic(
            format!(
                "realloc: type mismatch: {addr:#x} has type '{}', realloc'ed with type '{}' (kernel-sim check)",
                type_name(old_mtp),
                type_name(mtp)
            ),
            caller,
        );
    }
    // "Reuse the original block if appropriate": REALLOC_FRACTION 1 (kern_malloc.c).
    if size <= alloc && (size > alloc >> 1 || alloc == MINALLOCSIZE) {
        return addr;
    }
    let n = do_malloc(size, mtp, flags, "realloc", caller);
    if n == 0 {
        if free_on_fail {
            do_free(addr, mtp, false, "reallocf", caller);
        }
        return 0;
    }
    // SAFETY: both allocations are ours; `alloc` is the old block's real size and the new
    // one holds at least `size` bytes.
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, n as *mut u8, alloc.min(size)) };
    do_free(addr, mtp, false, "realloc", caller);
    n
}
extern "C" fn k_realloc(addr: usize, size: usize, mtp: usize, flags: i32, caller: usize) -> usize {
    do_realloc(addr, size, mtp, flags, false, caller)
}
extern "C" fn k_reallocf(addr: usize, size: usize, mtp: usize, flags: i32, caller: usize) -> usize {
    do_realloc(addr, size, mtp, flags, true, caller)
}

caller_shim!(sim_malloc, k_malloc, "rcx");
caller_shim!(sim_malloc_domainset, k_malloc_domainset, "r8");
caller_shim!(sim_mallocarray, k_mallocarray, "r8");
caller_shim!(sim_malloc_domainset_aligned, k_malloc_domainset_aligned, "r9");
caller_shim!(sim_malloc_aligned, k_malloc_aligned, "r8");
caller_shim!(sim_free, k_free, "rdx");
caller_shim!(sim_zfree, k_zfree, "rdx");
caller_shim!(sim_realloc, k_realloc, "r8");
caller_shim!(sim_reallocf, k_reallocf, "r8");

extern "C" fn k_malloc_init(mtp: usize) {
    // SAFETY: mtp is the module's struct malloc_type; ks_version is at offset 8.
    let version = unsafe { *((mtp + 8) as *const u64) };
    let want = with(|k| k.malloc.m_version);
    let name = type_name(mtp);
    if version != want {
        kernel_panic(format!("malloc_init: type {name} with unsupported version {version}"), 0);
    }
    // kern_malloc.c malloc_init: `mtip->mti_stats = uma_zalloc_pcpu(pcpu_zone_64,
    // M_WAITOK | M_ZERO)` (ks_mti@24, mti_stats@16 within it: FACTS.md §3).
    // SAFETY: host allocation of zeroed per-CPU statistics; mtp is the module's writable
    // struct malloc_type.
    unsafe { *((mtp + MTI_STATS) as *mut usize) = libc::calloc(1, 64) as usize };
    with(|k| {
        let t = k.malloc.types.entry(mtp).or_default();
        t.name = name;
        t.mtp = mtp;
        t.initialized = true;
    });
}

/// Offset of `ks_mti.mti_stats` in `struct malloc_type`.
const MTI_STATS: usize = 24 + 16;

extern "C" fn k_malloc_uninit(mtp: usize) {
    let r = with(|k| {
        let t = k.malloc.types.get_mut(&mtp)?;
        t.initialized = false;
        Some((t.name.clone(), t.live_allocs, t.live_bytes))
    });
    match r {
        None => kernel_panic(
            format!("malloc_uninit: type '{}' not found (kernel-sim check)", type_name(mtp)),
            0,
        ),
        Some((name, allocs, bytes)) if allocs > 0 || bytes > 0 => console_write(
            format!(
                "Warning: memory type {name} leaked memory on destroy ({allocs} allocations, {bytes} bytes leaked).\n"
            )
            .as_bytes(),
        ),
        Some(_) => {}
    }
    // kern_malloc.c malloc_uninit: `uma_zfree_pcpu(pcpu_zone_64, mtip->mti_stats)`; the
    // pointer is left as it was (not cleared), as the kernel leaves it.
    // SAFETY: the pointer malloc_init stored (or NULL); free(NULL) is a no-op.
    unsafe { libc::free(*((mtp + MTI_STATS) as *const usize) as *mut libc::c_void) };
}

/// Register malloc(9), `domainset_roundrobin` and `vm_kmem_size` (set at boot to
/// [`SimOptions::kmem`](crate::SimOptions::kmem)).
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("malloc", sim_malloc as *const () as usize));
    v.push(KsymDef::function("malloc_domainset", sim_malloc_domainset as *const () as usize));
    v.push(KsymDef::function("mallocarray", sim_mallocarray as *const () as usize));
    v.push(KsymDef::function("malloc_domainset_aligned", sim_malloc_domainset_aligned as *const () as usize));
    v.push(KsymDef::function("malloc_aligned", sim_malloc_aligned as *const () as usize));
    v.push(KsymDef::function("free", sim_free as *const () as usize));
    v.push(KsymDef::function("zfree", sim_zfree as *const () as usize));
    v.push(KsymDef::function("realloc", sim_realloc as *const () as usize));
    v.push(KsymDef::function("reallocf", sim_reallocf as *const () as usize));
    v.push(KsymDef::function("malloc_init", k_malloc_init as *const () as usize));
    v.push(KsymDef::function("malloc_uninit", k_malloc_uninit as *const () as usize));
    // struct domainset is opaque to modules (DOMAINSET_RR() = &domainset_roundrobin).
    v.push(KsymDef::data("domainset_roundrobin", vec![0u8; 256], 64));
    // u_long vm_kmem_size (vm/vm_kern.h); Kernel::boot writes the configured size.
    v.push(KsymDef::data("vm_kmem_size", (DEFAULT_KMEM_SIZE as u64).to_le_bytes().to_vec(), 8));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_sizes_never_overflow() {
        assert_eq!(checked_zone_size(0), Some(16));
        assert_eq!(checked_zone_size(257), Some(384));
        assert_eq!(checked_zone_size(65536), Some(65536));
        assert_eq!(checked_zone_size(65537), Some(65536 + 4096));
        assert_eq!(checked_zone_size(1 << 40), Some(1 << 40));
        assert_eq!(checked_zone_size(usize::MAX - 4094), None);
        assert_eq!(checked_zone_size(usize::MAX), None);
        assert_eq!(zone_size(usize::MAX), usize::MAX & !4095);
    }
}

//! malloc(9) with per-type accounting (`sys/kern/kern_malloc.c`, `sys/sys/malloc.h`).
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
//! * Simulator checks the kernel leaves to INVARIANTS or to luck, reported as panics: use of a
//!   type before `malloc_init`, free of an address malloc never returned (or freed twice), and
//!   free/realloc with a different type than the allocation's.
//! * Fresh non-`M_ZERO` memory is filled with `0xdeadc0de`, the INVARIANTS trash pattern.

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
const PAGE_SIZE: usize = 4096;
/// `kmem_zmax`: larger requests use `malloc_large`.
const KMEM_ZMAX: usize = 65536;

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

/// State of the simulated allocator.
#[derive(Debug, Default)]
pub struct MallocState {
    types: BTreeMap<usize, MallocTypeStats>,
    allocs: HashMap<usize, Alloc>,
    /// `M_VERSION` of the simulated release.
    pub m_version: u64,
    nowait_seen: u64,
    nowait_fail_at: Option<u64>,
    nowait_total: u64,
}

impl MallocState {
    /// New allocator for a release with the given `M_VERSION`.
    pub fn new(m_version: u64) -> MallocState {
        MallocState { m_version, ..Default::default() }
    }

    /// Fail the `nth` (1-based, counted from now) `M_NOWAIT` allocation; `None` disables.
    pub fn set_nowait_failure(&mut self, nth: Option<u64>) {
        self.nowait_seen = 0;
        self.nowait_fail_at = nth;
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
    }
}

/// Zone size the kernel would use for `size` (kmemzones[] in kern_malloc.c).
pub fn zone_size(size: usize) -> usize {
    const ZONES: [usize; 14] = [16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
    if size > KMEM_ZMAX {
        return size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    }
    *ZONES.iter().find(|&&z| z >= size.max(1)).unwrap_or(&KMEM_ZMAX)
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

fn type_name(mtp: usize) -> String {
    if mtp == 0 {
        return "(NULL type)".into();
    }
    // SAFETY: mtp points to a struct malloc_type in module memory; ks_shortdesc is at 16.
    unsafe { cstr(*((mtp + 16) as *const usize)) }
}

/// Allocate `size` bytes of type `mtp`; `asize` is what is actually allocated.
fn do_malloc(size: usize, mtp: usize, flags: i32, caller: &str) -> usize {
    enum Out {
        Ok(usize),
        Null,
        NotInit(String),
    }
    let zone = zone_size(size);
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
        }
        let layout = Layout::from_size_align(zone, zone_align(zone)).expect("layout");
        // SAFETY: layout has non-zero size.
        let p = unsafe {
            if flags & M_ZERO != 0 { std::alloc::alloc_zeroed(layout) } else { std::alloc::alloc(layout) }
        };
        assert!(!p.is_null(), "host out of memory");
        if flags & M_ZERO == 0 {
            for i in (0..zone).step_by(4) {
                // SAFETY: i+4 <= zone (zones are multiples of 16 / pages).
                unsafe { (p.add(i) as *mut u32).write_unaligned(0xdead_c0de) };
            }
        }
        m.allocs.insert(p as usize, Alloc { layout, accounted: zone, mtp });
        let t = m.types.get_mut(&mtp).expect("type");
        t.live_allocs += 1;
        t.live_bytes += zone as u64;
        t.total_allocs += 1;
        Out::Ok(p as usize)
    });
    match out {
        Out::Ok(p) => p,
        Out::Null => 0,
        Out::NotInit(name) => kernel_panic(
            format!("{caller}: malloc type {mtp:#x} ('{name}') used before malloc_init() (kernel-sim check)"),
            0,
        ),
    }
}

fn do_free(addr: usize, mtp: usize, zero: bool, caller: &str) {
    if addr == 0 {
        return;
    }
    enum Out {
        Ok,
        Unknown,
        Mismatch(usize),
    }
    let out = with(|k| {
        let m = &mut k.malloc;
        let Some(a) = m.allocs.get(&addr) else { return Out::Unknown };
        if a.mtp != mtp {
            return Out::Mismatch(a.mtp);
        }
        let a = m.allocs.remove(&addr).expect("present");
        if zero {
            // SAFETY: the allocation is ours and a.accounted bytes long.
            unsafe { std::ptr::write_bytes(addr as *mut u8, 0, a.accounted) };
        }
        // SAFETY: addr came from std::alloc with a.layout.
        unsafe { std::alloc::dealloc(addr as *mut u8, a.layout) };
        if let Some(t) = m.types.get_mut(&a.mtp) {
            t.live_allocs -= 1;
            t.live_bytes -= a.accounted as u64;
            t.total_frees += 1;
        }
        Out::Ok
    });
    match out {
        Out::Ok => {}
        Out::Unknown => kernel_panic(
            format!(
                "{caller}: address {addr:#x} (type '{}') was not returned by malloc(9) or was already freed (double free) (kernel-sim check)",
                type_name(mtp)
            ),
            0,
        ),
        Out::Mismatch(real) => kernel_panic(
            format!(
                "{caller}: type mismatch: {addr:#x} was allocated with type '{}' but freed with type '{}' (kernel-sim check)",
                type_name(real),
                type_name(mtp)
            ),
            0,
        ),
    }
}

extern "C" fn k_malloc(size: usize, mtp: usize, flags: i32) -> usize {
    do_malloc(size, mtp, flags, "malloc")
}
extern "C" fn k_malloc_domainset(size: usize, mtp: usize, _ds: usize, flags: i32) -> usize {
    do_malloc(size, mtp, flags, "malloc_domainset")
}
extern "C" fn k_mallocarray(nmemb: usize, size: usize, mtp: usize, flags: i32) -> usize {
    match nmemb.checked_mul(size) {
        Some(n) => do_malloc(n, mtp, flags, "mallocarray"),
        None => kernel_panic(format!("mallocarray: {nmemb} * {size} overflowed"), 0),
    }
}
fn aligned(size: usize, align: usize, mtp: usize, flags: i32) -> usize {
    if align == 0 || !align.is_power_of_two() {
        kernel_panic(format!("malloc_domainset_aligned: wrong align {align:#x} size {size:#x}"), 0);
    }
    if align > PAGE_SIZE {
        kernel_panic(format!("malloc_domainset_aligned: align {align:#x} (size {size:#x}) too large"), 0);
    }
    let asize = if size <= align { align } else { 1usize << (usize::BITS - (size - 1).leading_zeros()) };
    let p = do_malloc(asize, mtp, flags, "malloc_domainset_aligned");
    assert!(p & (align - 1) == 0, "kernel-sim: aligned allocation misaligned");
    p
}
extern "C" fn k_malloc_domainset_aligned(size: usize, align: usize, mtp: usize, _ds: usize, flags: i32) -> usize {
    aligned(size, align, mtp, flags)
}
extern "C" fn k_malloc_aligned(size: usize, align: usize, mtp: usize, flags: i32) -> usize {
    aligned(size, align, mtp, flags)
}
extern "C" fn k_free(addr: usize, mtp: usize) {
    do_free(addr, mtp, false, "free")
}
extern "C" fn k_zfree(addr: usize, mtp: usize) {
    do_free(addr, mtp, true, "zfree")
}
fn do_realloc(addr: usize, size: usize, mtp: usize, flags: i32, free_on_fail: bool) -> usize {
    if addr == 0 {
        return do_malloc(size, mtp, flags, "realloc");
    }
    let old = with(|k| k.malloc.allocs.get(&addr).map(|a| (a.accounted, a.mtp)));
    let Some((old_size, old_mtp)) = old else {
        kernel_panic(format!("realloc: address {addr:#x} was not returned by malloc(9) (kernel-sim check)"), 0)
    };
    if old_mtp != mtp {
        kernel_panic(
            format!(
                "realloc: type mismatch: {addr:#x} has type '{}', realloc'ed with type '{}' (kernel-sim check)",
                type_name(old_mtp),
                type_name(mtp)
            ),
            0,
        );
    }
    let n = do_malloc(size, mtp, flags & !M_ZERO, "realloc");
    if n == 0 {
        if free_on_fail {
            do_free(addr, mtp, false, "reallocf");
        }
        return 0;
    }
    // SAFETY: both allocations are ours; copy the smaller of the two sizes.
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, n as *mut u8, old_size.min(size)) };
    do_free(addr, mtp, false, "realloc");
    n
}
extern "C" fn k_realloc(addr: usize, size: usize, mtp: usize, flags: i32) -> usize {
    do_realloc(addr, size, mtp, flags, false)
}
extern "C" fn k_reallocf(addr: usize, size: usize, mtp: usize, flags: i32) -> usize {
    do_realloc(addr, size, mtp, flags, true)
}

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

/// Register malloc(9) and `domainset_roundrobin`.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("malloc", k_malloc as *const () as usize));
    v.push(KsymDef::function("malloc_domainset", k_malloc_domainset as *const () as usize));
    v.push(KsymDef::function("mallocarray", k_mallocarray as *const () as usize));
    v.push(KsymDef::function("malloc_domainset_aligned", k_malloc_domainset_aligned as *const () as usize));
    v.push(KsymDef::function("malloc_aligned", k_malloc_aligned as *const () as usize));
    v.push(KsymDef::function("free", k_free as *const () as usize));
    v.push(KsymDef::function("zfree", k_zfree as *const () as usize));
    v.push(KsymDef::function("realloc", k_realloc as *const () as usize));
    v.push(KsymDef::function("reallocf", k_reallocf as *const () as usize));
    v.push(KsymDef::function("malloc_init", k_malloc_init as *const () as usize));
    v.push(KsymDef::function("malloc_uninit", k_malloc_uninit as *const () as usize));
    // struct domainset is opaque to modules (DOMAINSET_RR() = &domainset_roundrobin).
    v.push(KsymDef::data("domainset_roundrobin", vec![0u8; 256], 64));
}

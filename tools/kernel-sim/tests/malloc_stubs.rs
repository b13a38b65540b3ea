//! malloc(9) stubs under every size, alignment and flag combination (kern/malloc.rs): no
//! input crashes the simulator; sizes beyond the kmem arena are NULL with M_NOWAIT and the
//! kernel's `malloc(M_WAITOK) returned NULL` panic with M_WAITOK, at the module's symbol +
//! offset; INVARIANTS flag checks, trash-on-free and realloc in place as kern_malloc.c does.
mod common;

use kernel_sim::{FaultKind, Kernel, ModuleId, SimOptions, SimRelease};

const M_NOWAIT: u64 = 0x1;
const M_WAITOK: u64 = 0x2;
const M_ZERO: u64 = 0x100;
const M_USE_RESERVE: u64 = 0x400;

/// Sizes the issue lists.
const SIZES: [u64; 7] = [0, 1, 1 << 20, 1 << 31, 1 << 40, (1 << 63) - 1, u64::MAX];

struct Sim {
    _g: std::sync::MutexGuard<'static, ()>,
    k: Kernel,
    id: ModuleId,
}

impl Sim {
    fn boot(opts: SimOptions) -> Sim {
        let g = common::lock();
        let ko = common::build("mallocs", &["mallocs.c"], common::Target::Fbsd14);
        let mut k = Kernel::boot(SimRelease::V14_0, opts).expect("boot");
        let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
        Sim { _g: g, k, id }
    }

    fn call(&mut self, f: &str, args: &[u64]) -> Result<u64, kernel_sim::Fault> {
        let a = self.k.lookup_symbol(self.id, f).unwrap_or_else(|| panic!("no symbol {f}"));
        self.k.call(a, args)
    }

    fn malloc(&mut self, size: u64, flags: u64) -> Result<u64, kernel_sim::Fault> {
        self.call("mallocs_malloc", &[size, flags])
    }

    fn free(&mut self, p: u64) {
        self.call("mallocs_free", &[p]).expect("free");
    }

    fn live(&self) -> (u64, u64) {
        let t = self.k.malloc_type("mallocs").expect("type mallocs");
        (t.live_allocs, t.live_bytes)
    }

    /// The call panicked with `msg` at a module symbol.
    fn expect_panic(&self, r: Result<u64, kernel_sim::Fault>, msg: &str, symbol: &str) {
        let f = r.expect_err("must panic");
        assert_eq!(f.kind, FaultKind::Panic(msg.to_owned()), "{f}\n{}", self.k.console());
        assert_eq!(f.symbol.as_deref(), Some(symbol), "{}", f.location);
        assert!(f.location.starts_with(&format!("{symbol}+0x")) && f.location.ends_with("(mallocs.ko)"), "{}", f.location);
    }
}

fn gib() -> SimOptions {
    SimOptions { kmem: 1 << 30, ..SimOptions::default() }
}

#[test]
fn the_default_kmem_is_one_gib_and_exported_as_vm_kmem_size() {
    let s = Sim::boot(SimOptions::default());
    assert_eq!(s.k.kmem(), (1 << 30, 0));
    let at = s.k.kernel_symbol("vm_kmem_size").expect("vm_kmem_size");
    // SAFETY: an 8-byte kernel data object in this process.
    assert_eq!(unsafe { (at as *const u64).read() }, 1 << 30);
    drop(s);
    let s = Sim::boot(SimOptions { kmem: 96 << 20, ..SimOptions::default() });
    let at = s.k.kernel_symbol("vm_kmem_size").expect("vm_kmem_size");
    // SAFETY: as above.
    assert_eq!(unsafe { (at as *const u64).read() }, 96 << 20);
}

#[test]
fn nowait_sizes_beyond_kmem_are_null_and_the_rest_succeed() {
    let mut s = Sim::boot(gib());
    for flags in [M_NOWAIT, M_NOWAIT | M_ZERO, M_NOWAIT | M_USE_RESERVE] {
        for size in SIZES {
            let p = s.malloc(size, flags).unwrap_or_else(|f| panic!("size {size}: {f}"));
            if size <= 1 << 20 {
                assert_ne!(p, 0, "size {size}");
                s.free(p);
            } else {
                assert_eq!(p, 0, "size {size} must not fit a 1 GiB arena");
            }
        }
    }
    assert_eq!(s.live(), (0, 0));
    assert!(s.k.panics().is_empty(), "{:?}", s.k.panics());
}

#[test]
fn waitok_sizes_that_can_never_fit_panic_at_the_caller() {
    let mut s = Sim::boot(gib());
    for size in SIZES {
        let r = s.malloc(size, M_WAITOK);
        if size <= 1 << 20 {
            let p = r.unwrap_or_else(|f| panic!("size {size}: {f}"));
            assert_ne!(p, 0);
            s.free(p);
        } else {
            s.expect_panic(r, "malloc(M_WAITOK) returned NULL", "mallocs_malloc");
        }
    }
    assert!(s.k.console().contains("can never be satisfied"), "{}", s.k.console());
    assert_eq!(s.live(), (0, 0));
    // The same through the aligned allocator.
    for size in [1u64 << 31, 1 << 40, (1 << 63) - 1, (1 << 63) + 1, u64::MAX] {
        let r = s.call("mallocs_aligned", &[size, 64, M_WAITOK]);
        s.expect_panic(r, "malloc(M_WAITOK) returned NULL", "mallocs_aligned");
    }
}

#[test]
fn every_alignment_up_to_one_mib_with_every_size() {
    let mut s = Sim::boot(gib());
    for shift in 0..=20 {
        let align = 1u64 << shift;
        for size in SIZES {
            let r = s.call("mallocs_aligned", &[size, align, M_NOWAIT]);
            if align > 4096 {
                // The KASSERT of malloc_domainset_aligned(): align <= PAGE_SIZE.
                let f = r.expect_err("align > PAGE_SIZE must panic");
                assert!(matches!(&f.kind, FaultKind::Panic(m) if m.contains("too large")), "{f}");
                continue;
            }
            let p = r.unwrap_or_else(|f| panic!("size {size} align {align}: {f}"));
            if size <= 1 << 20 {
                assert_ne!(p, 0, "size {size} align {align}");
                assert_eq!(p % align, 0, "size {size} align {align}");
                s.free(p);
            } else {
                assert_eq!(p, 0, "size {size} align {align}");
            }
        }
    }
    // Not a power of two, or zero: the kernel's KASSERT message.
    for align in [0u64, 3, 48, u64::MAX] {
        let f = s.call("mallocs_aligned", &[16, align, M_NOWAIT]).expect_err("bad align");
        assert!(matches!(&f.kind, FaultKind::Panic(m) if m.contains("wrong align")), "{f}");
    }
    assert_eq!(s.live(), (0, 0));
}

#[test]
fn every_flag_combination_is_handled() {
    let mut s = Sim::boot(gib());
    for flags in 0..0x10000u64 {
        if flags & 0xf000 != 0 && flags & 0xfff != 3 {
            continue; // keep it quick: the high bits only once
        }
        for size in [16u64, 1 << 40] {
            match s.malloc(size, flags) {
                Ok(0) => {}
                Ok(p) => s.free(p),
                Err(f) => assert!(matches!(f.kind, FaultKind::Panic(_)), "flags {flags:#x} size {size}: {f}"),
            }
        }
    }
    assert_eq!(s.live(), (0, 0));
}

#[test]
fn bad_flags_are_reported_like_an_invariants_kernel() {
    let mut s = Sim::boot(gib());
    // Neither M_WAITOK nor M_NOWAIT: printed once with a backtrace, then treated as WAITOK.
    let p = s.malloc(16, 0).expect("flags 0");
    assert_ne!(p, 0);
    s.free(p);
    let p = s.malloc(16, M_WAITOK | M_NOWAIT).expect("both");
    s.free(p);
    let c = s.k.console().to_owned();
    assert_eq!(c.matches("Bad malloc flags: ").count(), 1, "{c}");
    assert!(c.contains("Bad malloc flags: 0\nKDB: stack backtrace:\n"), "{c}");
    let bad = s.k.bad_malloc_flags();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].0, 0);
    assert_eq!(bad[1].0, 3);
    assert!(bad.iter().all(|(_, at)| at.starts_with("mallocs_malloc+0x")), "{bad:?}");
    // M_USE_RESERVE without M_NOWAIT: the KASSERT of malloc2vm_flags().
    let r = s.malloc(16, M_WAITOK | M_USE_RESERVE);
    s.expect_panic(r, "M_USE_RESERVE requires M_NOWAIT", "mallocs_malloc");
    assert_eq!(s.live(), (0, 0));
}

#[test]
fn nowait_beyond_what_is_free_is_null_and_waitok_would_sleep_forever() {
    let mut s = Sim::boot(SimOptions { kmem: 1 << 20, ..SimOptions::default() });
    let a = s.malloc(600 << 10, M_WAITOK).expect("fits");
    assert_ne!(a, 0);
    assert_eq!(s.k.kmem(), (1 << 20, 600 << 10));
    assert_eq!(s.malloc(600 << 10, M_NOWAIT).expect("nowait"), 0, "does not fit now");
    // Could fit later, but nothing else runs to free memory: a deadlock.
    let f = s.malloc(600 << 10, M_WAITOK).expect_err("deadlock");
    assert!(matches!(&f.kind, FaultKind::Panic(m) if m.contains("deadlock") && m.contains("M_WAITOK")), "{f}");
    assert_eq!(f.symbol.as_deref(), Some("mallocs_malloc"));
    // More than the arena: never.
    let r = s.malloc((1 << 20) + 1, M_WAITOK);
    s.expect_panic(r, "malloc(M_WAITOK) returned NULL", "mallocs_malloc");
    s.free(a);
    let b = s.malloc(600 << 10, M_NOWAIT).expect("fits again");
    assert_ne!(b, 0);
    s.free(b);
    assert_eq!(s.k.kmem().1, 0);
}

#[test]
fn memory_modified_after_free_panics_on_reuse() {
    let mut s = Sim::boot(gib());
    let p = s.malloc(100, M_WAITOK).expect("malloc");
    s.free(p);
    // A use after free by the module (the freed item is host memory of this process).
    // SAFETY: the simulator keeps freed zone items allocated (trashed) for reuse.
    unsafe { ((p + 40) as *mut u32).write(0x1234_5678) };
    let r = s.malloc(100, M_WAITOK);
    s.expect_panic(r, "Most recently used by mallocs", "mallocs_malloc");
    let c = s.k.console();
    assert!(c.contains(&format!("Memory modified after free {p:#x}(120) val=12345678 @ {:#x}\n", p + 40)), "{c}");
}

#[test]
fn freed_memory_is_trashed_and_reused_untouched() {
    let mut s = Sim::boot(gib());
    let p = s.malloc(64, M_WAITOK | M_ZERO).expect("malloc");
    // SAFETY: a live 64-byte allocation.
    unsafe { (p as *mut u64).write(42) };
    s.free(p);
    // SAFETY: the freed item stays host memory (trash + the freeing type in the last word).
    let words: Vec<u32> = (0..14).map(|i| unsafe { ((p + 4 * i) as *const u32).read() }).collect();
    assert!(words.iter().all(|&w| w == 0xdead_c0de), "{words:x?}");
    // Reused (LIFO), and M_ZERO zeroes it.
    let q = s.malloc(64, M_NOWAIT | M_ZERO).expect("malloc");
    assert_eq!(q, p);
    // SAFETY: live 64-byte allocation.
    assert!((0..8).all(|i| unsafe { ((q + 8 * i) as *const u64).read() } == 0));
    s.free(q);
    assert!(s.k.panics().is_empty());
}

#[test]
fn realloc_stays_in_place_when_the_zone_fits() {
    let mut s = Sim::boot(gib());
    let p = s.malloc(100, M_WAITOK).expect("malloc"); // zone 128
    assert_eq!(s.live(), (1, 128));
    // SAFETY: live allocation of 100 bytes.
    unsafe { (p as *mut u64).write(7) };
    for size in [120u64, 128, 65] {
        assert_eq!(s.call("mallocs_realloc", &[p, size, M_WAITOK]).expect("realloc"), p, "size {size}");
        assert_eq!(s.live(), (1, 128), "accounting kept");
    }
    // Half the zone or less: a new, smaller block (REALLOC_FRACTION 1).
    let q = s.call("mallocs_realloc", &[p, 64, M_WAITOK]).expect("realloc");
    assert_ne!(q, p);
    assert_eq!(s.live(), (1, 64));
    // Larger: moves, contents kept.
    let r = s.call("mallocs_realloc", &[q, 5000, M_WAITOK]).expect("realloc");
    assert_eq!(s.live(), (1, 8192));
    // SAFETY: live allocation.
    assert_eq!(unsafe { (r as *const u64).read() }, 7);
    // The smallest zone is reused for any size up to 16.
    let t = s.malloc(16, M_WAITOK).expect("malloc");
    assert_eq!(s.call("mallocs_realloc", &[t, 1, M_WAITOK]).expect("realloc"), t);
    // Impossible sizes: NULL with M_NOWAIT, the block stays.
    assert_eq!(s.call("mallocs_realloc", &[r, 1 << 40, M_NOWAIT]).expect("realloc"), 0);
    assert_eq!(s.call("mallocs_realloc", &[r, u64::MAX, M_NOWAIT]).expect("realloc"), 0);
    s.free(r);
    s.free(t);
    assert_eq!(s.live(), (0, 0));
}

#[test]
fn nowait_exhaustion_fails_every_later_nowait_request_only() {
    let mut s = Sim::boot(gib());
    s.k.set_nowait_exhaustion(Some(2));
    let a = s.malloc(32, M_NOWAIT).expect("first");
    assert_ne!(a, 0, "the first M_NOWAIT request is before the exhaustion");
    for _ in 0..3 {
        assert_eq!(s.malloc(32, M_NOWAIT).expect("nowait"), 0);
    }
    let b = s.malloc(32, M_WAITOK).expect("waitok is not affected");
    assert_ne!(b, 0);
    assert_eq!(s.k.nowait_allocations(), 4);
    s.k.set_nowait_exhaustion(None);
    let c = s.malloc(32, M_NOWAIT).expect("nowait");
    assert_ne!(c, 0);
    for p in [a, b, c] {
        s.free(p);
    }
    assert_eq!(s.live(), (0, 0));
}

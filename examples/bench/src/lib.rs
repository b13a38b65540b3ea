//! `bench.ko`: allocation hot paths of `freebsd-kmi-rs`, exported for `tools/kmod-bench`.
//!
//! Every `bench_*` function loops `n` times over one allocation and its free, and returns
//! how many of the `n` allocations succeeded (always `n` unless an `M_NOWAIT` allocation
//! failed). The harness calls them in the kernel simulator under callgrind and compares
//! them with the C twin `examples/c-twins/bench.c`:
//!
//! | function | Rust operation | C twin |
//! |---|---|---|
//! | [`bench_box_alloc`] | `Box::new(u64)` + drop (global allocator, `M_WAITOK`) | `bench_malloc8_waitok`: `malloc(8, M_BENCH, M_WAITOK)` + `free` |
//! | [`bench_vec_alloc`] | `Vec::<u64>::new()` + `push` + drop (32-byte block) | `bench_malloc32_waitok`: `malloc(32, ..)` + `free` |
//! | [`bench_kbox_try_new`] | `KBox::try_new(u64, Flags::NOWAIT)` + drop | `bench_malloc8_nowait`: `malloc(8, .., M_NOWAIT)` + NULL check + `free` |
//! | [`bench_kvec_try_push`] | `KVec::<u64>::new()` + `try_push(.., Flags::NOWAIT)` + drop | `bench_malloc32_nowait` |
//! | [`bench_mutex_lock`] | uncontended `Mutex::lock` + guard drop | `bench_mtx_lock`: `mtx_lock` + `mtx_unlock` |
//! | `debug.bench.value` | a read through a [`SysctlCtx`] `add_rw::<i32>` handler | `SYSCTL_INT(_debug_bench, OID_AUTO, value, CTLFLAG_RW, ..)` |
//!
//! `Vec` and `KVec` both grow an empty vector of `u64` to 4 elements (32 bytes) on the first
//! push, hence the 32-byte C twins. [`core::hint::black_box`] keeps the optimiser from
//! removing the allocation pairs (LLVM may delete an unused `__rust_alloc`/`__rust_dealloc`
//! pair); the C twin stores through a `volatile` pointer for the same reason.
//!
//! On load the module runs each loop once and prints a line; on unload it prints a line.
//! It frees everything it allocates, so the simulator reports no leak.
#![no_std]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::hint::black_box;
use freebsd_kmi::errno::Errno;
use freebsd_kmi::heap::{KBox, KVec};
use freebsd_kmi::malloc::Flags;
use freebsd_kmi::module::Module;
use core::sync::atomic::{AtomicI32, Ordering};
use freebsd_kmi::sync::Mutex;
use freebsd_kmi::sysctl::{Flags as SysctlFlags, Root, SysctlCtx};
use freebsd_kmi::{kprintln, release};

/// `n` times: `Box::new(i)` through the global allocator (`malloc(8, M_RUST, M_WAITOK)`)
/// and its drop (`free`). Returns the number of allocations (`n`).
#[unsafe(no_mangle)]
pub extern "C" fn bench_box_alloc(n: u64) -> u64 {
    let mut done = 0;
    for i in 0..n {
        let b = black_box(Box::new(i));
        done += u64::from(*b == i);
        drop(b);
    }
    done
}

/// `n` times: an empty `Vec<u64>`, one `push` (grows to 4 elements: `malloc(32, M_RUST,
/// M_WAITOK)`) and its drop. Returns the number of allocations (`n`).
#[unsafe(no_mangle)]
pub extern "C" fn bench_vec_alloc(n: u64) -> u64 {
    let mut done = 0;
    for i in 0..n {
        let mut v: Vec<u64> = Vec::new();
        v.push(i);
        let v = black_box(v);
        done += u64::from(v[0] == i);
        drop(v);
    }
    done
}

/// `n` times: `KBox::try_new(i, Flags::NOWAIT)` (`malloc(8, M_RUST, M_NOWAIT)`, NULL
/// becomes `Err(ENOMEM)`) and its drop. Returns the number of successful allocations.
#[unsafe(no_mangle)]
pub extern "C" fn bench_kbox_try_new(n: u64) -> u64 {
    let mut done = 0;
    for i in 0..n {
        if let Ok(b) = KBox::try_new(i, Flags::NOWAIT) {
            let b = black_box(b);
            done += u64::from(*b == i);
            drop(b);
        }
    }
    done
}

/// `n` times: an empty `KVec<u64>`, one `try_push(i, Flags::NOWAIT)` (grows to 4 elements:
/// `malloc(32, M_RUST, M_NOWAIT)`) and its drop. Returns the number of successful pushes.
#[unsafe(no_mangle)]
pub extern "C" fn bench_kvec_try_push(n: u64) -> u64 {
    let mut done = 0;
    for i in 0..n {
        let mut v: KVec<u64> = KVec::new();
        if v.try_push(i, Flags::NOWAIT).is_ok() {
            let v = black_box(v);
            done += u64::from(v[0] == i);
            drop(v);
        }
    }
    done
}

/// `n` times: lock an uncontended [`Mutex`] (`__mtx_lock_flags`), add 1 under it, drop the
/// guard (`__mtx_unlock_flags`). The mutex is created and destroyed once per call (the
/// harness subtracts the `n = 0` call). Returns the count (`n`; 0 if the mutex could not be
/// allocated).
#[unsafe(no_mangle)]
pub extern "C" fn bench_mutex_lock(n: u64) -> u64 {
    let Ok(m) = Mutex::new_named(0u64, c"bench") else {
        return 0;
    };
    for _ in 0..n {
        // The lock calls are opaque kernel calls on memory they can reach, so the loop and
        // the increments stay without black_box.
        *m.lock() += 1;
    }
    let done = *m.lock();
    done
}

/// The module: the sysctl context of `debug.bench.value`, which the harness reads
/// (a sysctl read of an int: the Rust handler against C's `SYSCTL_INT`).
struct Bench {
    _sysctl: SysctlCtx<AtomicI32>,
}

impl Module for Bench {
    fn load() -> Result<Self, Errno> {
        // One round of each loop, so a plain load exercises every path the harness measures.
        let ok = bench_box_alloc(1) + bench_vec_alloc(1) + bench_kbox_try_new(1) + bench_kvec_try_push(1);
        let locked = bench_mutex_lock(1);
        kprintln!("bench: loaded for FreeBSD {} ({ok}/4 allocation loops ran, {locked}/1 lock loop)", release::NAME);
        let mut sysctl = SysctlCtx::new(AtomicI32::new(7))?;
        let node = sysctl.add_node(Root::DEBUG, c"bench", c"kmod-bench")?;
        sysctl.add_rw(
            node,
            c"value",
            SysctlFlags::empty(),
            c"an int the harness reads",
            |v: &AtomicI32, _req| v.load(Ordering::Relaxed),
            |v: &AtomicI32, new: i32| {
                v.store(new, Ordering::Relaxed);
                Ok(())
            },
        )?;
        Ok(Bench { _sysctl: sysctl })
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        kprintln!("bench: unloaded");
    }
}

freebsd_kmi::module! {
    type: Bench,
    name: "bench",
    version: 1,
}

//! Faults in module code are caught and reported with symbol + offset; they never hang or kill
//! the harness.
mod common;
use std::time::Duration;

use kernel_sim::{FaultKind, Kernel, ModuleId, SimOptions, SimRelease};

fn boot() -> (std::sync::MutexGuard<'static, ()>, Kernel, ModuleId) {
    let g = common::lock();
    let ko = common::build("faults", &["faults.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    (g, k, id)
}

fn sym(k: &Kernel, id: ModuleId, name: &str) -> usize {
    k.lookup_symbol(id, name).unwrap_or_else(|| panic!("no symbol {name}"))
}

#[test]
fn null_dereference_reports_symbol_and_offset() {
    let (_g, mut k, id) = boot();
    let f = k.call(sym(&k, id, "faults_nullderef"), &[0]).expect_err("must fault");
    assert_eq!(f.kind, FaultKind::PageFault { addr: 0 });
    assert_eq!(f.symbol.as_deref(), Some("faults_nullderef"));
    assert_eq!(f.rip, sym(&k, id, "faults_nullderef") + f.offset);
    assert!(f.location.starts_with("faults_nullderef+0x") && f.location.ends_with("(faults.ko)"), "{}", f.location);
    assert!(f.to_string().contains("Fatal trap 12: page fault while in kernel mode"), "{f}");
    // The kernel still works and the module unloads.
    assert_eq!(k.call(sym(&k, id, "faults_recurse"), &[3]).expect("call"), 6);
    k.unload(id).expect("unload");
}

#[test]
fn endless_loop_hits_the_watchdog() {
    let (_g, mut k, id) = boot();
    let spin = sym(&k, id, "faults_spin");
    let t0 = std::time::Instant::now();
    let f = k.call_timeout(spin, &[], Some(Duration::from_millis(200))).expect_err("must time out");
    assert!(t0.elapsed() < Duration::from_secs(5), "watchdog too slow: {:?}", t0.elapsed());
    assert_eq!(f.kind, FaultKind::Timeout(Duration::from_millis(200)));
    assert_eq!(f.symbol.as_deref(), Some("faults_spin"), "{}", f.location);
    k.unload(id).expect("unload");
}

#[test]
fn kernel_stack_overflow_hits_the_guard_page() {
    let (_g, mut k, id) = boot();
    let f = k.call(sym(&k, id, "faults_recurse"), &[100_000]).expect_err("must overflow");
    assert!(matches!(f.kind, FaultKind::StackOverflow { .. }), "{f}");
    assert_eq!(f.symbol.as_deref(), Some("faults_recurse"));
    k.unload(id).expect("unload");
}

#[test]
fn write_to_rodata_faults() {
    let (_g, mut k, id) = boot();
    let f = k.call(sym(&k, id, "faults_write_rodata"), &[]).expect_err("rodata is read-only");
    assert!(matches!(f.kind, FaultKind::PageFault { addr } if addr == sym(&k, id, "faults_ro")), "{f}");
    k.unload(id).expect("unload");
}

#[test]
fn double_free_is_detected() {
    let (_g, mut k, id) = boot();
    let f = k.call(sym(&k, id, "faults_double_free"), &[]).expect_err("double free");
    let msg = f.panic_message().expect("panic").to_string();
    assert!(msg.starts_with("free: address 0x") && msg.contains("double free"), "{msg}");
    assert!(k.console().contains("panic: free: address"));
}

#[test]
fn nowait_failure_injection_returns_null() {
    let (_g, mut k, id) = boot();
    let alloc = sym(&k, id, "faults_nowait_alloc");
    let free = sym(&k, id, "faults_free");
    // Loading faults.ko made no M_NOWAIT allocation; the counter counts every request,
    // the failed one included, and is not reset by set_nowait_failure.
    assert_eq!(k.nowait_allocations(), 0);
    k.set_nowait_failure(Some(2));
    let a = k.call(alloc, &[]).expect("1st");
    let b = k.call(alloc, &[]).expect("2nd");
    let c = k.call(alloc, &[]).expect("3rd");
    assert_ne!(a, 0);
    assert_eq!(b, 0, "the 2nd M_NOWAIT allocation must fail");
    assert_ne!(c, 0);
    assert_eq!(k.nowait_allocations(), 3);
    k.set_nowait_failure(None);
    assert_eq!(k.nowait_allocations(), 3);
    // faults.ko's two malloc types lie in its image; no other file's does.
    let mut own: Vec<String> = k.malloc_types_of(id).into_iter().map(|t| t.name).collect();
    own.sort();
    assert_eq!(own, vec!["faults".to_string(), "faults_other".to_string()]);
    assert!(k.malloc_types_of(kernel_sim::ModuleId(id.0 + 100)).is_empty());
    assert_eq!(a % 32, 0, "32-byte zone alignment");
    k.call(free, &[a]).expect("free");
    k.call(free, &[c]).expect("free");
    let t = k.malloc_type("faults").expect("type");
    assert_eq!((t.total_allocs, t.total_frees, t.live_allocs), (2, 2, 0));
    k.unload(id).expect("unload");
    assert!(!k.console().contains("leaked"), "{}", k.console());
}

#[test]
fn aligned_allocations_and_bad_alignments() {
    let (_g, mut k, id) = boot();
    let alloc = sym(&k, id, "faults_aligned_alloc");
    let free = sym(&k, id, "faults_free");
    for (size, align) in [(100u64, 64u64), (1, 4096), (5000, 256), (24, 16)] {
        let p = k.call(alloc, &[size, align]).expect("aligned alloc");
        assert_ne!(p, 0);
        assert_eq!(p % align, 0, "size {size} align {align}");
        k.call(free, &[p]).expect("free");
    }
    let f = k.call(alloc, &[100, 3]).expect_err("bad align");
    assert_eq!(f.panic_message(), Some("malloc_domainset_aligned: wrong align 0x3 size 0x64"));
    let f = k.call(alloc, &[100, 8192]).expect_err("too large");
    assert_eq!(f.panic_message(), Some("malloc_domainset_aligned: align 0x2000 (size 0x64) too large"));
    k.unload(id).expect("unload");
}

#[test]
fn free_with_the_wrong_type_is_detected() {
    let (_g, mut k, id) = boot();
    let f = k.call(sym(&k, id, "faults_wrong_type_free"), &[]).expect_err("wrong type");
    let msg = f.panic_message().expect("panic");
    assert!(msg.contains("allocated with type 'faults' but freed with type 'faults_other'"), "{msg}");
}

#[test]
fn malloc_type_used_before_malloc_init_is_reported() {
    let (_g, mut k, id) = boot();
    let f = k.call(sym(&k, id, "faults_noinit_alloc"), &[]).expect_err("uninitialised type");
    let msg = f.panic_message().expect("panic");
    assert!(msg.contains("('noinit') used before malloc_init()"), "{msg}");
}

#[test]
fn stack_protector_failure_is_a_panic() {
    let (_g, mut k, id) = boot();
    let smash = sym(&k, id, "faults_smash");
    k.call(smash, &[8]).expect("in bounds");
    let f = k.call(smash, &[64]).expect_err("canary clobbered");
    assert_eq!(f.panic_message(), Some("stack overflow detected; backtrace may be corrupted"), "{f}");
    k.unload(id).expect("unload");
}

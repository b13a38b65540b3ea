//! A mock kernel for the facade's host unit tests (unit tests only): malloc(9) over the
//! host allocator with per-thread accounting and failure injection, and a captured console.

use core::ffi::{c_int, c_void};
use freebsd_kpi::common::malloc::{M_NOWAIT, M_ZERO, malloc_type};
use freebsd_kpi::kpi::Kpi;
use freebsd_kpi::release::Release;
use std::alloc::Layout;
use std::cell::RefCell;
use std::collections::HashMap;

/// One kernel call the mock saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Malloc { size: usize, flags: c_int },
    MallocAligned { size: usize, align: usize, flags: c_int },
    Realloc { size: usize, flags: c_int },
    Free,
}

#[derive(Default)]
pub struct State {
    pub live: HashMap<usize, (Layout, usize)>,
    pub calls: Vec<Call>,
    /// Fail the next N M_NOWAIT allocations.
    pub fail_nowait: usize,
    /// `vm_kmem_size` the mock reports; 1 GiB when `None`.
    pub kmem_size: Option<usize>,
    pub console: Vec<u8>,
    pub terminal: Vec<u8>,
    pub log: Vec<(c_int, Vec<u8>)>,
    pub prints: usize,
}

thread_local! {
    pub static STATE: RefCell<State> = RefCell::new(State::default());
}

pub fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

pub fn reset() {
    with(|s| *s = State::default());
    // What the M_RUST SYSINIT does in a kernel.
    crate::heap::M_RUST.register_for_test();
}

pub struct MockKernel;

/// What the kernel's `"%.*s"` prints of `msg`: up to the first NUL (kvprintf,
/// kern/subr_prf.c: `for (n = 0; n < dwidth && p[n]; n++)`).
fn percent_dot_star_s(msg: &[u8]) -> &[u8] {
    &msg[..msg.iter().position(|&b| b == 0).unwrap_or(msg.len())]
}

fn host_alloc(size: usize, align: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void {
    with(|s| {
        if flags & M_NOWAIT != 0 && s.fail_nowait > 0 {
            s.fail_nowait -= 1;
            return std::ptr::null_mut();
        }
        // The kernel guarantees 16 bytes for most sizes; the mock hands out exactly the
        // requested alignment so tests catch code relying on more.
        let layout = Layout::from_size_align(size.max(1), align).unwrap();
        // SAFETY: non-zero size.
        let p = unsafe {
            if flags & M_ZERO != 0 { std::alloc::alloc_zeroed(layout) } else { std::alloc::alloc(layout) }
        };
        if !p.is_null() && flags & M_ZERO == 0 {
            // Poison fresh memory so missing M_ZERO shows.
            // SAFETY: p is valid for `size` bytes.
            unsafe { p.write_bytes(0xA5, size) };
        }
        s.live.insert(p as usize, (layout, ty as usize));
        p.cast()
    })
}

// SAFETY: allocations come from the host allocator with the requested size/alignment and
// stay valid until `free`; `panic` never returns (it unwinds the test).
unsafe impl Kpi for MockKernel {
    const RELEASE: Release = freebsd_kpi::selected::RELEASE;
    const M_VERSION: u64 = freebsd_kpi::selected::M_VERSION;

    fn kmem_size() -> usize {
        with(|s| s.kmem_size.unwrap_or(1 << 30))
    }

    unsafe fn malloc(size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void {
        with(|s| s.calls.push(Call::Malloc { size, flags }));
        host_alloc(size, 8, ty, flags)
    }

    unsafe fn malloc_aligned(size: usize, align: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void {
        assert!(align.is_power_of_two() && align <= 4096, "malloc_domainset_aligned: bad align {align}");
        with(|s| s.calls.push(Call::MallocAligned { size, align, flags }));
        host_alloc(size, align, ty, flags)
    }

    unsafe fn realloc(addr: *mut c_void, size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void {
        with(|s| s.calls.push(Call::Realloc { size, flags }));
        let q = host_alloc(size, 8, ty, flags);
        if q.is_null() || addr.is_null() {
            return q;
        }
        let (old, owner) = with(|s| s.live.remove(&(addr as usize))).expect("realloc of unknown pointer");
        assert_eq!(owner, ty as usize, "realloc with another malloc type");
        // SAFETY: both blocks are live and at least min(old, new) long.
        unsafe {
            std::ptr::copy_nonoverlapping(addr as *const u8, q as *mut u8, old.size().min(size));
            std::alloc::dealloc(addr.cast(), old);
        }
        q
    }

    unsafe fn free(addr: *mut c_void, ty: *mut malloc_type) {
        with(|s| s.calls.push(Call::Free));
        if addr.is_null() {
            return;
        }
        let (layout, owner) = with(|s| s.live.remove(&(addr as usize))).expect("free of unknown pointer (double free?)");
        assert_eq!(owner, ty as usize, "free with another malloc type");
        // SAFETY: the block came from host_alloc with this layout.
        unsafe { std::alloc::dealloc(addr.cast(), layout) };
    }

    fn print(msg: &[u8]) {
        with(|s| {
            s.console.extend_from_slice(percent_dot_star_s(msg));
            s.prints += 1;
        });
    }

    fn uprint(msg: &[u8]) {
        with(|s| s.terminal.extend_from_slice(percent_dot_star_s(msg)));
    }

    fn log(priority: c_int, msg: &[u8]) {
        with(|s| s.log.push((priority, percent_dot_star_s(msg).to_vec())));
    }

    fn panic(msg: &[u8]) -> ! {
        panic!("kernel panic: {}", String::from_utf8_lossy(msg))
    }
}

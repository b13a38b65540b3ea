//! The simulator still boots when something (valgrind's tool, say, at 0x5800_0000) already
//! occupies the top of its preferred arena: it settles for the largest free run at the base.

use kernel_sim::arena::{ARENA_BASE, ARENA_SIZE, MIN_ARENA_SIZE};
use kernel_sim::{Kernel, SimOptions, SimRelease};

#[test]
fn boots_with_a_smaller_arena_when_the_top_is_taken() {
    let squatter = ARENA_BASE + ARENA_SIZE - (128 << 20);
    // SAFETY: a private anonymous page at a fixed address that nothing else uses (the
    // simulator is not booted yet); MAP_FIXED_NOREPLACE never replaces a mapping.
    let p = unsafe {
        libc::mmap(
            squatter as *mut libc::c_void,
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    assert_eq!(p as usize, squatter, "test set-up: cannot map the squatter page");
    let k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot with a smaller arena");
    assert!(k.console().is_empty());
    drop(k);
    // SAFETY: unmapping the page mapped above.
    unsafe { libc::munmap(p, 4096) };
    assert!(MIN_ARENA_SIZE <= squatter - ARENA_BASE);
}

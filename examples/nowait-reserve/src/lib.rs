//! `nowait_reserve.ko`: a module whose global allocator uses `M_NOWAIT | M_USE_RESERVE`
//! (features `GLOBAL_ALLOC_FLAG_NOWAIT` + `GLOBAL_ALLOC_FLAG_USERESERVE`), for code that
//! allocates where sleeping is forbidden but malloc(9) is allowed: with a sleep mutex
//! held, in an ithread or callout handler.
//!
//! `M_NOWAIT` does not make malloc(9) or free(9) usable everywhere: never allocate or free
//! (so never create, grow or drop a `Vec`/`KBox`) in an interrupt filter, inside a critical
//! section or with a spin mutex held. INVARIANTS kernels assert it (`malloc: called with
//! spinlock or critical section held`, sys/kern/kern_malloc.c).
//!
//! With NOWAIT an allocation can fail, so every allocation here goes through a fallible
//! API (`Vec::try_reserve`, `KBox::try_new`) and a failure fails the load with ENOMEM
//! instead of reaching the alloc-error handler (which would panic the kernel).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use freebsd_kmi::errno::{ENOMEM, Errno};
use freebsd_kmi::heap::{GLOBAL_ALLOC_FLAGS, KBox};
use freebsd_kmi::malloc::Flags;
use freebsd_kmi::module::Module;
use freebsd_kmi::kprintln;

/// A ring of samples filled without ever sleeping.
struct NoWait {
    samples: Vec<u32>,
    state: KBox<[u64; 4]>,
}

impl Module for NoWait {
    fn load() -> Result<Self, Errno> {
        let mut samples = Vec::new();
        samples.try_reserve_exact(64).map_err(|_| ENOMEM)?;
        samples.extend((0..64u32).map(|i| i.wrapping_mul(2654435761)));
        let state = KBox::try_new([0u64; 4], Flags::NOWAIT)?;
        let flags = GLOBAL_ALLOC_FLAGS.map_or(0, |f| f.bits());
        kprintln!("nowait_reserve: loaded, {} samples, global allocator flags {flags:#x}", samples.len());
        Ok(NoWait { samples, state })
    }
}

impl Drop for NoWait {
    fn drop(&mut self) {
        kprintln!("nowait_reserve: unloaded ({} samples, state {})", self.samples.len(), self.state[0]);
    }
}

freebsd_kmi::module! {
    type: NoWait,
    name: "nowait_reserve",
    version: 1,
}

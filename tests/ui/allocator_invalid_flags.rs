// WAITOK and NOWAIT together are rejected at compile time in a static.
use freebsd_kmi::heap::{KernelAllocator, M_RUST};
use freebsd_kmi::malloc::Flags;

static ALLOCATOR: KernelAllocator = KernelAllocator::new(&M_RUST, Flags::WAITOK.union(Flags::NOWAIT));

fn main() {
    let _ = &ALLOCATOR;
}

// M_USE_RESERVE only goes with M_NOWAIT.
use freebsd_kmi::heap::{KernelAllocator, M_RUST};
use freebsd_kmi::malloc::Flags;

static ALLOCATOR: KernelAllocator = KernelAllocator::new(&M_RUST, Flags::WAITOK.union(Flags::USE_RESERVE));

fn main() {
    let _ = &ALLOCATOR;
}

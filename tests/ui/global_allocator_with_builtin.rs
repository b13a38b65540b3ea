// The built-in global allocator is on (default features): declaring another is refused
// with the feature to enable.
freebsd_kmi::malloc_define!(M_MINE, "mine", "my allocations");
freebsd_kmi::global_allocator!(static ALLOCATOR = (M_MINE, Flags::NOWAIT));

fn main() {}

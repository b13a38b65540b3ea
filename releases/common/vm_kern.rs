//! Kernel memory management globals (`sys/vm/vm_kern.h`), as far as malloc(9) users need them.

use core::ffi::c_ulong;

kpi_statics! {
    table VM_KERN_DATA, header "sys/vm/vm_kern.h";
    /// `vm_kmem_size`: the size of the kmem arena, the limit malloc(9)/UMA memory is held
    /// to (`kmeminit()` in sys/kern/kern_malloc.c computes it at boot as
    /// `min(max(physmem / VM_KMEM_SIZE_SCALE, VM_KMEM_SIZE_MIN), VM_KMEM_SIZE_MAX)`, at
    /// most twice the physical memory, rounded to pages, and passes it to
    /// `uma_set_limit()`). Read-only after boot (`vm.kmem_size`, `CTLFLAG_RDTUN`).
    pub static vm_kmem_size: c_ulong;
}

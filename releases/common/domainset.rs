//! NUMA domain selection policies (`sys/sys/domainset.h`), as far as malloc(9) needs them.

/// `struct domainset`: opaque here; only its address is passed to the kernel.
#[repr(C)]
pub struct domainset {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<*mut u8>,
}

kpi_statics! {
    table DOMAINSET_DATA, header "sys/sys/domainset.h";
    /// The round-robin policy, `DOMAINSET_RR()`.
    pub static domainset_roundrobin: domainset;
}

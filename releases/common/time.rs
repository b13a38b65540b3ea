//! Time as the sleep functions take it (`sys/sys/time.h`): `sbintime_t` (32.32 fixed-point
//! seconds) and `tick_sbt`, the length of one clock tick (`hz` ticks per second), which the
//! tick-based macros multiply (`msleep(..., timo)` sleeps `tick_sbt * timo`).
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `time.h`), 14.2 and 15.0 (probed).

/// `sbintime_t`: signed 32.32 fixed-point seconds.
pub type sbintime_t = i64;

abi_consts! {
    table TIME_CONSTS, header "sys/sys/time.h";
    /// One millisecond (`SBT_1S / 1000`; `SBT_1S`, `(sbintime_t)1 << 32`, is not bound: the
    /// conformance probes read 32-bit immediates).
    pub const SBT_1MS: sbintime_t = (1 << 32) / 1000;
    /// One microsecond (`SBT_1S / 1000000`).
    pub const SBT_1US: sbintime_t = (1 << 32) / 1000000;
}

kpi_statics! {
    table TIME_DATA, header "sys/sys/time.h";
    /// `tick_sbt`: one clock tick as an sbintime_t.
    pub static tick_sbt: sbintime_t;
}

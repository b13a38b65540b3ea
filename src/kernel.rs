//! The selected release's raw bindings and its [`Kpi`] implementation.
//!
//! Everything here is re-exported from `freebsd_kpi::selected`; reach for it when the safe
//! API does not cover what you need. Names are FreeBSD's.

pub use freebsd_kpi::kpi::Kpi;
pub use freebsd_kpi::selected::*;

/// The kernel the module is built for: the selected release's [`Kpi`] implementation.
pub type Kernel = freebsd_kpi::selected::Kernel;

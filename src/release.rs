//! The FreeBSD release this build targets.
//!
//! One of the features `freebsd-13` / `freebsd-14` / `freebsd-15` selects it; everything here is a
//! constant of that release, generated from `releases/<folder>/release.toml`.
//!
//! ```
//! use freebsd_kmi::release;
//! assert!(release::KERNEL_MIN <= release::KERNEL_MAX);
//! assert_eq!(release::KERNEL_MAX % 100_000, 99_999);
//! assert_eq!(release::FREEBSD_VERSION as u32 / 100_000, release::MAJOR as u32);
//! ```

use core::ffi::c_int;
pub use freebsd_kpi::release::{ReleaseIdentity, Status};

/// The selected release's identity.
pub const RELEASE: ReleaseIdentity = freebsd_kpi::selected::IDENTITY;
/// `"13.1"`, `"14.0"` or `"15.0"`.
pub const NAME: &str = RELEASE.name;
/// Semantic version, `"14.0.0"`.
pub const VERSION: &str = RELEASE.version;
/// Major version.
pub const MAJOR: u64 = RELEASE.major;
/// Minor version.
pub const MINOR: u64 = RELEASE.minor;
/// `__FreeBSD_version` the module is built against (sys/sys/param.h).
pub const FREEBSD_VERSION: c_int = RELEASE.freebsd_version as c_int;
/// Oldest kernel the module loads on (its `MODULE_DEPEND(kernel)` minimum).
pub const KERNEL_MIN: c_int = RELEASE.kernel_min as c_int;
/// Newest kernel it loads on: `MODULE_KERNEL_MAXVER` = `roundup(V, 100000) - 1`.
pub const KERNEL_MAX: c_int = RELEASE.kernel_max as c_int;
/// Legacy or current.
pub const STATUS: Status = RELEASE.status;
/// `M_VERSION` every malloc type of this release carries.
pub const M_VERSION: u64 = freebsd_kpi::selected::M_VERSION;
/// `sizeof(struct sysinit)` on this release.
pub const SYSINIT_SIZE: usize = core::mem::size_of::<freebsd_kpi::selected::sysinit>();

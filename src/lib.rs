//! # freebsd-kmi-rs
//!
//! Write FreeBSD kernel modules in Rust: safe realisations of the FreeBSD kernel
//! programming interface over the raw per-release bindings of
//! [`freebsd-kpi-rs`](freebsd_kpi).
//!
//! - [`module!`] and [`module::Module`]: the module lifecycle (`DECLARE_MODULE`).
//! - [`heap`]: the global allocator over malloc(9), and [`heap::KBox`] / [`heap::KVec`]
//!   with per-call [`malloc::Flags`] for code that must not sleep.
//! - [`malloc_define!`]: malloc types (`MALLOC_DEFINE`).
//! - [`kprintln!`], [`uprintln!`], [`klog!`]: printing without format-string bugs or
//!   allocation.
//! - [`sync`]: [`sync::Mutex`], [`sync::SpinMutex`], [`sync::SxLock`], [`sync::CondVar`],
//!   sleep/wakeup and pause; [`thread`]: kernel threads joined before unload.
//! - [`cdev`]: character devices under `/dev` ([`cdev::CharDevice`], [`cdev::Registration`]),
//!   direction-typed uio, typed ioctls, `priv_check`, copyin/copyout.
//! - [`callout`]: timers whose handler runs with a mutex held, drained on drop;
//!   [`taskqueue`]: deferred (sleepable) work with FreeBSD's coalescing, drained on drop;
//!   [`eventhandler`]: shutdown and low-memory handlers, deregistered on drop.
//! - [`sysctl`]: dynamic sysctls owned by a [`sysctl::SysctlCtx`], static ones
//!   ([`sysctl_static!`]) and tunables ([`sysctl::tunable`]).
//! - [`errno`]: FreeBSD errors as [`errno::Errno`].
//! - [`panic`](mod@panic): the default panic and alloc-error handlers, and the pieces to write yours.
//! - [`release`]: the FreeBSD release the build targets (features `freebsd-13` /
//!   `freebsd-14` / `freebsd-15`).
//!
//! The API is the same on every release; only `releases/` differs.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(default_alloc_error_handler, feature(alloc_error_handler))]

mod config;

pub mod caller;
pub mod cdev;
pub mod callout;
pub mod errno;
pub mod eventhandler;
pub mod fmt_buf;
pub mod heap;
pub mod kernel;
pub mod linker_set;
pub mod malloc;
pub mod module;
pub mod panic;
pub mod print;
pub mod release;
pub mod sync;
pub mod taskqueue;
pub mod sysctl;
pub mod thread;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod mock_sync;

#[doc(hidden)]
pub use freebsd_kpi as __kpi;

//! `cargo kmod`: builds FreeBSD amd64 kernel modules (`.ko`) written in Rust and checks
//! them against what the FreeBSD kernel linker accepts.
//!
//! The library holds everything the `cargo-kmod` binary does, so tests and other tools
//! (the kernel-linker simulator, a future `cargo kmod run`) can call it:
//!
//! * [`release`]: `--freebsd 14.2` -> the bindings that load there (the
//!   `freebsd_kpi::catalog`).
//! * [`check`]: the `.ko` checker ([`check::check`], [`check::check_file`]).
//! * [`toolchain`]: finds a rustc with the library source, `ld.lld` and an objcopy.
//! * [`sysroot`]: `core`/`alloc` for the kernel target, compiled once per toolchain and
//!   shared by every module, release and workspace.
//! * [`build`]: builds a module package for the kernel target and links it
//!   ([`build::build`]).
//! * [`link`]: the kmod.mk link step (`ld.lld -r` with the kmod linker script, symbol
//!   localisation, strip).
//! * [`workspace`]: where the module packages and outputs live (the workspace you stand
//!   in).
//! * [`expected_console`]: `examples/<name>/expected-console.txt`, the console lines the
//!   simulator tests and the FreeBSD VM job expect.
//! * [`expected_exec`]: `examples/<name>/expected-exec.txt`, the commands that exercise an
//!   example's devices and sysctls and their transcript, for the same two.
//! * [`new_package`]: `cargo kmod new`, a module package to start from.
//!
//! * [`run`]: `cargo kmod run`, modules in the userspace kernel simulator (lib
//!   [`kernel_sim`]): lifecycle, `--cycles`, `--nowait-sweep`, allocation report.

pub mod build;
pub mod check;
pub mod expected_console;
pub mod expected_exec;
pub mod link;
pub mod new_package;
pub mod release;
pub mod run;
pub mod sysroot;
pub mod toolchain;
pub mod workspace;

pub use freebsd_kpi::release::Release;

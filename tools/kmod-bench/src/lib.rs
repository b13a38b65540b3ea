//! `kmod-bench`: numbers, not pass/fail tests. Rust kernel modules built by `cargo kmod`
//! against their C twins built from the real FreeBSD headers:
//!
//! * [`elfsize`]: `.ko` text/data/bss, Rust vs C, for every example with a C twin;
//! * [`measure`] + [`callgrind`]: instructions per allocation + free through the global
//!   allocator (`Box`, `Vec`) and the fallible API (`KBox::try_new`, `KVec::try_push`)
//!   versus `malloc`/`free` in C, and per module load + unload, counted with
//!   `valgrind --tool=callgrind` in the userspace kernel simulator;
//! * [`buildtime`]: cold and warm build time of the example x release matrix;
//! * [`switches`]: simulator throughput, context switches per second between kernel threads.
//!
//! The `kmod-bench` binary (run by `ci/bench`) prints the table; see the README's
//! `## Benchmarks` section for what each number includes.

pub mod buildtime;
pub mod coverage;
pub mod callgrind;
pub mod ctwin;
pub mod elfsize;
pub mod measure;
pub mod switches;

use std::path::{Path, PathBuf};

/// Repository root (`tools/kmod-bench/../..`).
pub fn repo() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The C twin of example `example`, if `examples/c-twins/<name>.c` exists (`-` becomes `_`).
pub fn c_twin_of(repo: &Path, example: &str) -> Option<String> {
    let file = format!("{}.c", example.replace('-', "_"));
    repo.join("examples/c-twins")
        .join(&file)
        .is_file()
        .then_some(file)
}

//! The modules of a run: `.ko` paths taken as they are (checked first), everything else
//! built with [`crate::build::build`] for the release.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use freebsd_kpi::release::Release;

use crate::build::{self, BuildOptions};
use crate::check::{self, Problem};
use crate::workspace::Workspace;

/// One module to load.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file to `kldload`.
    pub ko: PathBuf,
    /// Its file name (the kernel's name for it).
    pub file: String,
    /// Problems `cargo kmod check` found that the kernel linker would refuse (empty when
    /// it passes, or when the module was just built: `build` fails on them).
    pub check_problems: Vec<String>,
    /// Check findings that do not stop a prebuilt `.ko` (see [`classify`]).
    pub check_notes: Vec<String>,
    /// Set when the `.ko` declares a kernel version range of another release.
    pub wrong_release: Option<String>,
}

/// `built for FreeBSD 13.x (MODULE_DEPEND(kernel, 1301000, 1301000, 1399999)), not 14.0`
/// when the checker found a kernel version range of another release.
pub fn wrong_release(problems: &[Problem], release: &Release) -> Option<String> {
    problems.iter().find_map(|p| match p {
        Problem::VersionRange { found, .. } => Some(format!(
            "wrong release: built for FreeBSD {}.x kernels (MODULE_DEPEND(kernel, {}, {}, {})), not for {} (__FreeBSD_version {})",
            found.pref / 100000,
            found.min,
            found.pref,
            found.max,
            release.identity.name,
            release.identity.freebsd_version
        )),
        _ => None,
    })
}

/// Whether `arg` names a prebuilt `.ko` rather than a module package.
pub fn is_ko_path(arg: &str) -> bool {
    arg.ends_with(".ko") || Path::new(arg).is_file()
}

/// Splits the checker's problems for a prebuilt `.ko`. Every problem is what the kernel
/// would refuse, undefined symbols included: the checker and the simulator share the
/// release's kernel export list (`kernel-exports.txt`), so a symbol the kernel does not
/// export fails both (a kernel export the bindings do not bind is only a note of the
/// report, never a problem). The notes are kept for problems that may not hold.
pub fn classify(problems: &[Problem]) -> (Vec<String>, Vec<String>) {
    (
        problems.iter().map(ToString::to_string).collect(),
        Vec::new(),
    )
}

/// Resolves the command line's modules, building packages for `release`; prebuilt `.ko`
/// files are checked for a kernel of `__FreeBSD_version` `kernel` (a minor release of
/// `release`'s major, at least `release` itself).
pub fn resolve(
    ws: &Workspace,
    modules: &[String],
    release: &'static Release,
    kernel: u32,
    jobs: Option<u32>,
    verbose: bool,
) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for m in modules {
        let input = if is_ko_path(m) {
            let ko = Path::new(m);
            if !ko.is_file() {
                bail!(
                    "{m}: no such file (a `.ko` argument is run as is; give a module name or package path to build one)"
                );
            }
            eprintln!(
                "Checking {} for FreeBSD {}",
                ko.display(),
                release.identity.name
            );
            let data = std::fs::read(ko).with_context(|| format!("reading {}", ko.display()))?;
            let (check_problems, check_notes, wrong) = match check::check_for_kernel(
                &data, release, kernel,
            ) {
                Ok(report) => {
                    let mut notes = Vec::new();
                    if !report.unbound.is_empty() {
                        notes.push(format!(
                            "imports kernel exports the freebsd-kpi-rs bindings do not bind: {}",
                            report.unbound.join(", ")
                        ));
                    }
                    if !report.from_dependencies.is_empty() {
                        notes.push(format!(
                            "imports symbols the kernel does not export, to come from its dependencies: {}",
                            report.from_dependencies.join(", ")
                        ));
                    }
                    (Vec::new(), notes, None)
                }
                Err(e) => {
                    let (hard, notes) = classify(&e.problems);
                    (hard, notes, wrong_release(&e.problems, release))
                }
            };
            Input {
                ko: ko.to_owned(),
                file: file_name(ko),
                check_problems,
                check_notes,
                wrong_release: wrong,
            }
        } else {
            let out = build::build(
                ws,
                &BuildOptions {
                    module: m.clone(),
                    release,
                    jobs,
                    verbose,
                },
            )?;
            eprintln!("Built {}", out.ko.display());
            Input {
                file: file_name(&out.ko),
                ko: out.ko,
                check_problems: Vec::new(),
                check_notes: Vec::new(),
                wrong_release: None,
            }
        };
        inputs.push(input);
    }
    Ok(inputs)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ko_arguments_are_recognised() {
        assert!(is_ko_path("target/kmod/14.0/hello.ko"));
        assert!(!is_ko_path("hello"));
        assert!(!is_ko_path("examples/nowait-reserve"));
    }

    #[test]
    fn symbols_the_kernel_does_not_export_are_problems_for_prebuilt_modules() {
        // Issue 9 item 6: a note is not enough, the kernel refuses the load.
        let (hard, notes) = classify(&[
            Problem::UnknownSymbols {
                release: "14.0".into(),
                symbols: vec!["frobnicate".into()],
            },
            Problem::Metadata("no MDT_MODULE".into()),
        ]);
        assert_eq!(hard.len(), 2);
        assert!(hard[0].contains("frobnicate"));
        assert!(notes.is_empty());
    }
}

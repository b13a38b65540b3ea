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

/// Splits the checker's problems for a prebuilt `.ko`: undefined symbols outside the
/// freebsd-kpi-rs bindings are only notes, because the bindings list what Rust modules
/// bind, not the whole kernel (a C module calling `snprintf` is fine); the simulated kernel
/// linker decides (`link_elf_obj: symbol X undefined`). Everything else is a problem.
pub fn classify(problems: &[Problem]) -> (Vec<String>, Vec<String>) {
    let mut hard = Vec::new();
    let mut notes = Vec::new();
    for p in problems {
        match p {
            Problem::UnknownSymbols { .. } => notes.push(p.to_string()),
            _ => hard.push(p.to_string()),
        }
    }
    (hard, notes)
}

/// Resolves the command line's modules, building packages for `release`.
pub fn resolve(
    ws: &Workspace,
    modules: &[String],
    release: &'static Release,
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
            let (check_problems, check_notes, wrong) = match check::check(&data, release) {
                Ok(_) => (Vec::new(), Vec::new(), None),
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
    fn unknown_kpi_symbols_are_notes_for_prebuilt_modules() {
        let (hard, notes) = classify(&[
            Problem::UnknownSymbols {
                release: "14.0".into(),
                symbols: vec!["snprintf".into()],
            },
            Problem::Metadata("no MDT_MODULE".into()),
        ]);
        assert_eq!(hard, vec!["module metadata: no MDT_MODULE".to_string()]);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("snprintf"));
    }
}

//! Where module packages live and where outputs go.
//!
//! The workspace the tool serves is the one you stand in (`cargo locate-project
//! --workspace` from the current directory), never the one `cargo-kmod` was built in: an
//! installed `cargo kmod` works in any package or workspace. Outputs go to that
//! workspace's `target/kmod/<release>/<module>.ko`, builds to its `target/kmod-build`.
//! Outside any package (e.g. `cargo kmod run /path/to/pkg` from `/tmp`) the module
//! package's own workspace is used.
//!
//! A module argument is a name under the workspace's `examples/` (this repository's
//! examples: `cargo kmod run hello`), a package directory or its `Cargo.toml`; no argument
//! means the package you stand in. A module package is a package with a `staticlib` lib
//! target ([`ModulePackage`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The workspace the tool serves.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The workspace root (holds the root `Cargo.toml`).
    pub root: PathBuf,
    /// Whether `root` is a Cargo workspace you stand in (false: the current directory,
    /// outside any package).
    inside: bool,
}

/// A package that `cargo kmod build` can link into a `.ko`: it has a `staticlib` lib target.
#[derive(Clone, Debug)]
pub struct ModulePackage {
    /// The package directory.
    pub dir: PathBuf,
    /// Its `Cargo.toml`.
    pub manifest: PathBuf,
    /// The package name.
    pub name: String,
    /// The lib target's name (the module name, `-` as `_`).
    pub lib_name: String,
    /// Its features.
    pub features: Vec<String>,
    /// The root of the workspace the package belongs to.
    pub workspace_root: PathBuf,
}

/// The `cargo` to ask about packages: the one that runs us (`CARGO`), else `cargo`.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo locate-project [--workspace]` run in `dir`: the manifest path, or cargo's error.
fn locate_project(dir: &Path, workspace: bool) -> anyhow::Result<PathBuf> {
    let mut cmd = cargo();
    cmd.current_dir(dir).arg("locate-project");
    if workspace {
        cmd.arg("--workspace");
    }
    let out = cmd
        .args(["--message-format", "plain"])
        .output()
        .context("running `cargo locate-project`")?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// What `cargo metadata --no-deps` says about the workspace of `manifest`:
/// `(workspace root, members)`.
fn metadata(manifest: &Path) -> anyhow::Result<(PathBuf, Vec<serde_json::Value>)> {
    let out = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .context("running `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "cannot read {}: {}",
            manifest.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing `cargo metadata` output")?;
    let root = PathBuf::from(v["workspace_root"].as_str().unwrap_or_default());
    let packages = v["packages"].as_array().cloned().unwrap_or_default();
    Ok((root, packages))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The staticlib target of a `cargo metadata` package, if any.
fn staticlib_target(pkg: &serde_json::Value) -> Option<&serde_json::Value> {
    pkg["targets"].as_array()?.iter().find(|t| {
        t["crate_types"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "staticlib"))
    })
}

const STATICLIB_FIX: &str = "a module package has `[lib] crate-type = [\"staticlib\"]` \
     (cargo kmod links the static library into the .ko) and the features freebsd-13 / \
     freebsd-14 / freebsd-15 forwarded to freebsd-kmi-rs; add them to its Cargo.toml, or \
     start a module package with `cargo kmod new NAME`";

impl ModulePackage {
    /// Reads the package of `manifest` (a package's `Cargo.toml`, or a workspace's whose
    /// members hold exactly one module package) and checks that it is a module package.
    pub fn read(manifest: &Path) -> anyhow::Result<Self> {
        let (workspace_root, packages) = metadata(manifest)?;
        let from = |pkg: &serde_json::Value, lib: &serde_json::Value| -> anyhow::Result<Self> {
            let manifest = PathBuf::from(pkg["manifest_path"].as_str().unwrap_or_default());
            Ok(ModulePackage {
                dir: manifest
                    .parent()
                    .context("manifest has no parent")?
                    .to_owned(),
                manifest,
                name: pkg["name"].as_str().unwrap_or_default().to_owned(),
                lib_name: lib["name"].as_str().unwrap_or_default().replace('-', "_"),
                features: pkg["features"]
                    .as_object()
                    .map(|f| f.keys().cloned().collect())
                    .unwrap_or_default(),
                workspace_root: workspace_root.clone(),
            })
        };
        if let Some(pkg) = packages.iter().find(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| same_file(Path::new(m), manifest))
        }) {
            let Some(lib) = staticlib_target(pkg) else {
                bail!(
                    "{} is not a module package: package `{}` has no staticlib target; {STATICLIB_FIX}",
                    manifest.display(),
                    pkg["name"].as_str().unwrap_or("?")
                );
            };
            return from(pkg, lib);
        }
        // A virtual manifest: its one module package, if there is exactly one.
        let modules: Vec<_> = packages
            .iter()
            .filter_map(|p| Some((p, staticlib_target(p)?)))
            .collect();
        match modules.as_slice() {
            [(pkg, lib)] => from(pkg, lib),
            [] => bail!(
                "{} is a workspace without module packages; {STATICLIB_FIX}",
                manifest.display()
            ),
            many => bail!(
                "{} is a workspace with several module packages: name one ({})",
                manifest.display(),
                many.iter()
                    .filter_map(|(p, _)| p["manifest_path"].as_str())
                    .map(|m| Path::new(m)
                        .parent()
                        .unwrap_or(Path::new(m))
                        .display()
                        .to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Checks that the package forwards the release feature `feature` (`freebsd-14`).
    pub fn require_feature(&self, feature: &str) -> anyhow::Result<()> {
        if self.features.iter().any(|f| f == feature) {
            return Ok(());
        }
        bail!(
            "{} has no feature `{feature}`: a module package forwards the release features to \
             freebsd-kmi-rs; add to its [features]: {feature} = [\"freebsd-kmi-rs/{feature}\"]",
            self.manifest.display()
        )
    }
}

/// The package you stand in (`cargo locate-project` from the current directory), as the
/// module argument of a command given none.
pub fn current_package() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("no current directory")?;
    let manifest = locate_project(&cwd, false).map_err(|e| {
        anyhow::anyhow!(
            "no module given and {} is not inside a Cargo package ({e}); run it in a module \
             package, name one (`cargo kmod build path/to/pkg`), or create one with \
             `cargo kmod new NAME`",
            cwd.display()
        )
    })?;
    Ok(manifest)
}

impl Workspace {
    /// The workspace you stand in: `cargo locate-project --workspace` from the current
    /// directory. Outside any package it is the current directory, and a module package
    /// given by path keeps its outputs in its own workspace ([`Workspace::for_package`]).
    pub fn locate() -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("no current directory")?;
        Ok(match locate_project(&cwd, true) {
            Ok(manifest) => Workspace {
                root: manifest
                    .parent()
                    .context("manifest path has no parent")?
                    .to_owned(),
                inside: true,
            },
            Err(_) => Workspace {
                root: cwd,
                inside: false,
            },
        })
    }

    /// A workspace at an explicit root.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Workspace {
            root: root.into(),
            inside: true,
        }
    }

    /// Where the outputs of `package` go: this workspace when it is one you stand in, else
    /// the package's own workspace.
    pub fn for_package(&self, package: &ModulePackage) -> Workspace {
        if self.inside {
            self.clone()
        } else {
            Workspace::at(&package.workspace_root)
        }
    }

    /// `target/kmod`: outputs (`<release>/<module>.ko`, target spec, linker script).
    pub fn kmod_dir(&self) -> PathBuf {
        self.root.join("target").join("kmod")
    }

    /// `target/kmod-build`: the cargo target dir of module builds, shared by every module
    /// and release (`core`/`alloc` come from the kernel sysroot, [`crate::sysroot`]).
    pub fn build_dir(&self) -> PathBuf {
        self.root.join("target").join("kmod-build")
    }

    /// `target/kmod-sysroot`: where the kernel sysroot goes when the per-user cache cannot
    /// be used ([`crate::sysroot::ensure`]'s fallback).
    pub fn sysroot_fallback_dir(&self) -> PathBuf {
        self.root.join("target").join("kmod-sysroot")
    }

    /// The module packages under `examples/` (directory names with a `Cargo.toml`).
    pub fn examples(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join("examples"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Resolves a module argument to a module package: a name under `examples/`, a
    /// package directory (or its `Cargo.toml`); the empty string is the package you
    /// stand in.
    pub fn module_package(&self, module: &str) -> anyhow::Result<ModulePackage> {
        if module.is_empty() {
            return ModulePackage::read(&current_package()?).map_err(|e| self.with_examples(e));
        }
        let example = self.root.join("examples").join(module);
        if !module.contains('/') && example.join("Cargo.toml").is_file() {
            return ModulePackage::read(&example.join("Cargo.toml"));
        }
        let path = Path::new(module);
        let manifest = if path.file_name().is_some_and(|f| f == "Cargo.toml") {
            path.to_owned()
        } else {
            path.join("Cargo.toml")
        };
        if manifest.is_file() {
            return ModulePackage::read(&manifest.canonicalize()?);
        }
        let examples = self.examples();
        bail!(
            "unknown module `{module}`: not an example under {} nor a package directory; valid modules: {}",
            self.root.join("examples").display(),
            if examples.is_empty() {
                "(no examples here) a path to a module package, or none in a module package"
                    .to_owned()
            } else {
                examples.join(", ")
            }
        )
    }

    /// The `.ko` that `cargo kmod build --freebsd <release> <module>` wrote (`module` as in
    /// [`Workspace::module_package`]; `""` is the package you stand in); an error naming
    /// the build command when it does not exist yet.
    pub fn built_module(
        &self,
        module: &str,
        release: &freebsd_kpi::release::Release,
    ) -> anyhow::Result<PathBuf> {
        let package = self.module_package(module)?;
        let ko = self
            .for_package(&package)
            .kmod_dir()
            .join(release.identity.name)
            .join(format!("{}.ko", package.lib_name));
        if !ko.is_file() {
            bail!(
                "{} does not exist: build it first with `cargo kmod build --freebsd {}`{}",
                ko.display(),
                release.identity.name,
                if module.is_empty() {
                    String::new()
                } else {
                    format!(" {module}")
                }
            );
        }
        Ok(ko)
    }

    /// Adds "or name one of the examples: ..." to a module-resolution error.
    fn with_examples(&self, e: anyhow::Error) -> anyhow::Error {
        let examples = self.examples();
        if examples.is_empty() {
            e
        } else {
            anyhow::anyhow!(
                "{e:#}; or name one of the examples: {}",
                examples.join(", ")
            )
        }
    }
}

/// A name no other concurrent build (process or thread) uses: `<pid>-<counter>`.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes `contents` to `path` unless it already holds them, through a temporary file
/// and a rename, so concurrent builds never read a half-written file.
pub fn write_if_changed(path: &Path, contents: &str) -> anyhow::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(contents) {
        return Ok(());
    }
    let dir = path.parent().context("path has no parent")?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        unique_suffix()
    ));
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

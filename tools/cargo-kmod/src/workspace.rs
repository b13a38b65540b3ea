//! The freebsd-kmi-rs workspace: where module packages live and where outputs go.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The workspace the tool serves.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The workspace root (holds the root `Cargo.toml`).
    pub root: PathBuf,
}

impl Workspace {
    /// The workspace this tool was built in (`tools/cargo-kmod/../..`), else the one
    /// `cargo locate-project --workspace` finds from the current directory.
    pub fn locate() -> anyhow::Result<Self> {
        let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        if built_in.join("Cargo.toml").is_file() && built_in.join("examples").is_dir() {
            return Ok(Workspace {
                root: built_in.canonicalize()?,
            });
        }
        let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["locate-project", "--workspace", "--message-format", "plain"])
            .output()
            .context("running `cargo locate-project --workspace`")?;
        if !out.status.success() {
            bail!(
                "cannot find the workspace root: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Ok(Workspace {
            root: manifest
                .parent()
                .context("manifest path has no parent")?
                .to_owned(),
        })
    }

    /// A workspace at an explicit root.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Workspace { root: root.into() }
    }

    /// `target/kmod`: outputs (`<release>/<module>.ko`, target spec, linker script).
    pub fn kmod_dir(&self) -> PathBuf {
        self.root.join("target").join("kmod")
    }

    /// `target/kmod-build`: the shared cargo target dir of module builds.
    pub fn build_dir(&self) -> PathBuf {
        self.root.join("target").join("kmod-build")
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

    /// Resolves a module argument: a name under `examples/`, or a package directory (or
    /// its `Cargo.toml`).
    pub fn module_package(&self, module: &str) -> anyhow::Result<PathBuf> {
        let example = self.root.join("examples").join(module);
        if !module.contains('/') && example.join("Cargo.toml").is_file() {
            return Ok(example);
        }
        let path = Path::new(module);
        let dir = if path.file_name().is_some_and(|f| f == "Cargo.toml") {
            path.parent().unwrap_or(path)
        } else {
            path
        };
        if dir.join("Cargo.toml").is_file() {
            return Ok(dir.canonicalize()?);
        }
        let examples = self.examples();
        bail!(
            "unknown module `{module}`: not an example under {} nor a package directory; valid modules: {}",
            self.root.join("examples").display(),
            if examples.is_empty() {
                "(no examples yet) or a path to a module package".to_owned()
            } else {
                examples.join(", ")
            }
        )
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

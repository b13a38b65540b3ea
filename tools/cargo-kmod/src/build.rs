//! `cargo kmod build`: builds a module package for the kernel target, links the `.ko`
//! and checks it.
//!
//! A module package is a `no_std` `[lib] crate-type = ["staticlib"]` package with
//! features `freebsd-13` / `freebsd-14` / `freebsd-15` (forwarded to `freebsd-kmi-rs`); the module name
//! is its lib name. The inner build is
//!
//! ```text
//! RUSTC=<rustc> RUSTC_BOOTSTRAP=1 \
//!   CARGO_ENCODED_RUSTFLAGS=-Cforce-frame-pointers=yes␟-Cforce-unwind-tables=no␟-Cdebuginfo=0␟--sysroot=<kernel sysroot> \
//! <cargo> build --manifest-path <pkg>/Cargo.toml --release \
//!     --target <ws>/target/kmod/x86_64-unknown-freebsd-kmod.json -Z json-target-spec \
//!     --features freebsd-NN --target-dir <ws>/target/kmod-build \
//!     -Z unstable-options --artifact-dir <ws>/target/kmod-build/artifacts/<release> \
//!     --message-format=json-render-diagnostics
//! ```
//!
//! `core`/`alloc`/`compiler_builtins` come from the kernel sysroot ([`crate::sysroot`]):
//! compiled once per toolchain and target spec with `-Z build-std=core,alloc
//! -Z build-std-features=compiler-builtins-mem,optimize_for_size` and shared by every
//! release, module and workspace. `compiler-builtins-mem`: the module carries its own
//! memcpy/memset/memcmp/bcmp (14.x may not export bcmp). `optimize_for_size`: core/alloc
//! pick their smaller algorithms (about 12% less code in hello.ko), as kernel code favours
//! size.
//!
//! One target dir for every release and module: the module's own crates differ per release
//! (their features, hence cargo's metadata hash, differ) and live side by side in `deps/`.
//! Only the uplifted staticlib (`<target>/release/libX.a`) has one path for every release,
//! so the `.a` is taken from a per-release `--artifact-dir`, which cargo fills from the
//! hashed `deps/` file while it holds the build-directory lock: two processes building one
//! module for 13.1 and 14.0 at the same time never swap their static libraries.
//!
//! The inner cargo runs with the outer cargo's/rustup's variables removed. The target spec (embedded from
//! `tools/cargo-kmod/x86_64-unknown-freebsd-kmod.json`) is rustc's `x86_64-unknown-none`
//! with kmod.mk's choices: static relocation model, kernel code model, no red zone,
//! soft-float, frame pointers, abort on panic, no TLS, no unwind tables.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use freebsd_kpi::release::Release;

use crate::check::{self, CheckReport};
use crate::link::{self, command_line};
use crate::toolchain::Toolchain;
use crate::workspace::Workspace;

/// The embedded kernel target spec.
pub const TARGET_SPEC: &str = include_str!("../x86_64-unknown-freebsd-kmod.json");
/// Its file name (the stem is the target name cargo uses for the output directory).
pub const TARGET_SPEC_FILE: &str = "x86_64-unknown-freebsd-kmod.json";
/// `-Z build-std=`: the standard-library crates of the kernel sysroot.
pub const BUILD_STD: &str = "core,alloc";
/// `-Z build-std-features=` of the kernel sysroot (see the module docs).
pub const BUILD_STD_FEATURES: &str = "compiler-builtins-mem,optimize_for_size";

/// Extra flags for every crate of the inner build, including `core` and `alloc`.
pub const RUSTFLAGS: [&str; 3] = [
    "-Cforce-frame-pointers=yes",
    "-Cforce-unwind-tables=no",
    "-Cdebuginfo=0",
];

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// A module under `examples/`, a package path, or `""` for the package you stand in.
    pub module: String,
    /// The release.
    pub release: &'static Release,
    /// `-j` for the inner cargo.
    pub jobs: Option<u32>,
    /// Print the commands.
    pub verbose: bool,
}

/// What was built.
#[derive(Clone, Debug)]
pub struct BuildOutput {
    /// `target/kmod/<release>/<module>.ko`.
    pub ko: PathBuf,
    /// The staticlib the `.ko` was linked from.
    pub staticlib: PathBuf,
    /// The module (lib) name.
    pub module_name: String,
    /// Every command run (cargo, ld.lld, objcopy).
    pub commands: Vec<String>,
    /// The check's summary.
    pub report: CheckReport,
    /// The crates the inner cargo compiled (not fresh), e.g. `core`, `freebsd-kmi-rs`: a
    /// second release's build of a module lists no `core`. `core`/`alloc` appear only
    /// when this build had to compile the kernel sysroot.
    pub compiled: Vec<String>,
    /// The kernel sysroot the module was compiled against (`--sysroot`; [`crate::sysroot`]).
    pub sysroot: PathBuf,
}

/// Writes the target spec to `dir` (if it changed); returns its path.
pub fn write_target_spec(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join(TARGET_SPEC_FILE);
    crate::workspace::write_if_changed(&path, TARGET_SPEC)?;
    Ok(path)
}

/// Whether an environment variable of the outer cargo/rustup must not reach the inner
/// build.
fn inherited_build_var(name: &str) -> bool {
    const KEEP: [&str; 6] = [
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    const EXACT: [&str; 14] = [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTUP_TOOLCHAIN",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "OPT_LEVEL",
        "PROFILE",
        "MAKEFLAGS",
        "MFLAGS",
    ];
    if KEEP.iter().any(|k| name.starts_with(k)) {
        return false;
    }
    EXACT.contains(&name)
        || name.starts_with("CARGO_")
        || name.starts_with("__CARGO")
        || name.starts_with("RUSTC_")
        || name.starts_with("RUSTDOC_")
        || name == "DEBUG"
}

/// A cargo for inner builds: the outer cargo's/rustup's variables removed, `RUSTC` the
/// toolchain's, `RUSTC_BOOTSTRAP=1`, and `rustflags` (`\x1f`-separated) for every crate.
pub fn inner_cargo(tc: &Toolchain, rustflags: &str) -> Command {
    let mut cmd = Command::new(&tc.cargo);
    for (name, _) in std::env::vars_os() {
        if inherited_build_var(&name.to_string_lossy()) {
            cmd.env_remove(name);
        }
    }
    cmd.env("RUSTC", &tc.rustc)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags);
    cmd
}

/// The inner `cargo build` command against the kernel sysroot `sysroot`
/// ([`crate::sysroot::ensure`]), its staticlib copied to `<target_dir>/artifacts/<release>`
/// ([`artifact_dir`]).
pub fn cargo_command(
    tc: &Toolchain,
    manifest: &Path,
    spec: &Path,
    target_dir: &Path,
    sysroot: &Path,
    release: &Release,
    jobs: Option<u32>,
) -> Command {
    let mut rustflags: Vec<String> = RUSTFLAGS.iter().map(|f| (*f).to_owned()).collect();
    rustflags.push(format!("--sysroot={}", sysroot.display()));
    let mut cmd = inner_cargo(tc, &rustflags.join("\x1f"));
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--release")
        .arg("--target")
        .arg(spec)
        .args(["-Z", "json-target-spec"])
        .args(["--features", release.identity.feature])
        .arg("--target-dir")
        .arg(target_dir)
        .args(["-Z", "unstable-options", "--artifact-dir"])
        .arg(artifact_dir(target_dir, release))
        .arg("--message-format=json-render-diagnostics");
    if let Some(j) = jobs {
        cmd.arg(format!("-j{j}"));
    }
    cmd
}

/// Where the inner build copies the module's staticlib for `release`: one directory per
/// release, since the uplifted `<target>/release/libX.a` is shared by all releases.
pub fn artifact_dir(target_dir: &Path, release: &Release) -> PathBuf {
    target_dir.join("artifacts").join(release.identity.name)
}

/// The crate a `compiler-artifact` message of cargo reports as compiled (not fresh).
pub(crate) fn compiled_crate(line: &str) -> Option<String> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" || msg["fresh"] != false {
        return None;
    }
    let kinds = msg["target"]["kind"].as_array()?;
    if kinds.iter().any(|k| k == "custom-build") {
        return None;
    }
    Some(msg["target"]["name"].as_str()?.to_owned())
}

/// The staticlib artifact of the package in cargo's JSON messages: `(lib name, .a path)`.
fn staticlib_artifact(line: &str, manifest: &Path) -> Option<(String, PathBuf)> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" {
        return None;
    }
    let same = Path::new(msg["manifest_path"].as_str()?)
        .canonicalize()
        .ok()?
        == manifest.canonicalize().ok()?;
    let kinds = msg["target"]["crate_types"].as_array()?;
    if !same || !kinds.iter().any(|k| k == "staticlib") {
        return None;
    }
    let name = msg["target"]["name"].as_str()?.replace('-', "_");
    let file = msg["filenames"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".a"))?;
    Some((name, PathBuf::from(file)))
}

/// Builds, links and checks a module.
pub fn build(ws: &Workspace, opts: &BuildOptions) -> anyhow::Result<BuildOutput> {
    let release = opts.release;
    let module = ws.module_package(&opts.module)?;
    module.require_feature(release.identity.feature)?;
    let ws = &ws.for_package(&module);
    let package = module.dir.clone();
    let manifest = module.manifest.clone();
    let tc = Toolchain::discover()?;
    if opts.verbose {
        eprintln!("Toolchain: {}", tc.describe());
    }
    let kmod_dir = ws.kmod_dir();
    let spec = write_target_spec(&kmod_dir)?;
    let mut commands = Vec::new();

    let sysroot = crate::sysroot::ensure(&tc, &ws.sysroot_fallback_dir(), opts.jobs)?;
    if opts.verbose {
        eprintln!("  kernel sysroot: {}", sysroot.dir.display());
    }
    commands.extend(sysroot.command.clone());
    eprintln!(
        "Compiling {} for FreeBSD {} (--features {})...",
        package.display(),
        release.identity.name,
        release.identity.feature
    );
    let target_dir = ws.build_dir();
    let mut cmd = cargo_command(&tc, &manifest, &spec, &target_dir, &sysroot.dir, release, opts.jobs);
    let line = command_line(&cmd);
    if opts.verbose {
        eprintln!("  {line}");
    }
    commands.push(line.clone());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", tc.cargo.display()))?;
    let mut artifact = None;
    let mut compiled = sysroot.compiled;
    for l in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let l = l?;
        if let Some(a) = staticlib_artifact(&l, &manifest) {
            artifact = Some(a);
        }
        compiled.extend(compiled_crate(&l));
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "building {} for FreeBSD {} failed ({status}); a module package needs `[lib] crate-type = [\"staticlib\"]` \
             and the features freebsd-13 / freebsd-14 / freebsd-15. Command: {line}",
            package.display(),
            release.identity.name
        );
    }
    let Some((module_name, uplifted)) = artifact else {
        bail!(
            "{} produced no staticlib: a module package needs `[lib] crate-type = [\"staticlib\"]`",
            manifest.display()
        );
    };
    let staticlib = artifact_dir(&target_dir, release).join(
        uplifted
            .file_name()
            .context("staticlib path has no file name")?,
    );
    if opts.verbose && !compiled.is_empty() {
        eprintln!("  compiled: {}", compiled.join(" "));
    }

    let ko = kmod_dir
        .join(release.identity.name)
        .join(format!("{module_name}.ko"));
    eprintln!("Linking {module_name}.ko");
    let work_dir = ws.build_dir().join("link").join(release.identity.name);
    let linked = link::link(&tc, release, &staticlib, &ko, &work_dir)?;
    if opts.verbose {
        for c in &linked.commands {
            eprintln!("  {c}");
        }
    }
    commands.extend(linked.commands);

    eprintln!(
        "Checking {} for FreeBSD {}",
        ko.display(),
        release.identity.name
    );
    let report = check::check_file(&ko, release)?;
    if !report.modules.contains(&module_name) {
        eprintln!(
            "warning: {module_name}.ko declares module(s) {} (MDT_MODULE), not `{module_name}`",
            report.modules.join(", ")
        );
    }
    Ok(BuildOutput {
        ko,
        staticlib,
        module_name,
        commands,
        report,
        compiled,
        sysroot: sysroot.dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded target spec carries kmod.mk's code-generation choices.
    #[test]
    fn target_spec_matches_kmod_mk() {
        let spec: serde_json::Value = serde_json::from_str(TARGET_SPEC).expect("valid JSON");
        for (key, value) in [
            ("os", "none"),
            ("arch", "x86_64"),
            ("code-model", "kernel"),
            ("relocation-model", "static"),
            ("panic-strategy", "abort"),
            ("frame-pointer", "always"),
            ("rustc-abi", "softfloat"),
            ("llvm-target", "x86_64-unknown-none-elf"),
        ] {
            assert_eq!(spec[key], value, "{key}");
        }
        assert_eq!(spec["disable-redzone"], true);
        assert_eq!(spec["position-independent-executables"], false);
        assert_eq!(spec["static-position-independent-executables"], false);
        let features = spec["features"].as_str().unwrap();
        for f in ["-mmx", "-sse", "-sse2", "-avx", "+soft-float"] {
            assert!(features.split(',').any(|x| x == f), "{f} in {features}");
        }
        assert!(spec.get("has-thread-local").is_none_or(|v| v == false));
    }

    /// `BuildOutput::compiled`: crates cargo reported as compiled, not fresh, without
    /// build-script runs.
    #[test]
    fn compiled_crates_are_the_non_fresh_artifacts() {
        let msg = |name: &str, kind: &str, fresh: bool| {
            format!(
                r#"{{"reason":"compiler-artifact","target":{{"kind":["{kind}"],"crate_types":["lib"],"name":"{name}"}},"fresh":{fresh},"filenames":[]}}"#
            )
        };
        assert_eq!(
            compiled_crate(&msg("core", "lib", false)).as_deref(),
            Some("core")
        );
        assert_eq!(compiled_crate(&msg("core", "lib", true)), None);
        assert_eq!(
            compiled_crate(&msg("build-script-build", "custom-build", false)),
            None
        );
        assert_eq!(
            compiled_crate(r#"{"reason":"build-finished","success":true}"#),
            None
        );
    }

    #[test]
    fn releases_get_their_own_artifact_dir() {
        let dir = Path::new("/ws/target/kmod-build");
        let a = artifact_dir(dir, crate::release::resolve(Some("13.1")).unwrap());
        let b = artifact_dir(dir, crate::release::resolve(Some("14.0")).unwrap());
        assert_eq!(a, Path::new("/ws/target/kmod-build/artifacts/13.1"));
        assert_ne!(a, b);
    }

    #[test]
    fn outer_build_variables_are_dropped() {
        for v in [
            "RUSTUP_TOOLCHAIN",
            "RUSTC_WRAPPER",
            "CARGO_TARGET_DIR",
            "CARGO_MANIFEST_DIR",
            "RUSTFLAGS",
            "CARGO",
        ] {
            assert!(inherited_build_var(v), "{v}");
        }
        for v in ["CARGO_HOME", "PATH", "HOME", "CARGO_NET_OFFLINE"] {
            assert!(!inherited_build_var(v), "{v}");
        }
    }
}

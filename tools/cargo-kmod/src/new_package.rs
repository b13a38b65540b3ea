//! `cargo kmod new NAME [--kmi-path DIR]`: a module package to start from.
//!
//! `NAME/` gets
//!
//! * `Cargo.toml`: `[lib] crate-type = ["staticlib"]` (what `cargo kmod build` links into
//!   `NAME.ko`), the release features `freebsd-13` / `freebsd-14` / `freebsd-15`
//!   forwarded to `freebsd-kmi-rs`, `panic = "abort"` profiles, `freebsd-kmi-rs` by
//!   version (this tool's `MAJOR.MINOR`) or, with `--kmi-path`, by path; an empty
//!   `[workspace]`, since cargo reads profiles only from a workspace root;
//! * `src/lib.rs`: a module that prints on load and unload and owns one allocation made
//!   through the global allocator (malloc(9)), without `unsafe`;
//! * `README.md` with the commands, and `.gitignore`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// What [`create`] made.
#[derive(Clone, Debug)]
pub struct Created {
    /// The package directory.
    pub dir: PathBuf,
    /// The package name.
    pub name: String,
    /// The files written, relative to `dir`.
    pub files: Vec<&'static str>,
}

impl Created {
    /// What to do next, for the terminal.
    pub fn next_steps(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Created module package `{}` in {}",
            self.name,
            self.dir.display()
        );
        for f in &self.files {
            let _ = writeln!(s, "  {f}");
        }
        let _ = writeln!(
            s,
            "Next:\n  cd {}\n  cargo kmod run                    # build {n}.ko for FreeBSD {cur} and run it in the simulator\n  \
             cargo kmod build --freebsd 14.0   # target/kmod/14.0/{n}.ko for a 14.x host\n  \
             (on the FreeBSD host: kldload ./{n}.ko; dmesg | tail; kldunload {n})",
            self.dir.display(),
            n = self.name.replace('-', "_"),
            cur = crate::release::default_release().identity.name,
        );
        s
    }
}

/// Rust keywords and the names of the sysroot crates (cargo refuses them as package names,
/// or they shadow `core`/`alloc`), and `kernel`: sys/kern/kern_module.c declares
/// `MODULE_VERSION(kernel, __FreeBSD_version)`, the module every `MODULE_DEPEND` names.
const RESERVED: [&str; 44] = [
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "core",
    "alloc",
    "std",
    "test",
    "proc_macro",
    "kernel",
];

/// Checks a package name: ASCII lowercase letters, digits, `-` and `_`, starting with a
/// letter (the module name is the name with `-` as `_`, a C identifier).
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if name.is_empty() || !ok_chars || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!(
            "`{name}` is not a valid module name: use ASCII lowercase letters, digits, `-` and `_`, \
             starting with a letter (e.g. `cargo kmod new mydrv`)"
        );
    }
    if RESERVED.contains(&name.replace('-', "_").as_str()) {
        bail!(
            "`{name}` is reserved (a Rust keyword, a sysroot crate, or the kernel's own module \
             name): choose another name, e.g. `{name}_mod`"
        );
    }
    Ok(())
}

/// `mydrv-x` -> `MydrvX`.
fn camel(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `"0.4"`: the freebsd-kmi-rs version requirement, this tool's major.minor (the crates
/// are released together).
pub fn kmi_version_req() -> String {
    let v = semver::Version::parse(env!("CARGO_PKG_VERSION")).expect("package version");
    format!("{}.{}", v.major, v.minor)
}

/// Checks that `dir` is a freebsd-kmi-rs checkout; returns it absolute.
fn kmi_checkout(dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| {
        anyhow::anyhow!(
            "--kmi-path {}: cannot read {} ({e}); give the directory of a freebsd-kmi-rs checkout \
             (the one holding its Cargo.toml), or leave --kmi-path out to use the crates.io release",
            dir.display(),
            manifest.display()
        )
    })?;
    if !text
        .lines()
        .any(|l| l.replace(' ', "") == "name=\"freebsd-kmi-rs\"")
    {
        bail!(
            "--kmi-path {}: {} is not the freebsd-kmi-rs package (no `name = \"freebsd-kmi-rs\"`); \
             give the root of a freebsd-kmi-rs checkout",
            dir.display(),
            manifest.display()
        );
    }
    dir.canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))
}

/// The package's `Cargo.toml`.
pub fn cargo_toml(name: &str, kmi_path: Option<&Path>) -> String {
    let source = match kmi_path {
        Some(p) => format!("path = {}", toml_string(&p.display().to_string())),
        None => format!("version = \"{}\"", kmi_version_req()),
    };
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# A kernel module is a static library that `cargo kmod build` links into {lib}.ko.
crate-type = ["staticlib"]

[features]
# `cargo kmod build --freebsd <release>` turns on exactly one (13.1, 14.0 or 15.0 bindings).
freebsd-13 = ["freebsd-kmi-rs/freebsd-13"]
freebsd-14 = ["freebsd-kmi-rs/freebsd-14"]
freebsd-15 = ["freebsd-kmi-rs/freebsd-15"]

[dependencies]
# The global allocator calls malloc(9) with M_WAITOK (see freebsd-kmi-rs' README for the
# other allocator features).
freebsd-kmi-rs = {{ {source}, default-features = false, features = ["GLOBAL_ALLOC_FLAG_WAITOK"] }}

# Kernel code never unwinds.
[profile.dev]
panic = "abort"

[profile.release]
panic = "abort"
opt-level = "s"
codegen-units = 1

# A workspace of its own: cargo reads [profile] only from the workspace root. To make this
# package a member of another workspace, move the profiles there and remove this table.
[workspace]
"#,
        lib = name.replace('-', "_"),
    )
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The package's `src/lib.rs`.
pub fn lib_rs(name: &str) -> String {
    let module = name.replace('-', "_");
    let ty = format!("{}Module", camel(name));
    format!(
        r#"//! `{module}.ko`: a FreeBSD kernel module written in Rust.
//!
//! On load it prints a message and allocates a small vector through the global allocator
//! (malloc(9), `M_WAITOK`: module load may sleep); on unload (`Drop`) it prints a goodbye
//! and the vector is freed.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use freebsd_kmi::errno::Errno;
use freebsd_kmi::kprintln;
use freebsd_kmi::module::Module;

/// The module's state, alive from MOD_LOAD to MOD_UNLOAD.
struct {ty} {{
    numbers: Vec<u32>,
}}

impl Module for {ty} {{
    fn load() -> Result<Self, Errno> {{
        let numbers: Vec<u32> = (1..=10).collect();
        kprintln!(
            "{module}: loaded ({{}} numbers, sum {{}})",
            numbers.len(),
            numbers.iter().sum::<u32>()
        );
        Ok({ty} {{ numbers }})
    }}
}}

impl Drop for {ty} {{
    fn drop(&mut self) {{
        kprintln!("{module}: unloaded ({{}} numbers freed)", self.numbers.len());
    }}
}}

freebsd_kmi::module! {{
    type: {ty},
    name: "{module}",
    version: 1,
}}
"#
    )
}

/// The package's `README.md`.
pub fn readme(name: &str) -> String {
    let module = name.replace('-', "_");
    format!(
        r#"# {name}

A FreeBSD kernel module written in Rust with [freebsd-kmi-rs](https://crates.io/crates/freebsd-kmi-rs).

```sh
cargo kmod run                      # build {module}.ko for the current release, check it, run it in the simulator
cargo kmod run --freebsd 14.0       # ... for FreeBSD 14.x (13.1 for 13.x)
cargo kmod build --freebsd 14.0     # writes target/kmod/14.0/{module}.ko
```

On a FreeBSD host of that release (as root):

```sh
kldload ./{module}.ko && dmesg | tail -n 2
kldunload {module}
```

`cargo kmod` is installed with `cargo install cargo-kmod`; it needs a Rust toolchain with
the library source (`rustup toolchain install nightly -c rust-src`, or Debian's
`rustc-web cargo-web rust-web-src`) and `ld.lld`.
"#
    )
}

/// Creates `NAME/` in the current directory.
pub fn create(name: &str, kmi_path: Option<&Path>) -> anyhow::Result<Created> {
    create_in(
        &std::env::current_dir().context("no current directory")?,
        name,
        kmi_path,
    )
}

/// Creates `parent/NAME/`; refuses an existing path.
pub fn create_in(parent: &Path, name: &str, kmi_path: Option<&Path>) -> anyhow::Result<Created> {
    validate_name(name)?;
    let kmi = kmi_path.map(kmi_checkout).transpose()?;
    let dir = parent.join(name);
    if dir.exists() {
        bail!(
            "{} already exists: choose another name or remove it",
            dir.display()
        );
    }
    let files: Vec<(&'static str, String)> = vec![
        ("Cargo.toml", cargo_toml(name, kmi.as_deref())),
        ("src/lib.rs", lib_rs(name)),
        ("README.md", readme(name)),
        (".gitignore", "/target\n".to_owned()),
    ];
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.join("src").display()))?;
    for (file, text) in &files {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Created {
        dir,
        name: name.to_owned(),
        files: files.iter().map(|(f, _)| *f).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["x", "mydrv", "my-drv", "drv2", "a_b"] {
            validate_name(good).unwrap();
        }
        for bad in ["", "2drv", "My", "a b", "a/b", "-x", "é"] {
            let e = validate_name(bad).unwrap_err().to_string();
            assert!(e.contains("not a valid module name"), "{bad}: {e}");
        }
        for reserved in ["core", "alloc", "std", "fn", "kernel"] {
            let e = validate_name(reserved).unwrap_err().to_string();
            assert!(e.contains("reserved"), "{reserved}: {e}");
        }
    }

    #[test]
    fn templates_forward_releases_and_have_no_unsafe() {
        let toml = cargo_toml("my-drv", None);
        assert!(toml.contains("crate-type = [\"staticlib\"]"), "{toml}");
        for f in ["freebsd-13", "freebsd-14", "freebsd-15"] {
            assert!(
                toml.contains(&format!("{f} = [\"freebsd-kmi-rs/{f}\"]")),
                "{toml}"
            );
        }
        assert_eq!(toml.matches("panic = \"abort\"").count(), 2, "{toml}");
        assert!(
            toml.contains(&format!("version = \"{}\"", kmi_version_req())),
            "{toml}"
        );
        let toml = cargo_toml("x", Some(Path::new("/src/freebsd-kmi-rs")));
        assert!(toml.contains("path = \"/src/freebsd-kmi-rs\""), "{toml}");
        let lib = lib_rs("my-drv");
        assert!(!lib.contains("unsafe"), "{lib}");
        assert!(
            lib.contains("struct MyDrvModule") && lib.contains("name: \"my_drv\""),
            "{lib}"
        );
        assert!(
            lib.contains("my_drv: loaded") && lib.contains("my_drv: unloaded"),
            "{lib}"
        );
    }

    #[test]
    fn kmi_path_must_be_a_checkout() {
        let dir = std::env::temp_dir().join(format!("kmod-new-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = create_in(&dir, "x", Some(&dir.join("nowhere")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--kmi-path") && e.contains("freebsd-kmi-rs checkout"),
            "{e}"
        );
        assert!(!dir.join("x").exists(), "nothing is created on bad input");
        std::fs::remove_dir_all(&dir).ok();
    }
}

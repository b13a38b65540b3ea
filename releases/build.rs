//! Reads every release folder's `release.toml`, validates it with `semver`, and generates
//! the `ReleaseInfo` constants (`$OUT_DIR/release_<folder>.rs`). The selected release's
//! identity is also passed to dependents as `DEP_FREEBSD_KPI_*` variables.

use std::{env, fs, path::Path};

struct Release {
    folder: String,
    version: semver::Version,
    freebsd_version: u32,
    status: String,
}

fn field<'a>(text: &'a str, key: &str, file: &Path) -> &'a str {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"'))
        })
        .unwrap_or_else(|| panic!("{}: missing `{key} = ...`", file.display()))
}

fn read_release(dir: &Path) -> Release {
    let file = dir.join("release.toml");
    let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let version = semver::Version::parse(field(&text, "version", &file))
        .unwrap_or_else(|e| panic!("{}: version is not semver: {e}", file.display()));
    let freebsd_version: u32 = field(&text, "freebsd_version", &file)
        .parse()
        .unwrap_or_else(|e| panic!("{}: freebsd_version: {e}", file.display()));
    let status = field(&text, "status", &file).to_owned();
    // __FreeBSD_version is MMmmXXX (sys/sys/param.h): major * 100000 + minor * 1000 + patch level.
    assert_eq!(
        (u64::from(freebsd_version / 100_000), u64::from(freebsd_version / 1000 % 100)),
        (version.major, version.minor),
        "{}: freebsd_version {freebsd_version} does not belong to release {version}",
        file.display()
    );
    assert!(
        status == "legacy" || status == "current",
        "{}: status must be \"legacy\" or \"current\", not {status:?}",
        file.display()
    );
    let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
    let expected = format!("v{}_{}", version.major, version.minor);
    assert_eq!(folder, expected, "{}: folder name must be {expected}", file.display());
    Release { folder, version, freebsd_version, status }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = env::var("OUT_DIR").unwrap();
    let mut releases: Vec<Release> = fs::read_dir(root)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('v') && e.path().join("release.toml").exists())
        .map(|e| read_release(&e.path()))
        .collect();
    releases.sort_by(|a, b| a.version.cmp(&b.version));
    println!("cargo::rerun-if-changed=build.rs");
    for r in &releases {
        println!("cargo::rerun-if-changed={}/release.toml", r.folder);
        let v = &r.version;
        // MODULE_KERNEL_MAXVER = roundup(__FreeBSD_version, 100000) - 1 (sys/sys/module.h).
        let max = r.freebsd_version.div_ceil(100_000) * 100_000 - 1;
        let status = if r.status == "legacy" { "Legacy" } else { "Current" };
        let code = format!(
            "/// Identity of FreeBSD {maj}.{min} (generated from `{f}/release.toml` by build.rs).\n\
             pub const IDENTITY: crate::release::ReleaseIdentity = crate::release::ReleaseIdentity {{\n\
             \x20   name: \"{maj}.{min}\",\n    version: \"{v}\",\n    major: {maj},\n    minor: {min},\n    patch: {pat},\n\
             \x20   folder: \"{f}\",\n    feature: \"freebsd-{maj}\",\n    freebsd_version: {fv},\n\
             \x20   kernel_min: {fv},\n    kernel_max: {max},\n    status: crate::release::Status::{status},\n}};\n",
            maj = v.major, min = v.minor, pat = v.patch, f = r.folder, fv = r.freebsd_version
        );
        fs::write(Path::new(&out).join(format!("release_{}.rs", r.folder)), code).unwrap();
    }
    // The selected release (at most one feature; lib.rs reports wrong selections).
    let selected: Vec<&Release> = releases
        .iter()
        .filter(|r| env::var(format!("CARGO_FEATURE_FREEBSD_{}", r.version.major)).is_ok())
        .collect();
    if let [r] = selected.as_slice() {
        println!("cargo::metadata=version={}", r.version);
        println!("cargo::metadata=freebsd_version={}", r.freebsd_version);
        println!("cargo::metadata=status={}", r.status);
        println!("cargo::metadata=folder={}", r.folder);
    }
}

//! The four published crates carry what crates.io and docs.rs need (`cargo metadata`):
//! a version on every path dependency, no placeholder URL, readme, keywords, categories,
//! and docs.rs metadata with exactly one release feature for the kernel-facing crates.
//! `ci/package.sh` (run by ci/test.sh) does the real `cargo package` + verify.

use std::path::Path;
use std::process::Command;

const PUBLISHED: [&str; 4] = [
    "freebsd-kpi-rs",
    "freebsd-kmi-rs",
    "freebsd-kernel-sim",
    "cargo-kmod",
];

fn metadata() -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

#[test]
fn published_crates_have_registry_metadata() {
    let meta = metadata();
    let packages = meta["packages"].as_array().unwrap();
    for name in PUBLISHED {
        let p = packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not a workspace member"));
        assert!(p["publish"].is_null(), "{name}: publish = false");
        for key in ["description", "license", "readme", "documentation"] {
            assert!(
                p[key].as_str().is_some_and(|v| !v.is_empty()),
                "{name}: no {key}"
            );
        }
        for key in ["repository", "homepage", "documentation"] {
            let v = p[key].as_str().unwrap_or("");
            assert!(
                !v.contains("example.invalid"),
                "{name}: placeholder {key} {v}"
            );
        }
        for key in ["keywords", "categories"] {
            let n = p[key].as_array().map_or(0, Vec::len);
            assert!(
                (1..=5).contains(&n),
                "{name}: {n} {key} (crates.io takes 1 to 5)"
            );
        }
        for dep in p["dependencies"].as_array().unwrap() {
            // Dev-dependencies without a version are dropped by `cargo package`.
            if dep["path"].is_string() && dep["kind"] != "dev" {
                assert!(
                    dep["req"].as_str().is_some_and(|r| r != "*"),
                    "{name}: path dependency {} has no version",
                    dep["name"]
                );
            }
        }
    }
}

#[test]
fn docs_rs_builds_one_release() {
    let meta = metadata();
    let packages = meta["packages"].as_array().unwrap();
    for name in ["freebsd-kpi-rs", "freebsd-kmi-rs"] {
        let p = packages.iter().find(|p| p["name"] == name).unwrap();
        // `[package.metadata.docs.rs]`: TOML reads the dotted key as docs -> rs.
        let docs = &p["metadata"]["docs"]["rs"];
        let features: Vec<&str> = docs["features"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no package.metadata.docs.rs features"))
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        let releases = features
            .iter()
            .filter(|f| f.starts_with("freebsd-1"))
            .count();
        assert_eq!(releases, 1, "{name}: docs.rs features {features:?}");
        // The kmi crate's defaults already name a release: docs.rs must not add a second.
        if name == "freebsd-kmi-rs" {
            assert_eq!(docs["no-default-features"], true, "{name}");
        }
    }
}

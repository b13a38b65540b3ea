//! `cargo kmod` outside this repository, as a new user meets it: `cargo kmod new x
//! --kmi-path <this checkout>`, then `cargo kmod run` inside `x/` (no module argument) for
//! every release, in a temporary directory outside the repository, through the built
//! `cargo-kmod` binary (as `cargo install` would give it). Also the bad-input messages:
//! not a module package, no package at all, a missing toolchain, an unknown release, a bad
//! name. The build tests FAIL (not skip) when the kernel toolchain is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// This checkout (the freebsd-kmi-rs package root).
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fresh directory under the system's temporary directory, outside the repository.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .canonicalize()
        .unwrap()
        .join(format!("cargo-kmod-{tag}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    assert!(
        !dir.starts_with(checkout()),
        "{} must be outside the repository",
        dir.display()
    );
    dir
}

/// Runs `cargo-kmod kmod <args>` in `dir` (as `cargo kmod <args>` does); returns
/// `(success, stdout, stderr)`.
fn cargo_kmod_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-kmod"));
    cmd.current_dir(dir).arg("kmod").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cargo-kmod");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    eprintln!("[{}] cargo kmod {}:\n{o}{e}", dir.display(), args.join(" "));
    (out.status.success(), o, e)
}

#[test]
fn new_package_runs_on_every_release_outside_the_repository() {
    let tmp = temp_dir("new");
    let kmi = checkout();
    let (ok, out, err) = cargo_kmod_in(
        &tmp,
        &["new", "x", "--kmi-path", kmi.to_str().unwrap()],
        &[],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("Created module package `x`") && out.contains("cargo kmod run"),
        "{out}"
    );
    let pkg = tmp.join("x");
    for f in ["Cargo.toml", "src/lib.rs", "README.md", ".gitignore"] {
        assert!(pkg.join(f).is_file(), "{f} missing");
    }
    let lib = std::fs::read_to_string(pkg.join("src/lib.rs")).unwrap();
    assert!(
        !lib.contains("unsafe"),
        "the template has no unsafe:\n{lib}"
    );

    // A machine that never built a module: an empty kernel sysroot cache of its own, so
    // the first build compiles core/alloc (once per toolchain) and no later one does.
    let cache = tmp.join("cache");
    let cache_env = [("CARGO_KMOD_CACHE_DIR", cache.to_str().unwrap())];
    for (i, release) in ["13.1", "14.0", "15.0"].into_iter().enumerate() {
        let (ok, out, err) = cargo_kmod_in(&pkg, &["run", "--freebsd", release], &cache_env);
        assert!(
            ok,
            "cargo kmod run --freebsd {release} in x/:\n{out}\n{err}"
        );
        assert!(
            out.contains(&format!("PASS: x.ko on FreeBSD {release}")),
            "{out}"
        );
        assert!(
            out.contains("x: loaded (10 numbers, sum 55)")
                && out.contains("x: unloaded (10 numbers freed)"),
            "{out}"
        );
        // The outputs are the package's, not this repository's.
        let ko = pkg.join(format!("target/kmod/{release}/x.ko"));
        assert!(ko.is_file(), "{} missing", ko.display());
        assert!(
            !checkout()
                .join("target/kmod")
                .join(release)
                .join("x.ko")
                .exists()
        );
        // One kernel sysroot for all releases: core/alloc are compiled by the first
        // (cold) build only, into the cache, never into the package's target dir.
        let compiled_core = err.contains("Compiling core v");
        if i == 0 {
            assert!(
                compiled_core
                    && err.contains("Compiling core/alloc for the kernel target (build-std, once per toolchain) into")
                    && err.contains(cache.to_str().unwrap()),
                "a cold build compiles core into the cache:\n{err}"
            );
        } else {
            assert!(
                !compiled_core && !err.contains("Compiling alloc v"),
                "the {release} build compiled core/alloc again:\n{err}"
            );
        }
        let deps = pkg.join("target/kmod-build/x86_64-unknown-freebsd-kmod/release/deps");
        assert!(
            !std::fs::read_dir(&deps)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libcore-")),
            "core compiled into the package's {}",
            deps.display()
        );
        // `check` with no file checks the package's module for the release.
        let (checked, check_out, check_err) =
            cargo_kmod_in(&pkg, &["check", "--freebsd", release], &cache_env);
        assert!(
            checked && check_out.contains(&format!("module x for FreeBSD {release}: ok")),
            "{check_out}\n{check_err}"
        );
    }
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn new_refuses_bad_names_existing_directories_and_bad_kmi_paths() {
    let tmp = temp_dir("new-bad");
    let (ok, _, err) = cargo_kmod_in(&tmp, &["new", "My Driver"], &[]);
    assert!(!ok && err.contains("not a valid module name"), "{err}");
    let (ok, _, err) = cargo_kmod_in(&tmp, &["new", "core"], &[]);
    assert!(!ok && err.contains("reserved"), "{err}");
    let (ok, _, err) = cargo_kmod_in(&tmp, &["new", "y", "--kmi-path", "/nonexistent"], &[]);
    assert!(!ok && err.contains("freebsd-kmi-rs checkout"), "{err}");
    assert!(!tmp.join("y").exists());
    // By version (no --kmi-path): the crates.io requirement.
    let (ok, _, err) = cargo_kmod_in(&tmp, &["new", "y"], &[]);
    assert!(ok, "{err}");
    let toml = std::fs::read_to_string(tmp.join("y/Cargo.toml")).unwrap();
    assert!(toml.contains("freebsd-kmi-rs = { version = \"0."), "{toml}");
    let (ok, _, err) = cargo_kmod_in(&tmp, &["new", "y"], &[]);
    assert!(!ok && err.contains("already exists"), "{err}");
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn bad_input_says_what_to_do() {
    let tmp = temp_dir("bad-input");
    // Not a module package: a plain library (no staticlib).
    let plain = tmp.join("plainlib");
    std::fs::create_dir_all(plain.join("src")).unwrap();
    std::fs::write(
        plain.join("Cargo.toml"),
        "[package]\nname = \"plainlib\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(plain.join("src/lib.rs"), "").unwrap();
    let (ok, _, err) = cargo_kmod_in(&plain, &["build"], &[]);
    assert!(
        !ok && err.contains("is not a module package")
            && err.contains("crate-type = [\"staticlib\"]")
            && err.contains("cargo kmod new NAME"),
        "{err}"
    );
    // Outside any package, with no module.
    let (ok, _, err) = cargo_kmod_in(&tmp, &["run"], &[]);
    assert!(
        !ok && err.contains("not inside a Cargo package") && err.contains("cargo kmod new NAME"),
        "{err}"
    );
    // A module package (by path, from outside it) with a missing toolchain.
    let kmi = checkout();
    let (ok, _, err) = cargo_kmod_in(
        &tmp,
        &["new", "z", "--kmi-path", kmi.to_str().unwrap()],
        &[],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = cargo_kmod_in(
        &tmp,
        &["build", "z"],
        &[("KMOD_RUSTC", "/nonexistent/rustc")],
    );
    assert!(
        !ok && err.contains("KMOD_RUSTC=/nonexistent/rustc does not run")
            && err.contains("apt-get install -y rustc-web cargo-web rust-web-src")
            && err.contains("rustup toolchain install nightly -c rust-src"),
        "{err}"
    );
    // A release without bindings.
    let (ok, _, err) = cargo_kmod_in(&tmp.join("z"), &["run", "--freebsd", "12.4"], &[]);
    assert!(
        !ok && err.contains("FreeBSD 12.4 is not supported")
            && err.contains("supported releases: 13.1"),
        "{err}"
    );
    // `check` of a package not built yet.
    let (ok, _, err) = cargo_kmod_in(&tmp.join("z"), &["check", "--freebsd", "14.0"], &[]);
    assert!(
        !ok && err.contains("z/target/kmod/14.0/z.ko does not exist")
            && err.contains("cargo kmod build --freebsd 14.0"),
        "{err}"
    );
    // A module package without the release feature.
    let toml = tmp.join("z/Cargo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replace("freebsd-14 = [\"freebsd-kmi-rs/freebsd-14\"]\n", ""),
    )
    .unwrap();
    let (ok, _, err) = cargo_kmod_in(&tmp.join("z"), &["build", "--freebsd", "14.2"], &[]);
    assert!(
        !ok && err.contains("has no feature `freebsd-14`")
            && err.contains("freebsd-14 = [\"freebsd-kmi-rs/freebsd-14\"]"),
        "{err}"
    );
    std::fs::remove_dir_all(&tmp).ok();
}

//! `cargo kmod build` end to end: the kernel toolchain builds real modules (the
//! fixture in tests/fixtures/kmodfixture and the crate's examples/hello), links them like
//! kmod.mk and the checker accepts them. These tests FAIL (not skip) when the kernel
//! toolchain is missing, naming what to install.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_kmod::build::{BuildOptions, BuildOutput, build};
use cargo_kmod::release::resolve;
use cargo_kmod::toolchain::Toolchain;
use cargo_kmod::workspace::Workspace;
use object::{Object, ObjectSection, ObjectSymbol};

fn toolchain() -> Toolchain {
    Toolchain::discover().unwrap_or_else(|e| panic!("the kernel toolchain is missing: {e}"))
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kmodfixture")
}

fn build_module(module: &str, release: &str) -> BuildOutput {
    toolchain();
    let ws = Workspace::locate().expect("workspace");
    let release = resolve(Some(release)).expect("release");
    build(
        &ws,
        &BuildOptions {
            module: module.to_owned(),
            release,
            jobs: Some(2),
            verbose: true,
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "cargo kmod build {module} --freebsd {}: {e:#}",
            release.identity.name
        )
    })
}

/// What every built `.ko` must look like after the kmod.mk-style link.
fn assert_kmod_shape(out: &BuildOutput, release: &str) {
    let ws = Workspace::locate().unwrap();
    assert_eq!(
        out.ko,
        ws.root
            .join(format!("target/kmod/{release}/{}.ko", out.module_name))
    );
    let data = std::fs::read(&out.ko).unwrap();
    let file = object::File::parse(&*data).unwrap();
    assert_eq!(file.kind(), object::ObjectKind::Relocatable);
    assert_eq!(
        data[7],
        object::elf::ELFOSABI_FREEBSD,
        "ld -m elf_x86_64_fbsd sets EI_OSABI"
    );
    for s in file.sections() {
        let name = s.name().unwrap();
        assert!(
            !name.starts_with(".debug")
                && name != ".comment"
                && name != ".llvm_addrsig"
                && name != ".eh_frame",
            "{name} kept"
        );
        assert!(
            !name.starts_with(".init_array")
                && !name.starts_with(".tdata")
                && !name.starts_with(".tbss"),
            "{name}"
        );
    }
    let globals: Vec<_> = file
        .symbols()
        .filter(|s| s.is_definition() && (s.is_global() || s.is_weak()))
        .map(|s| s.name().unwrap().to_owned())
        .collect();
    assert!(
        globals.is_empty(),
        "defined symbols left global (EXPORT_SYMS=NO localises them): {globals:?}"
    );
    assert_eq!(out.report.release, release);
    assert_eq!(out.report.modules, std::slice::from_ref(&out.module_name));
    assert!(
        out.report
            .imports
            .iter()
            .any(|s| s == "module_register_init"),
        "{}",
        out.report
    );
    // core/alloc come from the kernel sysroot (compiled once per toolchain), not from a
    // build-std of the module's own build.
    let lib = cargo_kmod::sysroot::lib_dir(&out.sysroot);
    for krate in cargo_kmod::sysroot::CRATES {
        assert!(
            std::fs::read_dir(&lib).unwrap().flatten().any(|e| e
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("lib{krate}-"))),
            "{} lacks {krate}",
            lib.display()
        );
    }
    let module_build = out
        .commands
        .iter()
        .find(|c| c.contains("--features freebsd-"))
        .expect("the module's cargo build");
    assert!(!module_build.contains("build-std"), "{module_build}");
    assert!(
        out.commands
            .iter()
            .any(|c| c.contains("ld.lld -m elf_x86_64_fbsd -r --gc-sections")),
        "{:?}",
        out.commands
    );
}

#[test]
fn kernel_toolchain_is_installed() {
    let tc = toolchain();
    eprintln!("{}", tc.describe());
    assert!(
        tc.sysroot
            .join("lib/rustlib/src/rust/library/core")
            .is_dir()
    );
}

#[test]
fn fixture_builds_and_checks_for_13_1_and_14_0() {
    for release in ["13.1", "14.0"] {
        let out = build_module(fixture().to_str().unwrap(), release);
        eprintln!("{}", out.report);
        assert_eq!(out.module_name, "kmodfixture");
        assert_kmod_shape(&out, release);
        assert_eq!(out.report.sysinits, 1);
        assert_eq!(out.report.imports, ["module_register_init", "printf"]);

        // --gc-sections keeps exactly what the linker sets reach: the event handler (and
        // what it calls) stays, the unreferenced exported function goes.
        let data = std::fs::read(&out.ko).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let names: Vec<String> = file
            .symbols()
            .filter_map(|s| s.name().ok().map(str::to_owned))
            .collect();
        assert!(
            names.iter().any(|n| n.contains("kmodfixture_handler")),
            "{names:?}"
        );
        assert!(
            names.iter().any(|n| n.contains("copy_message")),
            "{names:?}"
        );
        assert!(
            !names.iter().any(|n| n.contains("kmodfixture_unreferenced")),
            "GC kept an unreachable function: {names:?}"
        );
        let text = file.section_by_name(".text").unwrap();
        assert!(text.size() > 0);
    }
}

#[test]
fn hello_example_builds_for_every_release() {
    let ws = Workspace::locate().unwrap();
    assert!(
        ws.examples().iter().any(|e| e == "hello"),
        "examples/hello is missing: {:?}",
        ws.examples()
    );
    for release in ["13.1", "14.0", "15.0"] {
        let out = build_module("hello", release);
        eprintln!("{}", out.report);
        assert_eq!(out.module_name, "hello");
        assert_kmod_shape(&out, release);
        // printf(9) and log(9) are the kernel's: imported, never bound inside the module
        // (compiler_builtins defines a math `log(double)` that must not capture log(9)).
        for kernel_fn in ["printf", "log"] {
            assert!(
                out.report.imports.iter().any(|s| s == kernel_fn),
                "{kernel_fn} must be imported from the kernel:\n{}",
                out.report
            );
        }
    }
}

fn cargo_kmod(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-kmod"))
        .args(args)
        .output()
        .expect("run cargo-kmod");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    eprintln!("cargo kmod {}:\n{o}{e}", args.join(" "));
    (out.status.success(), o, e)
}

#[test]
fn cli_rejects_bad_arguments_with_the_valid_choices() {
    let (ok, _, err) = cargo_kmod(&["build", "no-such-module"]);
    assert!(
        !ok && err.contains("unknown module `no-such-module`") && err.contains("hello"),
        "{err}"
    );
    let (ok, _, err) = cargo_kmod(&["build", "--freebsd", "16", "hello"]);
    assert!(
        !ok && err.contains("not supported") && err.contains("13.1") && err.contains("15.0"),
        "{err}"
    );
    let (ok, _, err) = cargo_kmod(&["kmod", "build", "--freebsd", "13.0", "hello"]);
    assert!(
        !ok && err.contains("older than the oldest supported 13.x release 13.1"),
        "{err}"
    );
    let (ok, _, err) = cargo_kmod(&["check", "--freebsd", "14.x", "whatever.ko"]);
    assert!(!ok && err.contains("not a FreeBSD release"), "{err}");
}

#[test]
fn cli_check_reports_problems_and_summaries() {
    let dir = std::env::temp_dir().join(format!("cargo-kmod-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.ko");
    std::fs::write(&good, common::module(&common::Spec::v14())).unwrap();
    let (ok, out, _) = cargo_kmod(&["kmod", "check", good.to_str().unwrap(), "--freebsd", "14.2"]);
    assert!(
        ok && out.contains("module testmod for FreeBSD 14.0: ok") && out.contains("printf"),
        "{out}"
    );
    let (ok, _, err) = cargo_kmod(&["check", good.to_str().unwrap(), "--freebsd", "13.1"]);
    assert!(!ok && err.contains("wrong kernel version range"), "{err}");
    let bad = dir.join("sse.ko");
    let spec = common::Spec {
        extra_code: vec![0x0f, 0x28, 0x00],
        ..common::Spec::v14()
    };
    std::fs::write(&bad, common::module(&spec)).unwrap();
    let (ok, _, err) = cargo_kmod(&["check", bad.to_str().unwrap()]);
    assert!(
        !ok && err.contains("movaps") && err.contains("testmod_handler+0x4"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cli_build_resolves_newer_minor_releases() {
    toolchain();
    let (ok, out, err) = cargo_kmod(&["build", "--freebsd", "14.2", fixture().to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        err.contains("for FreeBSD 14.0 (--features freebsd-14)"),
        "{err}"
    );
    assert!(
        err.contains("Linking kmodfixture.ko") && err.contains("Checking "),
        "{err}"
    );
    assert!(
        out.contains("module kmodfixture for FreeBSD 14.0: ok")
            && out.contains("target/kmod/14.0/kmodfixture.ko"),
        "{out}"
    );
}

//! The kmod.mk link step for amd64, with lld.
//!
//! kmod.mk (sys/conf/kmod.mk) links amd64 modules with `${LD} -m elf_x86_64_fbsd -r -d
//! -T ldscript.kmod.amd64 -o X.ko ${OBJS}`, then (EXPORT_SYMS=NO, the default) localises
//! every defined global with `kmod_syms.awk` + `objcopy -L`, then `objcopy --strip-debug`.
//! Here:
//!
//! 0. `objcopy --localize-symbols=X.kpi libX.a libX.kpi.a`: any definition *inside* the
//!    staticlib of a name the kernel provides (the release's KPI list) is made local before
//!    linking. Otherwise `ld -r` binds the module's calls to it instead of leaving them for
//!    the kernel: `compiler_builtins` defines the C math function `log(double)` (a weak
//!    symbol), which would silently capture the calls `klog!` makes to log(9).
//!    `cargo kmod check` refuses a module that still defines a KPI name.
//! 1. `ld.lld -m elf_x86_64_fbsd -r --gc-sections -T <ldscript> -o X.ko.full
//!    --whole-archive libX.kpi.a --no-whole-archive`: the staticlib's members are all pulled
//!    in (an `-r` link of an archive pulls members only for undefined symbols, and a
//!    module's roots are linker-set statics) and garbage collection keeps exactly what the
//!    linker sets (KEEP in the script) reach. The script keeps every `set_*` section of
//!    the staticlib under its own name ([`ldscript_keeping`]).
//! 2. Every defined global or weak symbol is listed in `X.ko.localize` (kmod_syms.awk with
//!    an empty export list).
//! 3. `objcopy --localize-symbols=X.ko.localize --strip-debug -R .comment -R .llvm_addrsig
//!    -R .eh_frame -R .rela.eh_frame -R .llvmbc -R .llvmcmd X.ko.full X.ko`: two Rust modules loaded together
//!    never clash (`__rust_alloc`, `memcpy`, ...); `.symtab` stays (the kernel linker
//!    needs exactly one).
//!
//! The intermediate files carry a per-build suffix (`X.ko.<pid>-<n>.full`) in the work
//! directory (`target/kmod-build/link/<release>/`) so concurrent builds never collide; the
//! finished module is renamed into place and the intermediates removed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use object::{Object, ObjectSymbol};

use crate::toolchain::Toolchain;
use freebsd_kpi::release::Release;

/// The embedded linker script (`tools/cargo-kmod/ldscript.kmod.amd64`).
pub const LDSCRIPT: &str = include_str!("../ldscript.kmod.amd64");

/// Sections removed from the final module.
pub const REMOVED_SECTIONS: [&str; 6] = [
    ".comment",
    ".llvm_addrsig",
    ".eh_frame",
    ".rela.eh_frame",
    // Bitcode the kernel sysroot's rlibs embed for LTO (crate::sysroot): SHF_EXCLUDE,
    // which a final link drops but `ld -r` keeps.
    ".llvmbc",
    ".llvmcmd",
];

/// What [`link`] ran and produced.
#[derive(Clone, Debug)]
pub struct LinkOutput {
    /// The `.ko`.
    pub ko: PathBuf,
    /// The command lines run, shell-quoted.
    pub commands: Vec<String>,
    /// The symbols made local.
    pub localized: Vec<String>,
}

/// Renders a command line for messages.
pub fn command_line(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
            format!("'{}'", a.replace('\'', "'\\''"))
        } else {
            a.into_owned()
        }
    }));
    parts.join(" ")
}

fn run(mut cmd: Command, commands: &mut Vec<String>) -> anyhow::Result<()> {
    let line = command_line(&cmd);
    commands.push(line.clone());
    let out = cmd.output().with_context(|| format!("cannot run {line}"))?;
    if !out.status.success() {
        bail!(
            "`{line}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Writes the linker script to `dir/ldscript.kmod.amd64` (if it changed); returns its path.
pub fn write_ldscript(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("ldscript.kmod.amd64");
    crate::workspace::write_if_changed(&path, LDSCRIPT)?;
    Ok(path)
}

/// Where [`ldscript_keeping`] adds the module's own sets.
const OTHER_SETS_MARKER: &str = "\t/* cargo kmod: other set_* sections */\n";

/// The linker script with a `set_X : { KEEP(*(set_X)) }` output section for each of
/// `sets` it does not list already: every linker set survives `--gc-sections` under its
/// own name, whether or not anything in the module refers to it.
pub fn ldscript_keeping(sets: &[String]) -> String {
    let mut extra = String::new();
    for set in sets {
        let line = format!("\t{set} :\t{{ KEEP(*({set})) }}\n");
        if !LDSCRIPT.contains(&format!("\t{set} :")) && !extra.contains(&line) {
            extra.push_str(&line);
        }
    }
    LDSCRIPT.replacen(OTHER_SETS_MARKER, &format!("{OTHER_SETS_MARKER}{extra}"), 1)
}

/// The names of the linker-set sections (`set_*`) in the members of `archive`, sorted.
/// Names that are not plain identifiers (which no linker script could name) are skipped;
/// the kernel only looks sets up by C-identifier names.
pub fn archive_sets(archive: &[u8]) -> anyhow::Result<Vec<String>> {
    use object::read::archive::ArchiveFile;
    use object::ObjectSection;
    let ar = ArchiveFile::parse(archive).context("reading the module's staticlib")?;
    let mut sets = Vec::new();
    for member in ar.members() {
        let member = member?;
        let data = member.data(archive)?;
        // ELF parsing wants the headers aligned; archive members are only 2-aligned.
        let mut aligned = vec![0u64; data.len().div_ceil(8)];
        object::pod::bytes_of_slice_mut(&mut aligned)[..data.len()].copy_from_slice(data);
        let bytes = &object::pod::bytes_of_slice(&aligned)[..data.len()];
        // Archive members that are not objects (the symbol table, rlib metadata) are skipped.
        let Ok(file) = object::File::parse(bytes) else { continue };
        for section in file.sections() {
            if let Ok(name) = section.name()
                && name.starts_with("set_")
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                sets.push(name.to_owned());
            }
        }
    }
    sets.sort();
    sets.dedup();
    Ok(sets)
}

/// The defined global and weak symbols of an object (kmod_syms.awk's `nm -g` list with an
/// empty export list).
pub fn defined_globals(data: &[u8]) -> anyhow::Result<Vec<String>> {
    let file = object::File::parse(data)?;
    let mut names: Vec<String> = file
        .symbols()
        .filter(|s| s.is_definition() || s.is_common())
        .filter(|s| s.is_global() || s.is_weak())
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The names a module must import from the kernel, never define: every KPI symbol of
/// `release`, one per line (objcopy's `--localize-symbols` file format).
pub fn kernel_names(release: &Release) -> String {
    let mut names: Vec<&str> = release.symbols().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    let mut text = names.join("\n");
    text.push('\n');
    text
}

/// Links `archive` (a staticlib) into the module `ko` for `release`. `work_dir` receives
/// the linker script and the intermediate files (`X.ko.kpi` and `libX.kpi.a`, the archive
/// with the kernel's names made local; `X.ko.full`, the `ld -r` output; `X.ko.localize`,
/// the symbols made local afterwards).
pub fn link(
    tc: &Toolchain,
    release: &Release,
    archive: &Path,
    ko: &Path,
    work_dir: &Path,
) -> anyhow::Result<LinkOutput> {
    std::fs::create_dir_all(work_dir)
        .with_context(|| format!("creating {}", work_dir.display()))?;
    if let Some(dir) = ko.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file_name = ko
        .file_name()
        .context("module path has no file name")?
        .to_string_lossy();
    // Unique intermediate names: concurrent builds of the same module must not collide.
    let unique = crate::workspace::unique_suffix();
    let full = work_dir.join(format!("{file_name}.{unique}.full"));
    let list = work_dir.join(format!("{file_name}.{unique}.localize"));
    let staged = work_dir.join(format!("{file_name}.{unique}"));
    let kpi_list = work_dir.join(format!("{file_name}.{unique}.kpi"));
    let kpi_archive = work_dir.join(format!("{file_name}.{unique}.kpi.a"));
    let script = work_dir.join(format!("{file_name}.{unique}.ldscript"));
    let mut commands = Vec::new();

    let archive_data =
        std::fs::read(archive).with_context(|| format!("reading {}", archive.display()))?;
    std::fs::write(&script, ldscript_keeping(&archive_sets(&archive_data)?))?;

    std::fs::write(&kpi_list, kernel_names(release))?;
    let mut shield = Command::new(&tc.objcopy);
    shield
        .arg(format!("--localize-symbols={}", kpi_list.display()))
        .arg(archive)
        .arg(&kpi_archive);
    run(shield, &mut commands)?;

    let mut ld = Command::new(&tc.ld);
    ld.args(["-m", "elf_x86_64_fbsd", "-r", "--gc-sections", "-T"])
        .arg(&script)
        .arg("-o")
        .arg(&full)
        .arg("--whole-archive")
        .arg(&kpi_archive)
        .arg("--no-whole-archive");
    run(ld, &mut commands)?;

    let data = std::fs::read(&full).with_context(|| format!("reading {}", full.display()))?;
    let localized = defined_globals(&data)?;
    let mut text = localized.join("\n");
    text.push('\n');
    std::fs::write(&list, text)?;

    let mut objcopy = Command::new(&tc.objcopy);
    objcopy
        .arg(format!("--localize-symbols={}", list.display()))
        .arg("--strip-debug");
    for s in REMOVED_SECTIONS {
        objcopy.arg(format!("--remove-section={s}"));
    }
    objcopy.arg(&full).arg(&staged);
    run(objcopy, &mut commands)?;

    let left = defined_globals(&std::fs::read(&staged)?)?;
    if !left.is_empty() {
        bail!(
            "{}: symbols still global after localisation: {}",
            ko.display(),
            left.join(", ")
        );
    }
    std::fs::rename(&staged, ko)
        .with_context(|| format!("moving {} to {}", staged.display(), ko.display()))?;
    for f in [&full, &list, &kpi_list, &kpi_archive, &script] {
        std::fs::remove_file(f).ok();
    }
    Ok(LinkOutput {
        ko: ko.to_owned(),
        commands,
        localized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_gets_a_kept_output_section_of_its_own_name() {
        let sets = ["set_mine".to_owned(), "set_sysctl_set".to_owned(), "set_mine".to_owned()];
        let script = ldscript_keeping(&sets);
        assert_eq!(script.matches("\tset_mine :\t{ KEEP(*(set_mine)) }\n").count(), 1, "{script}");
        assert_eq!(script.matches("\tset_sysctl_set :").count(), 1, "listed once: {script}");
        for known in ["set_sysinit_set", "set_sysuninit_set", "set_modmetadata_set", "set_pcpu", "set_vnet"] {
            assert!(script.contains(&format!("\t{known} :\t{{ KEEP(*({known})) }}\n")), "{known}: {script}");
        }
        assert!(script.trim_end().ends_with('}'));
        assert_eq!(ldscript_keeping(&[]), LDSCRIPT);
    }
}

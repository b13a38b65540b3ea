//! Module metadata: `set_modmetadata_set` (sys/sys/module.h).
//!
//! `DECLARE_MODULE(name, data, sub, order)` expands to `MODULE_DEPEND(name, kernel,
//! __FreeBSD_version, __FreeBSD_version, MODULE_KERNEL_MAXVER)` + `MODULE_METADATA(...,
//! MDT_MODULE, &data, "name")` + a SYSINIT. Each set entry is a pointer (R_X86_64_64) to a
//! `struct mod_metadata { int md_version; int md_type; const void *md_data; const char
//! *md_cval; }` (24 bytes); for MDT_DEPEND, `md_data` points to a `struct mod_depend { int
//! min, pref, max; }` and `md_cval` names the module depended on. The kernel refuses a
//! module whose `kernel` range does not contain its `__FreeBSD_version`
//! (kern_linker.c `linker_load_dependencies` / `modlist_lookup2`).

use freebsd_kpi::release::Release;
use object::{Object, ObjectSection, SectionIndex};

use super::{Module, Pointer, Problem, VersionRange};

/// `set_modmetadata_set` (MDT_SETNAME, sys/sys/module.h).
pub const SET: &str = "set_modmetadata_set";
/// `MDT_STRUCT_VERSION`.
const MDT_STRUCT_VERSION: i32 = 1;
/// `MDT_DEPEND`, `MDT_MODULE`, `MDT_VERSION`, `MDT_PNP_INFO`.
const MDT_DEPEND: i32 = 1;
const MDT_MODULE: i32 = 2;
const MDT_VERSION: i32 = 3;
const MDT_PNP_INFO: i32 = 4;

/// What the metadata declares.
#[derive(Default)]
pub(super) struct ModuleInfo {
    pub modules: Vec<String>,
    pub kernel: Option<VersionRange>,
    pub depends: Vec<(String, VersionRange)>,
    pub versions: Vec<(String, i32)>,
}

/// Resolves a pointer slot that must point into the module.
fn target(
    m: &Module<'_>,
    section: SectionIndex,
    offset: u64,
    what: &str,
) -> Result<(SectionIndex, u64), String> {
    match m.pointer_at(section, offset)? {
        Pointer::Target { section, offset } => Ok((section, offset)),
        Pointer::Null => Err(format!("{what} is NULL")),
        Pointer::Undefined(name) => Err(format!("{what} points to the undefined symbol `{name}`")),
        Pointer::Other(why) => Err(format!("{what} is {why}")),
    }
}

/// Reads one `struct mod_metadata` entry.
fn entry(
    m: &Module<'_>,
    set: SectionIndex,
    index: usize,
    info: &mut ModuleInfo,
) -> Result<(), String> {
    let (sec, off) = target(m, set, index as u64 * 8, "the set entry")?;
    let md_version = m.read_i32(sec, off)?;
    let md_type = m.read_i32(sec, off + 4)?;
    if md_version != MDT_STRUCT_VERSION {
        return Err(format!(
            "md_version is {md_version}, not MDT_STRUCT_VERSION (1)"
        ));
    }
    let (csec, coff) = target(m, sec, off + 16, "md_cval")?;
    let cval = m.read_cstr(csec, coff)?;
    match md_type {
        MDT_DEPEND => {
            let (dsec, doff) = target(m, sec, off + 8, &format!("md_data of MDT_DEPEND `{cval}`"))?;
            let range = VersionRange {
                min: m.read_i32(dsec, doff)?,
                pref: m.read_i32(dsec, doff + 4)?,
                max: m.read_i32(dsec, doff + 8)?,
            };
            if cval == "kernel" {
                if let Some(previous) = info.kernel.filter(|p| *p != range) {
                    return Err(format!(
                        "two MDT_DEPEND entries on `kernel` disagree: {previous} and {range}"
                    ));
                }
                info.kernel = Some(range);
            } else {
                info.depends.push((cval, range));
            }
        }
        MDT_MODULE => {
            target(
                m,
                sec,
                off + 8,
                &format!("md_data (moduledata_t) of MDT_MODULE `{cval}`"),
            )?;
            info.modules.push(cval);
        }
        MDT_VERSION => {
            let (vsec, voff) =
                target(m, sec, off + 8, &format!("md_data of MDT_VERSION `{cval}`"))?;
            info.versions.push((cval, m.read_i32(vsec, voff)?));
        }
        MDT_PNP_INFO => {}
        other => return Err(format!("unknown md_type {other} (`{cval}`)")),
    }
    Ok(())
}

/// Whether `found` is the `MODULE_DEPEND(kernel, V, V, MODULE_KERNEL_MAXVER)` of a module
/// built for a minor release V of `release`'s major that the kernel `kernel` runs: V from
/// the release folder's `__FreeBSD_version` up to `kernel` (a module built for 14.0, 14.1 or
/// 14.2 on a 14.2 kernel; kern_linker.c `modlist_lookup2` takes `min <= kernel <= max`,
/// and sys/sys/module.h makes min = pref = V, max = roundup(V, 100000) - 1).
fn built_for(found: VersionRange, release: &Release, kernel: u32) -> bool {
    let v = found.min;
    found.pref == v
        && v >= release.identity.freebsd_version as i32
        && v <= kernel as i32
        && found.max == release.identity.kernel_max as i32
}

/// "14.0", or "14.2 (a 14.0 release kernel at __FreeBSD_version 1402000)".
fn kernel_name(release: &Release, kernel: u32) -> String {
    if kernel == release.identity.freebsd_version {
        return release.identity.name.to_owned();
    }
    match freebsd_kpi::catalog::MINOR_RELEASES
        .iter()
        .find(|m| m.freebsd_version == kernel)
    {
        Some(m) => m.name.to_owned(),
        None => format!("{} (__FreeBSD_version {kernel})", release.identity.name),
    }
}

/// Checks the metadata set against `release` running on a kernel of `__FreeBSD_version`
/// `kernel` (a minor release of the same major, at least the release's own).
pub(super) fn check(
    m: &Module<'_>,
    release: &Release,
    kernel: u32,
    problems: &mut Vec<Problem>,
) -> ModuleInfo {
    let mut info = ModuleInfo::default();
    let sets = m.sections_named(SET);
    let Some(&set) = sets.first() else {
        problems.push(Problem::Metadata(format!(
            "no `{SET}` section: the module declares no metadata (DECLARE_MODULE's MDT_MODULE and \
             MDT_DEPEND on `kernel`), so the kernel would not register it"
        )));
        return info;
    };
    if sets.len() > 1 {
        problems.push(Problem::Metadata(format!(
            "{} sections named `{SET}`: the kernel linker (link_elf_lookup_set) uses only the first",
            sets.len()
        )));
    }
    let size = m.elf.section_by_index(set).map(|s| s.size()).unwrap_or(0);
    if size % 8 != 0 {
        problems.push(Problem::Metadata(format!(
            "`{SET}` is {size} bytes, not a whole number of pointers"
        )));
    }
    for index in 0..(size / 8) as usize {
        if let Err(e) = entry(m, set, index, &mut info) {
            problems.push(Problem::Metadata(format!("`{SET}` entry {index}: {e}")));
        }
    }
    if info.modules.is_empty() {
        problems.push(Problem::Metadata(format!(
            "no MDT_MODULE entry in `{SET}`: DECLARE_MODULE's module record is missing"
        )));
    }
    let id = &release.identity;
    let expected = VersionRange {
        min: id.freebsd_version as i32,
        pref: id.freebsd_version as i32,
        max: id.kernel_max as i32,
    };
    match info.kernel {
        None => problems.push(Problem::Metadata(format!(
            "no MDT_DEPEND on `kernel` in `{SET}`: FreeBSD {} needs MODULE_DEPEND(kernel, {}, {}, {})",
            id.name, expected.min, expected.pref, expected.max
        ))),
        Some(found) if !built_for(found, release, kernel) => problems.push(Problem::VersionRange {
            release: kernel_name(release, kernel),
            found,
            expected: if kernel == id.freebsd_version {
                expected
            } else {
                VersionRange { min: kernel as i32, pref: kernel as i32, max: id.kernel_max as i32 }
            },
        }),
        Some(_) => {}
    }
    info
}

//! Resolves `--freebsd <release>` to the release bindings that load on that kernel.
//!
//! A module built for release R declares `MODULE_DEPEND(kernel, V, V, MAXVER)` with
//! V = R's `__FreeBSD_version` and MAXVER = `roundup(V, 100000) - 1` (sys/sys/module.h),
//! so it loads on R and every later minor release of the same major, and on nothing else
//! (kern_linker.c `modlist_lookup2` requires `min <= kernel <= max`). `--freebsd 14.2`
//! therefore selects the newest bound 14.x release not above 14.2.

use freebsd_kpi::catalog::{self, MINOR_RELEASES, MinorRelease, RELEASES};
use freebsd_kpi::release::{Release, Status};

/// Why a `--freebsd` argument names no supported release.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// Not a version number.
    #[error(
        "`{given}` is not a FreeBSD release (expected MAJOR[.MINOR[.PATCH]], e.g. 14.0): {reason}; {}",
        supported()
    )]
    Syntax {
        /// The argument.
        given: String,
        /// What the parser said.
        reason: String,
    },
    /// A major release with no bindings.
    #[error(
        "FreeBSD {given} is not supported: no bindings for major release {major}; {}",
        supported()
    )]
    UnknownMajor {
        /// The argument.
        given: String,
        /// Its major version.
        major: u64,
    },
    /// Older than every bound release of that major.
    #[error(
        "FreeBSD {given} is older than the oldest supported {major}.x release {oldest}: a module built for {oldest} \
         declares MODULE_DEPEND(kernel, {fv}, {fv}, {max}) and a {given} kernel refuses it; {}",
        supported()
    )]
    TooOld {
        /// The argument.
        given: String,
        /// Its major version.
        major: u64,
        /// The oldest bound release of that major.
        oldest: &'static str,
        /// Its `__FreeBSD_version`.
        fv: u32,
        /// Its `MODULE_KERNEL_MAXVER`.
        max: u32,
    },
}

/// "supported releases: 13.1 (legacy), 14.0 (current)".
pub fn supported() -> String {
    let list: Vec<String> = RELEASES
        .iter()
        .map(|r| {
            let status = match r.identity.status {
                Status::Current => "current, default",
                Status::Legacy => "legacy",
            };
            format!(
                "{} ({status}; loads on {}.{}-{}.x)",
                r.identity.name, r.identity.major, r.identity.minor, r.identity.major
            )
        })
        .collect();
    format!("supported releases: {}", list.join(", "))
}

/// The default release: the one whose status is `Current`.
pub fn default_release() -> &'static Release {
    RELEASES
        .iter()
        .rev()
        .find(|r| r.identity.status == Status::Current)
        .unwrap_or_else(|| {
            RELEASES
                .last()
                .expect("the catalog lists at least one release")
        })
}

/// Resolves a `--freebsd` argument (`14`, `14.0`, `14.2`, `14.2.1`, `14.2-RELEASE`);
/// `None` gives [`default_release`].
pub fn resolve(arg: Option<&str>) -> Result<&'static Release, ReleaseError> {
    let Some(given) = arg else {
        return Ok(default_release());
    };
    let given = given.trim();
    let bare = given.split_once('-').map_or(given, |(v, _)| v);
    let parts = bare.split('.').count();
    let padded = match parts {
        1 => format!("{bare}.0.0"),
        2 => format!("{bare}.0"),
        _ => bare.to_owned(),
    };
    let version = semver::Version::parse(&padded).map_err(|e| ReleaseError::Syntax {
        given: given.to_owned(),
        reason: e.to_string(),
    })?;
    let same_major: Vec<&'static Release> = RELEASES
        .iter()
        .filter(|r| r.identity.major == version.major)
        .collect();
    if same_major.is_empty() {
        return Err(ReleaseError::UnknownMajor {
            given: given.to_owned(),
            major: version.major,
        });
    }
    // A bare major (`14`) means the newest bound release of that major.
    let minor = if parts == 1 { u64::MAX } else { version.minor };
    catalog::for_kernel(version.major, minor).ok_or_else(|| {
        let oldest = same_major
            .iter()
            .min_by_key(|r| r.identity.minor)
            .expect("non-empty");
        ReleaseError::TooOld {
            given: given.to_owned(),
            major: version.major,
            oldest: oldest.identity.name,
            fv: oldest.identity.freebsd_version,
            max: oldest.identity.kernel_max,
        }
    })
}

/// The kernel a `--freebsd` argument names: a known minor release (`14.2`: `__FreeBSD_version`
/// 1402000, see `freebsd_kpi::catalog::MINOR_RELEASES`), or, for a bare major or a minor the
/// table does not list, the release of the bindings it resolves to.
pub fn kernel(arg: Option<&str>) -> Result<&'static MinorRelease, ReleaseError> {
    let bindings = resolve(arg)?;
    let name = arg
        .map(|a| a.trim().split_once('-').map_or(a.trim(), |(v, _)| v))
        .map(|v| v.splitn(3, '.').take(2).collect::<Vec<_>>().join("."));
    let own = || {
        catalog::minor_release(bindings.identity.name).expect("every release folder is a known minor release")
    };
    Ok(match name {
        Some(n) if n.contains('.') => catalog::minor_release(&n).filter(|m| m.major == bindings.identity.major).unwrap_or_else(own),
        _ => own(),
    })
}

/// "13.1 13.2 ... 15.0": every known minor release, with its bindings, for `cargo kmod
/// releases`.
pub fn minor_releases() -> impl Iterator<Item = (&'static MinorRelease, &'static Release)> {
    MINOR_RELEASES
        .iter()
        .filter_map(|m| catalog::for_kernel(m.major, m.minor).map(|r| (m, r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(arg: &str) -> &'static str {
        resolve(Some(arg)).unwrap().identity.name
    }

    #[test]
    fn resolves_releases() {
        assert_eq!(name("14"), "14.0");
        assert_eq!(name("14.0"), "14.0");
        assert_eq!(name("14.2"), "14.0");
        assert_eq!(name("14.2-RELEASE"), "14.0");
        assert_eq!(name("13"), "13.1");
        assert_eq!(name("13.5"), "13.1");
        assert_eq!(name("15"), "15.0");
        assert_eq!(name("15.1"), "15.0");
        // The default is the release whose status is current.
        assert_eq!(resolve(None).unwrap().identity.name, "15.0");
    }

    #[test]
    fn names_minor_kernels() {
        assert_eq!(kernel(Some("14.2")).unwrap().freebsd_version, 1_402_000);
        assert_eq!(kernel(Some("14.2-RELEASE")).unwrap().freebsd_version, 1_402_000);
        assert_eq!(kernel(Some("14.0")).unwrap().freebsd_version, 1_400_097);
        assert_eq!(kernel(Some("14")).unwrap().freebsd_version, 1_400_097);
        assert_eq!(kernel(Some("13.5")).unwrap().freebsd_version, 1_305_000);
        assert_eq!(kernel(None).unwrap().name, "15.0");
        assert!(minor_releases().any(|(m, r)| m.name == "14.3" && r.identity.name == "14.0"));
    }

    #[test]
    fn rejects_unsupported() {
        let e = resolve(Some("13.0")).unwrap_err().to_string();
        assert!(
            e.contains("older than") && e.contains("13.1") && e.contains("supported releases"),
            "{e}"
        );
        let e = resolve(Some("16")).unwrap_err().to_string();
        assert!(
            e.contains("not supported") && e.contains("13.1") && e.contains("14.0") && e.contains("15.0"),
            "{e}"
        );
        let e = resolve(Some("fourteen")).unwrap_err().to_string();
        assert!(e.contains("not a FreeBSD release"), "{e}");
    }
}

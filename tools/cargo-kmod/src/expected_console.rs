//! The console lines an example module prints, shared by the simulator tests and the
//! real-FreeBSD CI job so the two cannot drift: `examples/<name>/expected-console.txt`.
//!
//! Format: one expected console line per line, in order (the load's lines, then the
//! unload's); `#` starts a comment line; `{release}` stands for the bindings' release
//! (`14.0`) and `{freebsd_version}` for its `__FreeBSD_version` (`1400097`); a line ending
//! in `...` matches any line starting with the text before it. The same rules are
//! implemented for `dmesg` by `ci/freebsd-vm/expect-console.sh`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use freebsd_kpi::release::Release;

/// The file name under each example's directory.
pub const FILE_NAME: &str = "expected-console.txt";

/// One expected line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// The whole line.
    Exact(String),
    /// A line starting with this.
    Prefix(String),
}

impl Line {
    /// Whether `actual` is this line.
    pub fn matches(&self, actual: &str) -> bool {
        match self {
            Line::Exact(s) => actual == s,
            Line::Prefix(p) => actual.starts_with(p.as_str()),
        }
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Line::Exact(s) => f.write_str(s),
            Line::Prefix(p) => write!(f, "{p}..."),
        }
    }
}

/// `examples/<example>/expected-console.txt` under a workspace root.
pub fn path(root: &Path, example: &str) -> PathBuf {
    root.join("examples").join(example).join(FILE_NAME)
}

/// Parses the file's text for `release`.
pub fn parse(text: &str, release: &Release) -> Vec<Line> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let l = l.replace("{release}", release.identity.name).replace(
                "{freebsd_version}",
                &release.identity.freebsd_version.to_string(),
            );
            match l.strip_suffix("...") {
                Some(p) => Line::Prefix(p.to_owned()),
                None => Line::Exact(l),
            }
        })
        .collect()
}

/// Reads the expected lines of `example` for `release`.
pub fn read(root: &Path, example: &str, release: &Release) -> anyhow::Result<Vec<Line>> {
    let p = path(root, example);
    let text = std::fs::read_to_string(&p).with_context(|| {
        format!(
            "reading {} (every example lists the console lines it prints there)",
            p.display()
        )
    })?;
    Ok(parse(&text, release))
}

/// Checks that `console` is exactly the expected lines, in order.
pub fn check(console: &str, expected: &[Line]) -> anyhow::Result<()> {
    let actual: Vec<&str> = console.lines().collect();
    for (i, e) in expected.iter().enumerate() {
        match actual.get(i) {
            Some(a) if e.matches(a) => {}
            Some(a) => bail!(
                "console line {}: expected `{e}`, got `{a}`\n{console}",
                i + 1
            ),
            None => bail!(
                "console line {}: expected `{e}`, console ended\n{console}",
                i + 1
            ),
        }
    }
    if actual.len() > expected.len() {
        bail!(
            "console has {} lines, {} expected; first extra: `{}`\n{console}",
            actual.len(),
            expected.len(),
            actual[expected.len()]
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_prefixes_and_order() {
        let r = crate::release::resolve(Some("14.0")).unwrap();
        let lines = parse(
            "# comment\nHello {release}!\nv {freebsd_version}\nbye (...\n",
            r,
        );
        assert_eq!(
            lines,
            vec![
                Line::Exact("Hello 14.0!".into()),
                Line::Exact("v 1400097".into()),
                Line::Prefix("bye (".into()),
            ]
        );
        check("Hello 14.0!\nv 1400097\nbye (3 things)\n", &lines).unwrap();
        let e = check("Hello 14.0!\nv 1301000\nbye (\n", &lines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("console line 2: expected `v 1400097`"), "{e}");
        let e = check("Hello 14.0!\nv 1400097\n", &lines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("console ended"), "{e}");
        let e = check("Hello 14.0!\nv 1400097\nbye ()\nextra\n", &lines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("first extra: `extra`"), "{e}");
    }
}

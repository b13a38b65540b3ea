//! The commands an example's devices and sysctls are exercised with, and what they print,
//! shared by the simulator tests (`cargo kmod run --exec`) and the real-FreeBSD CI job
//! (`ci/freebsd-vm/load-examples.sh`, which runs them with `sh -c` as root between `kldload`
//! and `kldunload`) so the two cannot drift: `examples/<name>/expected-exec.txt`.
//!
//! Format (the transcript style of `examples/counters/expected-sysctl.txt`, without its exit
//! statuses and uids: every command runs as root and must succeed, as `--exec` requires):
//!
//! ```text
//! # comment
//! $ echo hi > /dev/echo
//! $ cat /dev/echo
//! hi
//! --- console
//! echo: /dev/echo created (4096 bytes)
//! echo: destroying /dev/echo
//! ```
//!
//! A `$ CMD` line is a command; the lines after it are what it prints (standard output and
//! standard error), matched with the rules of [`crate::expected_console`]: `#` comment lines
//! and blank lines are skipped, `{release}` and `{freebsd_version}` are replaced, a line
//! ending in `...` matches any line starting with the text before it. The whole transcript
//! (`$ CMD` lines included) must match exactly, in order. An optional `--- console` section
//! gives the console lines of a run with these commands when they differ from
//! `expected-console.txt` (the commands change what the module prints at unload); without it
//! the run's console is checked against `expected-console.txt`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use freebsd_kpi::release::Release;

use crate::expected_console::{self, Line};

/// The file name under each example's directory.
pub const FILE_NAME: &str = "expected-exec.txt";

/// The line that starts the optional console section.
pub const CONSOLE_MARKER: &str = "--- console";

/// An example's commands and what they and the module print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedExec {
    /// The commands, in order, as given to `--exec` and to `sh -c`.
    pub commands: Vec<String>,
    /// The expected transcript: `$ CMD` lines (exact) and their output.
    pub transcript: Vec<Line>,
    /// The console lines of the run with the commands, when given.
    pub console: Option<Vec<Line>>,
}

/// `examples/<example>/expected-exec.txt` under a workspace root.
pub fn path(root: &Path, example: &str) -> PathBuf {
    root.join("examples").join(example).join(FILE_NAME)
}

/// Parses the file's text for `release`.
pub fn parse(text: &str, release: &Release) -> anyhow::Result<ExpectedExec> {
    let (commands_part, console_part) = match text.lines().position(|l| l == CONSOLE_MARKER) {
        Some(i) => {
            let lines: Vec<&str> = text.lines().collect();
            (lines[..i].join("\n"), Some(lines[i + 1..].join("\n")))
        }
        None => (text.to_owned(), None),
    };
    let transcript = expected_console::parse(&commands_part, release);
    let commands: Vec<String> = transcript
        .iter()
        .filter_map(|l| match l {
            Line::Exact(s) => s.strip_prefix("$ ").map(str::to_owned),
            Line::Prefix(_) => None,
        })
        .collect();
    match transcript.first() {
        None => bail!("no `$ COMMAND` line"),
        Some(Line::Exact(s)) if s.starts_with("$ ") => {}
        Some(first) => bail!("the first line, `{first}`, is not a `$ COMMAND` line"),
    }
    Ok(ExpectedExec {
        commands,
        transcript,
        console: console_part.map(|c| expected_console::parse(&c, release)),
    })
}

/// Reads the commands of `example` for `release`: `None` when it has no such file.
pub fn read(root: &Path, example: &str, release: &Release) -> anyhow::Result<Option<ExpectedExec>> {
    let p = path(root, example);
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    parse(&text, release).map(Some).with_context(|| {
        format!(
            "{}: expected `$ COMMAND` lines, each followed by its output",
            p.display()
        )
    })
}

/// Checks that a run's `--- commands ---` transcript is exactly the expected one.
pub fn check(transcript: &str, expected: &ExpectedExec) -> anyhow::Result<()> {
    let actual: Vec<&str> = transcript.lines().collect();
    for (i, e) in expected.transcript.iter().enumerate() {
        match actual.get(i) {
            Some(a) if e.matches(a) => {}
            Some(a) => bail!(
                "transcript line {}: expected `{e}`, got `{a}`\n{transcript}",
                i + 1
            ),
            None => bail!(
                "transcript line {}: expected `{e}`, transcript ended\n{transcript}",
                i + 1
            ),
        }
    }
    if let Some(extra) = actual.get(expected.transcript.len()) {
        bail!(
            "transcript has {} lines, {} expected; first extra: `{extra}`\n{transcript}",
            actual.len(),
            expected.transcript.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_outputs_and_console() {
        let r = crate::release::resolve(Some("14.0")).unwrap();
        let e = parse(
            "# comment\n$ echo hi > /dev/echo\n$ cat /dev/echo\nhi\n$ sysctl x\nx: ...\n--- console\nloaded {release}\n",
            r,
        )
        .unwrap();
        assert_eq!(
            e.commands,
            ["echo hi > /dev/echo", "cat /dev/echo", "sysctl x"]
        );
        assert_eq!(e.console, Some(vec![Line::Exact("loaded 14.0".into())]));
        check(
            "$ echo hi > /dev/echo\n$ cat /dev/echo\nhi\n$ sysctl x\nx: 3\n",
            &e,
        )
        .unwrap();
        let err = check(
            "$ echo hi > /dev/echo\n$ cat /dev/echo\nho\n$ sysctl x\nx: 3\n",
            &e,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("transcript line 3: expected `hi`, got `ho`"),
            "{err}"
        );
        let no_console = parse("$ true\n", r).unwrap();
        assert_eq!(no_console.console, None);
        let err = parse("output before\n$ true\n", r).unwrap_err().to_string();
        assert!(err.contains("is not a `$ COMMAND` line"), "{err}");
    }
}

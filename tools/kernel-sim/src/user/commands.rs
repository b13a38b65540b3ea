//! The commands of `--exec`: each behaves like the FreeBSD program of the same name.
//!
//! **Adding a command**: write `fn run(sh: &mut Shell, argv: &[String]) -> i32` in a file
//! of this folder (e.g. `user/sysctl.rs`) and add one line to [`COMMANDS`]. The function
//! makes system calls through [`Shell`] (open, read, write, ioctl, ... or its own
//! `sh.sys(|| ...)` closures running in the kernel as the process), writes output with
//! `sh.print`, error messages to `sh.err` in the real program's words, and returns the exit
//! status (non-zero fails the run).

use super::errno::*;
use super::shell::{Shell, oflags::*};

/// A command: its exit status.
pub type CommandFn = fn(&mut Shell<'_>, &[String]) -> i32;

/// Every command, by name.
pub const COMMANDS: &[(&str, CommandFn)] = &[
    ("echo", echo),
    ("cat", cat),
    ("dd", dd),
    ("sleep", sleep),
    ("sysctl", super::sysctl::command),
    ("true", |_, _| 0),
    ("false", |_, _| 1),
];

/// The command called `name`.
pub fn find(name: &str) -> Option<CommandFn> {
    COMMANDS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// `echo [-n] WORD...` (sh's builtin, `bin/sh/bltin/echo.c`): the words joined by blanks
/// and a newline, in one write (sh's output buffer). A failed write is reported by sh after
/// the builtin (`bin/sh/eval.c`: `warning("write error on stdout")`, status 2).
fn echo(sh: &mut Shell<'_>, argv: &[String]) -> i32 {
    let (nl, words) = match argv.get(1).map(String::as_str) {
        Some("-n") => (false, &argv[2..]),
        _ => (true, &argv[1..]),
    };
    let mut s = words.join(" ");
    if nl {
        s.push('\n');
    }
    match sh.print(s.as_bytes()) {
        Ok(()) => 0,
        Err(_) => {
            sh.err.push_str("echo: write error on stdout\n");
            2
        }
    }
}

/// Size of cat's buffer (`raw_cat`: the page size for a device).
const CAT_BUFSIZE: usize = 4096;

/// `cat [FILE...]`: read each file until EOF (read returns 0) and print it; `cat: FILE:
/// strerror` for a file that cannot be opened or read (the others are still printed).
fn cat(sh: &mut Shell<'_>, argv: &[String]) -> i32 {
    let mut status = 0;
    let files: Vec<String> = if argv.len() > 1 { argv[1..].to_vec() } else { vec!["-".into()] };
    let Some(buf) = sh.alloc(CAT_BUFSIZE) else { return 1 };
    for path in files {
        let (fd, own) = if path == "-" {
            match sh.stdin_fd {
                Some(fd) => (fd, false),
                None => continue,
            }
        } else {
            match sh.open(&path, O_RDONLY) {
                Ok(fd) => (fd, true),
                Err(e) => {
                    sh.warn("cat", &path, e);
                    status = 1;
                    continue;
                }
            }
        };
        loop {
            match sh.read(fd, buf, CAT_BUFSIZE) {
                Ok(0) => break,
                Ok(n) => {
                    let data = sh.peek(buf, n);
                    if let Err(e) = sh.print(&data) {
                        sh.warn("cat", "stdout", e);
                        status = 1;
                        break;
                    }
                }
                Err(e) => {
                    sh.warn("cat", &path, e);
                    status = 1;
                    break;
                }
            }
        }
        if own {
            let _ = sh.close(fd);
        }
    }
    status
}

fn dd_num(sh: &mut Shell<'_>, key: &str, v: &str) -> Option<u64> {
    // dd's get_num(): a number with an optional b/k/m/g/w suffix.
    let (digits, mult) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (v, 1u64),
        Some((i, _)) => {
            let m = match &v[i..] {
                "b" => 512,
                "k" | "K" => 1 << 10,
                "m" | "M" => 1 << 20,
                "g" | "G" => 1 << 30,
                "w" => 4,
                _ => {
                    sh.err.push_str(&format!("dd: {key}: illegal numeric value\n"));
                    return None;
                }
            };
            (&v[..i], m)
        }
    };
    match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)) {
        Some(n) => Some(n),
        None => {
            sh.err.push_str(&format!("dd: {key}: illegal numeric value\n"));
            None
        }
    }
}

/// `dd if=PATH of=PATH bs=N count=N skip=N seek=N` (`-` or no `if`/`of`: standard
/// input/output). Opens `of` read-write, falling back to write-only like dd; `skip` and
/// `seek` move the offsets with lseek (device nodes are seekable); reads `count` blocks
/// of `bs` bytes (until EOF without `count`), writes each as read, and prints dd's summary
/// on standard error (`N+M records in`, `N+M records out`, `X bytes transferred in S secs
/// (R bytes/sec)`, simulated time).
fn dd(sh: &mut Shell<'_>, argv: &[String]) -> i32 {
    let (mut ifile, mut ofile) = (None::<String>, None::<String>);
    let (mut bs, mut count, mut skip, mut seek) = (512u64, None::<u64>, 0u64, 0u64);
    for a in &argv[1..] {
        let Some((k, v)) = a.split_once('=') else {
            sh.err.push_str(&format!("dd: unknown operand {a}\n"));
            return 1;
        };
        match k {
            "if" => ifile = Some(v.into()),
            "of" => ofile = Some(v.into()),
            "bs" | "ibs" | "obs" | "count" | "skip" | "iseek" | "seek" | "oseek" => {
                let Some(n) = dd_num(sh, k, v) else { return 1 };
                match k {
                    "bs" | "ibs" | "obs" => bs = n,
                    "count" => count = Some(n),
                    "skip" | "iseek" => skip = n,
                    _ => seek = n,
                }
            }
            _ => {
                sh.err.push_str(&format!("dd: unknown operand {k}\n"));
                return 1;
            }
        }
    }
    if bs == 0 || bs > (32 << 20) {
        sh.err.push_str(&format!("dd: bs: {}\n", if bs == 0 { "illegal numeric value" } else { "Result too large" }));
        return 1;
    }
    let start = sh.k.uptime_sbt();
    let ifd = match ifile.as_deref() {
        None | Some("-") => sh.stdin_fd,
        Some(p) => match sh.open(p, O_RDONLY) {
            Ok(fd) => Some(fd),
            Err(e) => {
                sh.warn("dd", p, e);
                return 1;
            }
        },
    };
    let ofd = match ofile.as_deref() {
        None | Some("-") => None,
        Some(p) => match sh.open(p, O_RDWR | O_CREAT | O_TRUNC).or_else(|_| sh.open(p, O_WRONLY | O_CREAT | O_TRUNC)) {
            Ok(fd) => Some(fd),
            Err(e) => {
                sh.warn("dd", p, e);
                if let (Some(fd), Some(_)) = (ifd, ifile.as_deref().filter(|p| *p != "-")) {
                    let _ = sh.close(fd);
                }
                return 1;
            }
        },
    };
    let iname = ifile.clone().unwrap_or_else(|| "stdin".into());
    let oname = ofile.clone().unwrap_or_else(|| "stdout".into());
    let mut status = 0;
    let (mut in_full, mut in_part, mut out_full, mut out_part, mut bytes) = (0u64, 0u64, 0u64, 0u64, 0u64);
    'copy: {
        let Some(buf) = sh.alloc(bs as usize) else {
            sh.warn("dd", "input buffer", ENOMEM);
            status = 1;
            break 'copy;
        };
        if let Some(fd) = ifd
            && skip > 0
            && let Err(e) = sh.lseek(fd, (skip * bs) as i64, 1)
        {
            sh.warn("dd", &iname, e);
            status = 1;
            break 'copy;
        }
        if let Some(fd) = ofd
            && seek > 0
            && let Err(e) = sh.lseek(fd, (seek * bs) as i64, 1)
        {
            sh.warn("dd", &oname, e);
            status = 1;
            break 'copy;
        }
        let Some(ifd) = ifd else { break 'copy };
        while count.is_none_or(|c| in_full + in_part < c) {
            let n = match sh.read(ifd, buf, bs as usize) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    sh.warn("dd", &iname, e);
                    status = 1;
                    break;
                }
            };
            if n as u64 == bs { in_full += 1 } else { in_part += 1 }
            let r = match ofd {
                None => {
                    let data = sh.peek(buf, n);
                    sh.print(&data).map(|_| n)
                }
                Some(fd) => sh.write(fd, buf, n),
            };
            match r {
                Ok(w) => {
                    bytes += w as u64;
                    if w as u64 == bs { out_full += 1 } else { out_part += 1 }
                    if w < n {
                        sh.err.push_str(&format!("dd: {oname}: short write on character device\n"));
                    }
                }
                Err(e) => {
                    sh.warn("dd", &oname, e);
                    status = 1;
                    break;
                }
            }
        }
    }
    for (fd, name) in [(ifd, &ifile), (ofd, &ofile)] {
        if let (Some(fd), Some(p)) = (fd, name.as_deref())
            && p != "-"
        {
            let _ = sh.close(fd);
        }
    }
    // summary(): secs is at least 1e-6.
    let secs = (((sh.k.uptime_sbt() - start) as f64) / (1u64 << 32) as f64).max(1e-6);
    sh.err.push_str(&format!(
        "{in_full}+{in_part} records in\n{out_full}+{out_part} records out\n{bytes} bytes transferred in {secs:.6} secs ({:.0} bytes/sec)\n",
        bytes as f64 / secs
    ));
    status
}

/// `sleep SECONDS` (fractions allowed): the simulated clock moves, timed waits expire and
/// their threads run.
fn sleep(sh: &mut Shell<'_>, argv: &[String]) -> i32 {
    if argv.len() != 2 {
        sh.err.push_str("usage: sleep number[unit] [...]\n");
        return 1;
    }
    let Some(secs) = argv[1].parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0) else {
        sh.err.push_str(&format!("sleep: invalid time interval: {}\n", argv[1]));
        return 1;
    };
    let tid0 = crate::kern::kern_switch::TID0;
    sh.k.st_mut().user.thread_proc.insert(tid0, sh.pid);
    let r = sh.k.sleep(std::time::Duration::from_secs_f64(secs));
    sh.k.st_mut().user.thread_proc.remove(&tid0);
    if let Err(f) = r {
        sh.fault = Some(Box::new(f));
        return 1;
    }
    0
}

#[allow(dead_code)]
const _: i32 = EINVAL;

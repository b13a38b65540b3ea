//! The `sysctl` command of `--exec` (sbin/sysctl/sysctl.c, sysctl(8)), run by a simulated
//! process with its credential:
//!
//! * `sysctl NAME` prints `NAME: VALUE`; a node lists every leaf below it (`sysctl.next`
//!   order, `CTLFLAG_SKIP` hidden), one `NAME: VALUE` line each.
//! * `sysctl NAME=VALUE` prints `NAME: OLD -> NEW`.
//! * `-n` prints values only; `-q` suppresses the "unknown oid" warning.
//! * Errors use sysctl(8)'s words and make the exit status 1: `unknown oid 'x'`,
//!   `oid 'x' is read only`, `oid 'x' is a read only tunable` (+ `Tunable values are set in
//!   /boot/loader.conf`), `oid 'x' isn't a leaf node`, `invalid integer 'abc'` (the type
//!   name of `ctl_typename[]`: integer, unsigned integer, long integer, unsigned long,
//!   uint8_t, ..., int64_t), and for a failed write `x=5: Operation not permitted` (`warn`
//!   with the errno text) after the old value was printed.
//!
//! Values are shown by type like `show_var`: integers in decimal (several values of an
//! array separated by spaces), strings as text, opaque values as `Format:FMT Length:N
//! Dump:0x...` (sysctl -o style, first 16 bytes).

use crate::Fault;
use crate::Kernel;
use crate::kern::kern_sysctl::*;

/// What a command printed and its exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status (0 success).
    pub status: i32,
}

/// FreeBSD's `strerror` text for the errnos a sysctl can give (lib/libc/gen/errlst.c).
pub fn strerror(e: i32) -> String {
    match e {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        5 => "Input/output error",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        14 => "Bad address",
        16 => "Device busy",
        17 => "File exists",
        19 => "Operation not supported by device",
        20 => "Not a directory",
        21 => "Is a directory",
        22 => "Invalid argument",
        28 => "No space left on device",
        34 => "Result too large",
        35 => "Resource temporarily unavailable",
        45 => "Operation not supported",
        60 => "Operation timed out",
        63 => "File name too long",
        66 => "Directory not empty",
        _ => return format!("Unknown error: {e}"),
    }
    .to_string()
}

/// `ctl_typename[]` of sysctl.c.
fn typename(kind: u32) -> &'static str {
    match kind & CTLTYPE {
        CTLTYPE_INT => "integer",
        CTLTYPE_UINT => "unsigned integer",
        CTLTYPE_LONG => "long integer",
        CTLTYPE_ULONG => "unsigned long",
        CTLTYPE_U8 => "uint8_t",
        CTLTYPE_U16 => "uint16_t",
        CTLTYPE_U32 => "uint32_t",
        CTLTYPE_U64 => "uint64_t",
        CTLTYPE_S8 => "int8_t",
        CTLTYPE_S16 => "int16_t",
        CTLTYPE_S32 => "int32_t",
        CTLTYPE_S64 => "int64_t",
        CTLTYPE_NODE => "node",
        CTLTYPE_STRING => "string",
        _ => "opaque",
    }
}

/// (size, signed) of an integer kind.
fn int_shape(kind: u32) -> Option<(usize, bool)> {
    Some(match kind & CTLTYPE {
        CTLTYPE_INT | CTLTYPE_S32 => (4, true),
        CTLTYPE_UINT | CTLTYPE_U32 => (4, false),
        CTLTYPE_LONG | CTLTYPE_S64 => (8, true),
        CTLTYPE_ULONG | CTLTYPE_U64 => (8, false),
        CTLTYPE_U8 => (1, false),
        CTLTYPE_S8 => (1, true),
        CTLTYPE_U16 => (2, false),
        CTLTYPE_S16 => (2, true),
        _ => return None,
    })
}

/// Format a value like `show_var`.
pub fn format_value(info: &OidInfo, v: &[u8]) -> String {
    if info.kind & CTLTYPE == CTLTYPE_STRING {
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        return String::from_utf8_lossy(&v[..end]).into_owned();
    }
    if let Some((size, signed)) = int_shape(info.kind) {
        let vals: Vec<String> = v
            .chunks(size)
            .filter(|c| c.len() == size)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(c);
                let u = u64::from_le_bytes(b);
                if signed {
                    let sh = 64 - 8 * size as u32;
                    (((u << sh) as i64) >> sh).to_string()
                } else {
                    u.to_string()
                }
            })
            .collect();
        return vals.join(" ");
    }
    let dump: String = v.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("Format:{} Length:{} Dump:0x{}{}", info.fmt, v.len(), dump, if v.len() > 16 { "..." } else { "" })
}

/// `strtol`/`strtoul` with base 0 over the whole string (`parse_numeric` of sysctl.c):
/// `None` when no digit was read, something follows, or the value overflows the C type
/// (`ERANGE`). Unsigned parsing accepts a sign like `strtoul` (`-1` is the largest value).
fn strto(s: &str, signed: bool) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) if h.starts_with(|c: char| c.is_ascii_hexdigit()) => (16, h),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if signed {
        let v: i64 = if neg { if mag > i64::MAX as u64 + 1 { return None } else { (mag as i64).wrapping_neg() } } else { i64::try_from(mag).ok()? };
        Some(v as u64)
    } else {
        Some(if neg { mag.wrapping_neg() } else { mag })
    }
}

/// Parse a new value like sysctl(8): strings as they are; numbers separated by blanks or
/// commas, each `strtol`/`strtoul`/`strtoimax`/`strtoumax` then cast to the oid's C type
/// (no range check beyond the `long` conversion, as sysctl.c does). `Err(bad word)`.
pub fn parse_value(kind: u32, s: &str) -> Result<Vec<u8>, String> {
    if kind & CTLTYPE == CTLTYPE_STRING {
        return Ok(s.as_bytes().to_vec());
    }
    let Some((size, signed)) = int_shape(kind) else { return Err(s.to_string()) };
    let mut out = Vec::new();
    for w in s.split([' ', ',']).filter(|w| !w.is_empty()) {
        let v = strto(w, signed).ok_or_else(|| w.to_string())?;
        out.extend_from_slice(&v.to_le_bytes()[..size]);
    }
    Ok(out)
}

/// What the command needs from the kernel: name lookups (no module code) and `__sysctl(2)`
/// requests as the calling process.
pub trait Backend {
    /// `sysctl.name2oid` + `sysctl.oidfmt`.
    fn info(&self, name: &str) -> Result<OidInfo, i32>;
    /// The leaves under a node, in `sysctl.next` order.
    fn leaves(&self, name: &str) -> Result<Vec<String>, i32>;
    /// One request; `Err(errno)` when the process could not make it (kernel crashed).
    fn request(&mut self, name: &str, oldlen: Option<usize>, new: Option<&[u8]>) -> Result<SysctlReply, i32>;
}

/// A [`Kernel`] and the credential of the calling process (requests on thread 0).
pub struct KernelAs<'k> {
    /// The kernel.
    pub k: &'k mut Kernel,
    /// The process's credential.
    pub cred: SysctlCred,
    /// A crash of module code during a request.
    pub fault: Option<Fault>,
}

impl Backend for KernelAs<'_> {
    fn info(&self, name: &str) -> Result<OidInfo, i32> {
        self.k.sysctl_info(name)
    }
    fn leaves(&self, name: &str) -> Result<Vec<String>, i32> {
        self.k.sysctl_leaves(name)
    }
    fn request(&mut self, name: &str, oldlen: Option<usize>, new: Option<&[u8]>) -> Result<SysctlReply, i32> {
        if self.fault.is_some() {
            return Err(5);
        }
        self.k.sysctl(name, oldlen, new, self.cred).map_err(|f| {
            self.fault = Some(f);
            5
        })
    }
}

impl Backend for super::shell::Shell<'_> {
    fn info(&self, name: &str) -> Result<OidInfo, i32> {
        self.k.sysctl_info(name)
    }
    fn leaves(&self, name: &str) -> Result<Vec<String>, i32> {
        self.k.sysctl_leaves(name)
    }
    fn request(&mut self, name: &str, oldlen: Option<usize>, new: Option<&[u8]>) -> Result<SysctlReply, i32> {
        request_in(self, name, oldlen, new)
    }
}

/// `__sysctl(2)` with raw arguments, as the shell's process (on thread 0): every pointer is
/// an address in the process's memory (or anything else: unmapped, NULL), the lengths are
/// what the process passes. Returns the errno (`Err(EIO)` once module code crashed: the
/// fault is in `sh.fault`).
pub fn sysctl_raw(sh: &mut super::shell::Shell<'_>, name: &str, old: usize, oldlenp: usize, new: usize, newlen: usize) -> Result<i32, i32> {
    let c = UserCall { name: name.to_string(), old, oldlenp, new, newlen };
    sh.sys(move || Ok(sys___sysctl(&c)))
}

/// `sysctl(3)` like a program does it: `oldlen` bytes of the process's memory for the old
/// value (`None`: NULL, the length is asked for), a `size_t` for `*oldlenp`, the new value
/// copied into the process's memory; after the call the old value and `*oldlenp` are read
/// back. `Err(ENOMEM)` when the process's memory cannot hold the buffers (malloc(3)
/// failing), `Err(EIO)` when module code crashed.
pub fn request_in(sh: &mut super::shell::Shell<'_>, name: &str, oldlen: Option<usize>, new: Option<&[u8]>) -> Result<SysctlReply, i32> {
    const ENOMEM_: i32 = super::errno::ENOMEM;
    let lenp = sh.alloc(std::mem::size_of::<usize>()).ok_or(ENOMEM_)?;
    sh.poke(lenp, &oldlen.unwrap_or(0).to_ne_bytes());
    let old = match oldlen {
        Some(n) => sh.alloc(n).ok_or(ENOMEM_)?,
        None => 0,
    };
    let (newp, newlen) = match new {
        Some(v) => {
            let a = sh.alloc(v.len()).ok_or(ENOMEM_)?;
            sh.poke(a, v);
            (a, v.len())
        }
        None => (0, 0),
    };
    let error = sysctl_raw(sh, name, old, lenp, newp, newlen)?;
    let mut b = [0u8; std::mem::size_of::<usize>()];
    let got = sh.peek(lenp, b.len());
    b.copy_from_slice(&got);
    let len = usize::from_ne_bytes(b);
    let old = match oldlen {
        Some(n) if error == 0 || error == ENOMEM => sh.peek(old, len.min(n)),
        _ => Vec::new(),
    };
    Ok(SysctlReply { error, old, oldlen: len })
}

/// `sysctl` in the `--exec` runner ([`super::commands::COMMANDS`]): runs as the shell's
/// process, with its credential; output goes to the shell's standard output.
pub fn command(sh: &mut super::shell::Shell<'_>, argv: &[String]) -> i32 {
    let args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    let o = run_on(sh, &args);
    if sh.print(o.stdout.as_bytes()).is_err() && o.status == 0 {
        return 1;
    }
    sh.err.push_str(&o.stderr);
    o.status
}

/// Run `sysctl ARGS...` as a process with credential `cred` (requests on thread 0).
pub fn run(k: &mut Kernel, args: &[&str], cred: SysctlCred) -> Result<CmdOutput, Fault> {
    let mut b = KernelAs { k, cred, fault: None };
    let o = run_on(&mut b, args);
    match b.fault {
        Some(f) => Err(f),
        None => Ok(o),
    }
}

/// Run `sysctl ARGS...` over any [`Backend`].
pub fn run_on(b: &mut dyn Backend, args: &[&str]) -> CmdOutput {
    let mut o = CmdOutput::default();
    let mut nflag = false;
    let mut qflag = false;
    let mut names = Vec::new();
    for a in args {
        match *a {
            s if s.starts_with('-') && s.len() > 1 && names.is_empty() => {
                for c in s[1..].chars() {
                    match c {
                        'n' => nflag = true,
                        'q' => qflag = true,
                        c => {
                            o.stderr.push_str(&format!("sysctl: illegal option -- {c}\nusage: sysctl [-nq] name[=value] ...\n"));
                            o.status = 1;
                            return o;
                        }
                    }
                }
            }
            s => names.push(s),
        }
    }
    if names.is_empty() {
        o.stderr.push_str("usage: sysctl [-nq] name[=value] ...\n");
        o.status = 1;
        return o;
    }
    for arg in names {
        if !parse(b, arg, nflag, qflag, &mut o) {
            o.status = 1;
        }
    }
    o
}

/// Read a whole value like sysctl(8): the length first, then twice that much room.
fn read_all(b: &mut dyn Backend, name: &str) -> Result<SysctlReply, i32> {
    let r = b.request(name, None, None)?;
    if r.error != 0 {
        return Ok(r);
    }
    b.request(name, Some((r.oldlen * 2).max(16)), None)
}

/// Print one leaf; false when it could not be read.
fn show_var(b: &mut dyn Backend, name: &str, nflag: bool, o: &mut CmdOutput, newline: bool) -> bool {
    let Ok(info) = b.info(name) else { return false };
    let r = match read_all(b, name) {
        // show_var(): `if (i != 0 || (len == 0 && ctltype != CTLTYPE_STRING)) return (1);`
        Ok(r) if r.error == 0 && (!r.old.is_empty() || info.kind & CTLTYPE == CTLTYPE_STRING) => r,
        _ => return false,
    };
    // Types sysctl(8) has no format for (opaque without a known "S,name") print nothing
    // without -o.
    if int_shape(info.kind).is_none() && info.kind & CTLTYPE != CTLTYPE_STRING {
        return false;
    }
    if !nflag {
        o.stdout.push_str(&format!("{name}: "));
    }
    o.stdout.push_str(&format_value(&info, &r.old));
    if newline {
        o.stdout.push('\n');
    }
    true
}

fn parse(b: &mut dyn Backend, arg: &str, nflag: bool, qflag: bool, o: &mut CmdOutput) -> bool {
    // strsep(&cp, "=:"), leading blanks of the value and one pair of quotes stripped,
    // trailing blanks of the name trimmed.
    let (name, newval) = match arg.find(['=', ':']) {
        Some(i) => {
            let mut v = arg[i + 1..].trim_start_matches(|c: char| c.is_ascii_whitespace());
            if let Some(q) = v.chars().next().filter(|c| *c == '"' || *c == '\'')
                && v.len() >= 2
                && v.ends_with(q)
            {
                v = &v[1..v.len() - 1];
            } else if let Some(q) = v.chars().next().filter(|c| *c == '"' || *c == '\'') {
                v = &v[q.len_utf8()..];
            }
            (arg[..i].trim_end(), Some(v))
        }
        None => (arg.trim_end(), None),
    };
    let info = match b.info(name) {
        Ok(i) => i,
        Err(_) => {
            if !qflag {
                o.stderr.push_str(&format!("sysctl: unknown oid '{name}'\n"));
            }
            return false;
        }
    };
    let is_node = info.kind & CTLTYPE == CTLTYPE_NODE;
    let Some(newval) = newval else {
        if is_node {
            let leaves = b.leaves(name).unwrap_or_default();
            for l in leaves {
                show_var(b, &l, nflag, o, true);
            }
            return true;
        }
        // A value sysctl(8) cannot read or show prints nothing and is not an error.
        show_var(b, name, nflag, o, true);
        return true;
    };
    if is_node {
        o.stderr.push_str(&format!("sysctl: oid '{name}' isn't a leaf node\n"));
        return false;
    }
    if info.kind & CTLFLAG_WR == 0 {
        if info.kind & CTLFLAG_TUN != 0 {
            o.stderr.push_str(&format!("sysctl: oid '{name}' is a read only tunable\nsysctl: Tunable values are set in /boot/loader.conf\n"));
        } else {
            o.stderr.push_str(&format!("sysctl: oid '{name}' is read only\n"));
        }
        return false;
    }
    if int_shape(info.kind).is_some() && newval.is_empty() {
        o.stderr.push_str("sysctl: empty numeric value\n");
        return false;
    }
    if int_shape(info.kind).is_none() && info.kind & CTLTYPE != CTLTYPE_STRING {
        o.stderr.push_str(&format!("sysctl: oid '{name}' is type {}, cannot set that\n", info.kind & CTLTYPE));
        return false;
    }
    let bytes = match parse_value(info.kind, newval) {
        Ok(b) => b,
        Err(word) => {
            o.stderr.push_str(&format!("sysctl: invalid {} '{word}'\n", typename(info.kind)));
            return false;
        }
    };
    let shown = show_var(b, name, nflag, o, false);
    let r = match b.request(name, None, Some(&bytes)) {
        Ok(r) => r,
        Err(e) => SysctlReply { error: e, old: Vec::new(), oldlen: 0 },
    };
    if r.error != 0 {
        if shown {
            o.stdout.push('\n');
        }
        let msg = match r.error {
            45 => format!("{arg}: value is not available"),
            ENOTDIR => format!("{arg}: specification is incomplete"),
            ENOMEM => format!("{arg}: type is unknown to this program"),
            e => format!("{arg}: {}", strerror(e)),
        };
        o.stderr.push_str(&format!("sysctl: {msg}\n"));
        return false;
    }
    o.stdout.push_str(" -> ");
    show_var(b, name, true, o, true);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn values_parse_like_strtoimax_with_range_checks() {
        let int = |v: i32| Ok(v.to_le_bytes().to_vec());
        assert_eq!(parse_value(CTLTYPE_INT, "5"), int(5));
        assert_eq!(parse_value(CTLTYPE_INT, "-5"), int(-5));
        assert_eq!(parse_value(CTLTYPE_INT, "0x10"), int(16));
        assert_eq!(parse_value(CTLTYPE_INT, "010"), int(8));
        assert_eq!(parse_value(CTLTYPE_INT, "abc"), Err("abc".into()));
        assert_eq!(parse_value(CTLTYPE_INT, "5x"), Err("5x".into()));
        // (int)strtol(...): no range check beyond long.
        assert_eq!(parse_value(CTLTYPE_INT, "4294967297"), int(1));
        assert_eq!(parse_value(CTLTYPE_INT, "99999999999999999999"), Err("99999999999999999999".into()));
        assert_eq!(parse_value(CTLTYPE_UINT, "-1"), Ok(vec![255; 4]));
        assert_eq!(parse_value(CTLTYPE_U8, "255"), Ok(vec![255]));
        assert_eq!(parse_value(CTLTYPE_INT, "1, 2 3"), Ok([1i32, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect()));
        assert_eq!(typename(CTLTYPE_INT), "integer");
    }
}

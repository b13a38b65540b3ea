//! Counting instructions with callgrind: client requests that delimit measured regions,
//! and a reader for the dump files they produce.
//!
//! The harness runs under `valgrind --tool=callgrind --collect-atstart=no`: nothing is
//! counted until [`region`] switches collection on (`CALLGRIND_TOGGLE_COLLECT`), and each
//! region ends with `CALLGRIND_DUMP_STATS_AT(name)`, which writes one dump file holding
//! exactly that region's costs. Outside valgrind the client requests are no-ops (the
//! magic instruction sequence rotates `%rdi` by 128 bits and exchanges `%rbx` with itself).
//!
//! The request codes and the amd64 magic sequence are those of `valgrind/valgrind.h` and
//! `valgrind/callgrind.h` (valgrind 3.x: `VG_USERREQ_TOOL_BASE('C','T')` + 0..5).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::Path;

use anyhow::{Context as _, bail};

/// `VG_USERREQ_TOOL_BASE('C','T')` (callgrind.h).
const CT_BASE: u64 = (b'C' as u64) << 24 | (b'T' as u64) << 16;
/// `VG_USERREQ__TOGGLE_COLLECT`.
const TOGGLE_COLLECT: u64 = CT_BASE + 2;
/// `VG_USERREQ__DUMP_STATS_AT`.
const DUMP_STATS_AT: u64 = CT_BASE + 3;

/// `VALGRIND_DO_CLIENT_REQUEST_EXPR(default, request, a1..a5)` for amd64.
#[inline(always)]
fn client_request(default: u64, request: u64, a1: u64) -> u64 {
    let args: [u64; 6] = [request, a1, 0, 0, 0, 0];
    let result: u64;
    // SAFETY: valgrind's "special instruction preamble": four rotations of %rdi by 3, 13,
    // 61 and 51 bits (128 in total, so %rdi is unchanged) and `xchg %rbx,%rbx` (a no-op).
    // Natively nothing changes and %rdx keeps `default`; under valgrind the core reads the
    // request block at %rax (6 words, alive for the whole statement) and writes the result
    // to %rdx. %rdi is declared clobbered anyway; the request may read memory (`a1` can
    // point to a C string), so memory is not declared untouched.
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") default => result,
            in("rax") args.as_ptr(),
            inout("rdi") 0u64 => _,
            options(nostack, preserves_flags),
        );
    }
    result
}

/// Runs `f` with callgrind collecting, then dumps the region's costs as `name` (a dump
/// file of its own). Without valgrind it just runs `f`.
#[inline(never)]
pub fn region<R>(name: &str, f: impl FnOnce() -> R) -> R {
    client_request(0, TOGGLE_COLLECT, 0);
    let r = f();
    client_request(0, TOGGLE_COLLECT, 0);
    let c = CString::new(name).unwrap_or_default();
    client_request(0, DUMP_STATS_AT, c.as_ptr() as u64);
    r
}

/// The costs of one callgrind dump (event `Ir`: instructions executed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dump {
    /// Why the dump was written (`desc: Trigger:`), e.g. `Client Request: <name>` for
    /// `DUMP_STATS_AT(name)`.
    pub trigger: String,
    /// The dump's total (`summary:`/`totals:`).
    pub total: u64,
    /// Self cost per object (`ob=`): the ELF file the code belongs to, `???` for code in
    /// anonymous mappings such as the simulator's arena (module code, kernel-symbol
    /// trampolines).
    pub by_object: BTreeMap<String, u64>,
    /// Self cost per function (`fn=`), for diagnostics.
    pub by_function: BTreeMap<String, u64>,
}

impl Dump {
    /// Self cost of the objects for which `pred(name)` holds.
    pub fn objects(&self, pred: impl Fn(&str) -> bool) -> u64 {
        self.by_object
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| v)
            .sum()
    }
}

/// Strips callgrind's name compression `(id) name` / `(id)`, resolving ids through `table`.
fn name(table: &mut BTreeMap<String, String>, v: &str) -> String {
    let v = v.trim();
    if let Some(rest) = v.strip_prefix('(')
        && let Some((id, tail)) = rest.split_once(')')
    {
        let tail = tail.trim();
        if tail.is_empty() {
            return table.get(id).cloned().unwrap_or_else(|| format!("({id})"));
        }
        table.insert(id.to_owned(), tail.to_owned());
        return tail.to_owned();
    }
    v.to_owned()
}

/// Parses a callgrind dump (the format of callgrind's `--dump-instr=no` output, with or
/// without name and position compression; a single event column is expected).
pub fn parse(text: &str) -> anyhow::Result<Dump> {
    let mut d = Dump::default();
    let mut obs = BTreeMap::new();
    let mut fns = BTreeMap::new();
    let mut ob = String::from("???");
    let mut func = String::new();
    let mut skip_next_cost = false;
    let mut events = None;
    let mut total = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("events:") {
            events = Some(v.trim().to_owned());
        } else if let Some(v) = line
            .strip_prefix("desc: Trigger:")
            .or_else(|| line.strip_prefix("trigger:"))
        {
            d.trigger = v.trim().to_owned();
        } else if let Some(v) = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
        {
            total = Some(
                v.split_whitespace()
                    .next()
                    .unwrap_or("0")
                    .parse::<u64>()
                    .context("summary")?,
            );
        } else if let Some(v) = line.strip_prefix("ob=") {
            ob = name(&mut obs, v);
        } else if let Some(v) = line.strip_prefix("cob=") {
            name(&mut obs, v);
        } else if let Some(v) = line.strip_prefix("fn=") {
            func = name(&mut fns, v);
        } else if let Some(v) = line
            .strip_prefix("cfn=")
            .or_else(|| line.strip_prefix("cfi="))
        {
            if line.starts_with("cfn=") {
                name(&mut fns, v);
            }
        } else if line.starts_with("calls=") {
            // The next cost line is the call's inclusive cost, not self cost.
            skip_next_cost = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '*')
        {
            if skip_next_cost {
                skip_next_cost = false;
                continue;
            }
            let cost: u64 = match line.split_whitespace().nth(1) {
                Some(c) => c.parse().with_context(|| format!("cost line `{line}`"))?,
                None => 0,
            };
            *d.by_object.entry(ob.clone()).or_default() += cost;
            *d.by_function.entry(func.clone()).or_default() += cost;
        }
    }
    match events.as_deref() {
        Some("Ir") => {}
        Some(e) => bail!("expected the single event Ir, the dump has `{e}`"),
        None => bail!("not a callgrind dump (no `events:` line)"),
    }
    let sum: u64 = d.by_object.values().sum();
    d.total = total.unwrap_or(sum);
    if d.total != sum {
        bail!(
            "callgrind dump: total {} but the self costs add up to {sum}",
            d.total
        );
    }
    Ok(d)
}

/// Reads every dump callgrind wrote for `--callgrind-out-file=<prefix>` in order:
/// `<prefix>.<n>` (n = 1, 2, ...), or with `--separate-threads=yes` the main thread's
/// `<prefix>.<n>-01`.
pub fn read_dumps(prefix: &Path) -> anyhow::Result<Vec<Dump>> {
    let base = prefix
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    for n in 1.. {
        let Some(p) = [format!("{base}.{n}-01"), format!("{base}.{n}")]
            .into_iter()
            .map(|f| prefix.with_file_name(f))
            .find(|p| p.exists())
        else {
            break;
        };
        let text = std::fs::read_to_string(&p).with_context(|| format!("read {}", p.display()))?;
        out.push(parse(&text).with_context(|| p.display().to_string())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_self_costs_per_object_and_skips_inclusive_call_costs() {
        let text = "version: 1\ncreator: callgrind-3.19.0\npositions: line\nevents: Ir\n\
                    desc: Trigger: Client Request: bench/0\n\
                    ob=(1) /bin/harness\nfl=(1) ???\nfn=(1) outer\n0 10\n\
                    cob=(2) ???\ncfi=(1)\ncfn=(2) 0x40001000\ncalls=1 0\n0 25\n\
                    ob=(2)\nfn=(2)\n0 20\n+1 5\n\
                    totals: 35\n";
        let d = parse(text).unwrap();
        assert_eq!(d.total, 35);
        assert_eq!(d.trigger, "Client Request: bench/0");
        assert_eq!(d.by_object["/bin/harness"], 10);
        assert_eq!(d.by_object["???"], 25);
        assert_eq!(d.by_function["0x40001000"], 25);
        assert_eq!(d.objects(|o| o == "???"), 25);
    }

    #[test]
    fn rejects_other_event_sets_and_inconsistent_totals() {
        assert!(parse("events: Ir Dr\n").is_err());
        assert!(parse("events: Ir\nob=x\nfn=f\n0 3\ntotals: 4\n").is_err());
        assert!(parse("no header\n").is_err());
    }

    #[test]
    fn regions_return_their_value() {
        assert_eq!(region("test", || 7), 7);
    }
}

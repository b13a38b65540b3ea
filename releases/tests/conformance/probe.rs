//! The header side: C probes generated from a release's tables, compiled with gcc against
//! the real FreeBSD headers (`gcc -S`, nothing is executed), and read back from the
//! assembler output (Linux asm-offsets style: `asm(".ascii \"@abi ID %c0\"" :: "i"(expr))`).

use crate::tables::*;
use freebsd_kpi::kpi::SymbolKind;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A FreeBSD header tree and the `__FreeBSD_version` to compile it with.
#[derive(Clone, Debug)]
pub struct HeaderSet {
    /// The include root: `<root>/x86_64-freebsd-none` and `<root>/generic-freebsd`.
    pub root: PathBuf,
    /// `__FreeBSD__`.
    pub major: u64,
    /// `__FreeBSD_version` (the release's, e.g. 1400097 for 14.0 on the 14.2 headers).
    pub freebsd_version: u32,
}

/// The fix for a machine without the prerequisites.
pub const FIX: &str = "fix: `apt-get install -y gcc python3-pip` and `ci/freebsd-headers.sh 14` \
                       (downloads the FreeBSD 14.2 headers from PyPI's ziglang==0.15.2 wheel into \
                       ~/.cache/freebsd-kmi-rs/headers; set FREEBSD_HEADERS_<major>=<include root> to \
                       use another tree)";

/// Checks that gcc runs.
pub fn require_gcc() -> Result<(), String> {
    match Command::new("gcc").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("`gcc --version` failed: {}\n{FIX}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => Err(format!("gcc is missing (`gcc --version`: {e})\n{FIX}")),
    }
}

/// The header tree of FreeBSD `major` (`FREEBSD_HEADERS_<major>`, else
/// `ci/freebsd-headers.sh <major>`, which downloads it once into a persistent cache).
pub fn headers_for(major: u64) -> Result<PathBuf, String> {
    let root = match std::env::var(format!("FREEBSD_HEADERS_{major}")) {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/freebsd-headers.sh");
            let out = Command::new("sh")
                .arg(&script)
                .arg(major.to_string())
                .output()
                .map_err(|e| format!("cannot run `sh {}`: {e}\n{FIX}", script.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "the FreeBSD {major} headers are missing and `ci/freebsd-headers.sh {major}` failed \
                     ({}):\n{}\n{FIX}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    if !root.join("generic-freebsd/sys/module.h").is_file() || !root.join("x86_64-freebsd-none").is_dir() {
        return Err(format!(
            "no FreeBSD {major} header tree at {} (generic-freebsd/sys/module.h or x86_64-freebsd-none missing)\n{FIX}",
            root.display()
        ));
    }
    Ok(root)
}

impl HeaderSet {
    /// The gcc flags that compile kernel-module code against this tree (FACTS.md §0).
    fn cflags(&self) -> Vec<String> {
        let r = self.root.display();
        [
            "-nostdinc",
            "-ffreestanding",
            "-fno-builtin",
            "-fno-pic",
            "-U__linux__",
            "-U__linux",
            "-Ulinux",
            "-U__gnu_linux__",
            "-D_KERNEL",
            "-DKLD_MODULE",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("-D__FreeBSD__={}", self.major),
            format!("-D__FreeBSD_version={}", self.freebsd_version),
            format!("-I{r}/x86_64-freebsd-none"),
            format!("-I{r}/generic-freebsd"),
        ])
        .collect()
    }
}

/// How one item is measured in C.
enum Kind {
    /// An integer constant expression.
    Int(String),
    /// A string constant (its length and bytes are measured).
    Str(String),
    /// `__builtin_types_compatible_p(__typeof__(name), c_type)`: on 1 the header agrees with
    /// `rust` (the Rust side's C spelling); on 0 the header's own declaration is reported.
    Compat { name: String, c_type: String, rust: String, data: bool },
    /// Whether function `name` is declared noreturn (`__dead2`): a noreturn function's
    /// pointer type is `volatile`-qualified in GNU C, unlike `__typeof__(name) *`.
    NoReturn(String),
}

struct Probe {
    item: String,
    kind: Kind,
}

/// Longest string constant the probes read back.
const MAX_STR: usize = 64;

fn probes(t: &Tables) -> (Vec<Probe>, BTreeMap<String, String>) {
    let ct = t.ctypes();
    let mut out = Vec::new();
    // Items the probes cannot measure (a Rust type without C spelling), with the reason.
    let mut unprobed = BTreeMap::new();
    for s in &t.structs {
        let c = &s.c_name;
        out.push(Probe { item: item_sizeof(c), kind: Kind::Int(format!("sizeof({c})")) });
        out.push(Probe { item: item_alignof(c), kind: Kind::Int(format!("_Alignof({c})")) });
        for f in &s.fields {
            let m = &f.c_name;
            out.push(Probe { item: item_offsetof(c, m), kind: Kind::Int(format!("__builtin_offsetof({c}, {m})")) });
            out.push(Probe { item: item_fieldsize(c, m), kind: Kind::Int(format!("sizeof((({c} *)0)->{m})")) });
        }
    }
    for k in &t.consts {
        let kind = match k.value {
            Value::Int(_) => Kind::Int(k.name.clone()),
            Value::Str(_) => Kind::Str(k.name.clone()),
        };
        out.push(Probe { item: k.name.clone(), kind });
    }
    for s in &t.symbols {
        let n = &s.name;
        match s.kind {
            SymbolKind::Data => match ct.c_type(&s.ret) {
                Ok(c) => out.push(Probe {
                    item: item_datatype(n),
                    kind: Kind::Compat { name: n.clone(), c_type: c.clone(), rust: c, data: true },
                }),
                Err(e) => {
                    unprobed.insert(item_datatype(n), format!("<not probed: {e}>"));
                }
            },
            SymbolKind::Function | SymbolKind::VariadicFunction => {
                match (ct.c_decl(s, ""), ct.c_decl(s, n)) {
                    (Ok(c_type), Ok(rust)) => out.push(Probe {
                        item: item_prototype(n),
                        kind: Kind::Compat { name: n.clone(), c_type, rust, data: false },
                    }),
                    (Err(e), _) | (_, Err(e)) => {
                        unprobed.insert(item_prototype(n), format!("<not probed: {e}>"));
                    }
                }
                out.push(Probe { item: item_noreturn(n), kind: Kind::NoReturn(n.clone()) });
            }
        }
    }
    (out, unprobed)
}

/// One `V(id, expr)` line of the probe file.
struct Line {
    probe: usize,
    sub: usize,
    expr: String,
}

fn lines(probes: &[Probe], skip: &HashMap<usize, String>) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, p) in probes.iter().enumerate() {
        if skip.contains_key(&i) {
            continue;
        }
        match &p.kind {
            Kind::Int(e) => out.push(Line { probe: i, sub: 0, expr: e.clone() }),
            Kind::Str(e) => {
                out.push(Line { probe: i, sub: 0, expr: format!("sizeof({e}) - 1") });
                for k in 0..MAX_STR {
                    out.push(Line { probe: i, sub: k + 1, expr: format!("({k} < sizeof({e})) ? ({e})[{k}] : 0") });
                }
            }
            Kind::Compat { name, c_type, .. } => out.push(Line {
                probe: i,
                sub: 0,
                expr: format!("__builtin_types_compatible_p(__typeof__({name}), {c_type})"),
            }),
            Kind::NoReturn(name) => out.push(Line {
                probe: i,
                sub: 0,
                expr: format!("!__builtin_types_compatible_p(__typeof__(&{name}), __typeof__({name}) *)"),
            }),
        }
    }
    out
}

fn source(includes: &[String], lines: &[Line]) -> (String, usize) {
    let mut src = String::new();
    for inc in includes {
        writeln!(src, "#include <{inc}>").unwrap();
    }
    src.push_str("#define V(id, e) __asm__ volatile(\"\\n.ascii \\\"@abi \" #id \" %P0\\\"\" :: \"i\" ((long long)(e)))\n");
    src.push_str("void __abi_probe(void);\nvoid __abi_probe(void)\n{\n");
    let first = src.lines().count() + 1;
    for (id, l) in lines.iter().enumerate() {
        writeln!(src, "V({id}, {});", l.expr).unwrap();
    }
    src.push_str("}\n");
    (src, first)
}

static RUN: AtomicUsize = AtomicUsize::new(0);

fn workdir(release: &str) -> PathBuf {
    let n = RUN.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("abi-conformance-{}-{}-{n}", release.replace('.', "_"), std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the headers say about every item of `t`: compiles the probes (dropping, and
/// reporting as `<error: ...>`, each probe the compiler rejects, so one missing item does not
/// hide the others) and reads the values back.
pub fn header_facts(t: &Tables, h: &HeaderSet) -> Result<BTreeMap<String, String>, String> {
    let (probes, unprobed) = probes(t);
    let includes = t.includes();
    let dir = workdir(&t.release);
    let mut errors: HashMap<usize, String> = HashMap::new();
    let asm = loop {
        let lines = lines(&probes, &errors);
        let (src, first) = source(&includes, &lines);
        std::fs::write(dir.join("probe.c"), &src).unwrap();
        let out = Command::new("gcc")
            .current_dir(&dir)
            .args(["-S", "-O0", "-w"])
            .args(h.cflags())
            .args(["probe.c", "-o", "probe.s"])
            .output()
            .map_err(|e| format!("cannot run gcc: {e}\n{FIX}"))?;
        if out.status.success() {
            break std::fs::read_to_string(dir.join("probe.s")).unwrap();
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut new = 0;
        for l in stderr.lines() {
            let Some(rest) = l.strip_prefix("probe.c:") else { continue };
            let mut parts = rest.splitn(3, ':');
            let (Some(line), Some(_col), Some(msg)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let Some(msg) = msg.trim().strip_prefix("error:") else { continue };
            let Ok(line) = line.parse::<usize>() else { continue };
            let Some(l) = line.checked_sub(first).and_then(|i| lines.get(i)) else {
                return Err(format!(
                    "the probe for FreeBSD {} does not compile outside the probe lines \
                     (a header include fails?):\n{stderr}\nprobe: {}",
                    t.release,
                    dir.join("probe.c").display()
                ));
            };
            if let std::collections::hash_map::Entry::Vacant(e) = errors.entry(l.probe) {
                e.insert(msg.trim().to_owned());
                new += 1;
            }
        }
        if new == 0 {
            return Err(format!("gcc failed without a per-probe error:\n{stderr}\nprobe: {}", dir.join("probe.c").display()));
        }
    };

    // Read "@abi ID VALUE" back.
    let lines = lines(&probes, &errors);
    let mut values: HashMap<(usize, usize), String> = HashMap::new();
    for l in asm.lines() {
        let Some(pos) = l.find("@abi ") else { continue };
        let rest = l[pos + 5..].trim_end_matches('"');
        let mut it = rest.split_whitespace();
        let (Some(id), Some(v)) = (it.next(), it.next()) else { continue };
        let Ok(id) = id.parse::<usize>() else { continue };
        let line = &lines[id];
        values.insert((line.probe, line.sub), v.to_owned());
    }

    let mut facts: BTreeMap<String, String> = unprobed;
    let mut preprocessed: Option<String> = None;
    for (i, p) in probes.iter().enumerate() {
        if let Some(e) = errors.get(&i) {
            facts.insert(p.item.clone(), format!("<error: {e}>"));
            continue;
        }
        let get = |sub: usize| values.get(&(i, sub)).cloned().unwrap_or_else(|| "<no value>".into());
        let int = |sub: usize| get(sub).parse::<i128>().map_err(|_| get(sub));
        let value = match &p.kind {
            Kind::Int(_) => get(0),
            Kind::Str(_) => match int(0) {
                Ok(len) if (0..=MAX_STR as i128).contains(&len) => {
                    let bytes: Vec<u8> = (1..=len as usize).map(|k| int(k).unwrap_or(b'?' as i128) as u8).collect();
                    format!("{:?}", String::from_utf8_lossy(&bytes))
                }
                Ok(len) => format!("<string of {len} bytes, longer than the probe reads>"),
                Err(v) => format!("<not a string: {v}>"),
            },
            Kind::Compat { name, rust, data, .. } => {
                if get(0) == "1" {
                    rust.clone()
                } else {
                    let pre = preprocessed.get_or_insert_with(|| preprocess(&dir, &includes, h));
                    let decl = find_decl(pre, name, *data).unwrap_or_else(|| "<declaration not found>".into());
                    format!("incompatible with the header's `{decl}`")
                }
            }
            Kind::NoReturn(_) => match get(0).as_str() {
                "1" => "noreturn".into(),
                "0" => "returns".into(),
                v => format!("<{v}>"),
            },
        };
        facts.insert(p.item.clone(), value);
    }
    Ok(facts)
}

/// The headers, preprocessed (to quote a declaration that does not match).
fn preprocess(dir: &Path, includes: &[String], h: &HeaderSet) -> String {
    let src: String = includes.iter().map(|i| format!("#include <{i}>\n")).collect();
    std::fs::write(dir.join("decls.c"), src).unwrap();
    let out = Command::new("gcc").current_dir(dir).args(["-E", "-P", "-w"]).args(h.cflags()).arg("decls.c").output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
}

/// The top-level declaration of `name` in preprocessed C (whitespace collapsed).
fn find_decl(pre: &str, name: &str, data: bool) -> Option<String> {
    let mut stmts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in pre.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    start = i + 1;
                }
            }
            ';' if depth == 0 => {
                stmts.push(&pre[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    stmts
        .into_iter()
        .filter(|s| !s.trim_start().starts_with("typedef"))
        .find(|s| {
            let b = s.as_bytes();
            s.match_indices(name).any(|(i, _)| {
                let before = i == 0 || !is_ident(b[i - 1]);
                let after = s[i + name.len()..].trim_start();
                let after_ok = if data { !after.starts_with('(') && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_') } else { after.starts_with('(') };
                before && after_ok && (!data || s.trim_start().starts_with("extern"))
            })
        })
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

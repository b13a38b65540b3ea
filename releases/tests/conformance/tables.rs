//! The Rust side: owned copies of a release folder's tables (so a test can perturb them),
//! the C spelling of every Rust type they use, and the facts (item -> value) they claim.

use freebsd_kpi::abi::AbiValue;
use freebsd_kpi::kpi::SymbolKind;
use freebsd_kpi::release::Release;
use std::collections::HashMap;

/// A struct field (copy of `AbiField`).
#[derive(Clone, Debug)]
pub struct Field {
    /// The Rust field name (kept for diagnostics and for tests that build fields).
    #[allow(dead_code)]
    pub name: String,
    pub c_name: String,
    pub offset: usize,
    pub size: usize,
}

/// A struct layout (copy of `AbiStruct`).
#[derive(Clone, Debug)]
pub struct Struct {
    pub name: String,
    pub c_name: String,
    pub header: String,
    pub size: usize,
    pub align: usize,
    pub fields: Vec<Field>,
}

/// A constant's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i128),
    Str(String),
}

/// A constant (copy of `AbiConst`).
#[derive(Clone, Debug)]
pub struct Const {
    pub name: String,
    pub header: String,
    pub value: Value,
}

/// A function or data symbol (copy of `KpiSymbol`).
#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub header: String,
    pub params: String,
    pub ret: String,
}

/// Every table of one release folder.
#[derive(Clone, Debug)]
pub struct Tables {
    pub release: String,
    pub structs: Vec<Struct>,
    pub consts: Vec<Const>,
    pub symbols: Vec<Symbol>,
}

impl Tables {
    /// Copies a release's tables out of the catalog.
    pub fn of(r: &Release) -> Tables {
        Tables {
            release: r.identity.name.to_owned(),
            structs: r
                .abi_structs()
                .map(|s| Struct {
                    name: s.name.into(),
                    c_name: s.c_name.into(),
                    header: s.header.into(),
                    size: s.size,
                    align: s.align,
                    fields: s
                        .fields
                        .iter()
                        .map(|f| Field { name: f.name.into(), c_name: f.c_name.into(), offset: f.offset, size: f.size })
                        .collect(),
                })
                .collect(),
            consts: r
                .abi_consts()
                .map(|c| Const {
                    name: c.name.into(),
                    header: c.header.into(),
                    value: match c.value {
                        AbiValue::Int(v) => Value::Int(v),
                        AbiValue::Str(s) => Value::Str(s.into()),
                    },
                })
                .collect(),
            symbols: r
                .symbols()
                .map(|s| Symbol {
                    name: s.name.into(),
                    kind: s.kind,
                    header: s.header.into(),
                    params: s.params.into(),
                    ret: s.ret.into(),
                })
                .collect(),
        }
    }

    /// Every header the tables cite, as `#include` paths (`sys/sys/malloc.h` -> `sys/malloc.h`),
    /// `sys/param.h` and `sys/systm.h` first (the kernel's include convention).
    pub fn includes(&self) -> Vec<String> {
        let mut out = vec!["sys/param.h".to_owned(), "sys/systm.h".to_owned()];
        let headers = self
            .structs
            .iter()
            .map(|s| &s.header)
            .chain(self.consts.iter().map(|c| &c.header))
            .chain(self.symbols.iter().map(|s| &s.header));
        for h in headers {
            let inc = h.strip_prefix("sys/").unwrap_or(h).to_owned();
            // vm/ headers use vm/vm.h's types (vm_object_t, ...) without including it.
            if inc.starts_with("vm/") && !out.iter().any(|i| i == "vm/vm.h") {
                out.push("vm/vm.h".to_owned());
            }
            if !out.contains(&inc) {
                out.push(inc);
            }
        }
        out
    }

    /// The C spelling of the Rust types these tables use.
    pub fn ctypes(&self) -> CTypes {
        CTypes { names: self.structs.iter().map(|s| (s.name.clone(), s.c_name.clone())).collect() }
    }
}

// ---- item names (shared by the Rust facts, the probes and the 13.1 table) ----

pub fn item_sizeof(c_type: &str) -> String {
    format!("sizeof({c_type})")
}
pub fn item_alignof(c_type: &str) -> String {
    format!("_Alignof({c_type})")
}
pub fn item_offsetof(c_type: &str, field: &str) -> String {
    format!("offsetof({c_type}, {field})")
}
pub fn item_fieldsize(c_type: &str, field: &str) -> String {
    format!("sizeof((({c_type} *)0)->{field})")
}
pub fn item_prototype(name: &str) -> String {
    format!("prototype({name})")
}
pub fn item_noreturn(name: &str) -> String {
    format!("noreturn({name})")
}
pub fn item_datatype(name: &str) -> String {
    format!("__typeof__({name})")
}

/// Facts: every checked item with its value, in table order.
pub type Facts = Vec<(String, String)>;

/// How a constant's value is written in facts and in the 13.1 table.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Str(s) => format!("{s:?}"),
    }
}

/// What the Rust tables claim, item by item.
pub fn rust_facts(t: &Tables) -> Facts {
    let ct = t.ctypes();
    let mut out = Facts::new();
    for s in &t.structs {
        out.push((item_sizeof(&s.c_name), s.size.to_string()));
        out.push((item_alignof(&s.c_name), s.align.to_string()));
        for f in &s.fields {
            out.push((item_offsetof(&s.c_name, &f.c_name), f.offset.to_string()));
            out.push((item_fieldsize(&s.c_name, &f.c_name), f.size.to_string()));
        }
    }
    for c in &t.consts {
        out.push((c.name.clone(), value_text(&c.value)));
    }
    for s in &t.symbols {
        match s.kind {
            SymbolKind::Data => {
                out.push((item_datatype(&s.name), ct.c_type(&s.ret).unwrap_or_else(|e| format!("<{e}>"))));
            }
            SymbolKind::Function | SymbolKind::VariadicFunction => {
                out.push((item_prototype(&s.name), ct.c_decl(s, &s.name).unwrap_or_else(|e| format!("<{e}>"))));
                let nr = if s.ret.trim() == "!" { "noreturn" } else { "returns" };
                out.push((item_noreturn(&s.name), nr.to_owned()));
            }
        }
    }
    out
}

/// Rust type -> C type, for the types the bindings use.
pub struct CTypes {
    /// Rust type name -> C type, from the struct tables (`malloc_type` -> `struct malloc_type`).
    names: HashMap<String, String>,
}

impl CTypes {
    /// The C spelling of a Rust type as `stringify!` writes it (`* mut c_void` -> `void *`).
    pub fn c_type(&self, rust: &str) -> Result<String, String> {
        let ty = rust.trim();
        if let Some(rest) = ty.strip_prefix('*') {
            let rest = rest.trim_start();
            let (is_const, inner) = if let Some(r) = rest.strip_prefix("const") {
                (true, r)
            } else if let Some(r) = rest.strip_prefix("mut") {
                (false, r)
            } else {
                return Err(format!("malformed raw pointer type `{ty}`"));
            };
            let mut c = self.c_type(inner)?;
            if is_const {
                c = if c.ends_with('*') { format!("{c}const") } else { format!("const {c}") };
            }
            return Ok(if c.ends_with('*') { format!("{c}*") } else { format!("{c} *") });
        }
        // `Option<unsafe extern "C" fn(A, B) -> R>`: a C function pointer `R (*)(A, B)`.
        if let Some(inner) = ty.strip_prefix("Option").map(str::trim_start).and_then(|r| r.strip_prefix('<')) {
            let inner = inner.strip_suffix('>').ok_or_else(|| format!("malformed Option type `{ty}`"))?.trim();
            let f = inner.strip_prefix("unsafe").unwrap_or(inner).trim_start();
            let f = f.strip_prefix("extern").map(|r| r.trim_start().strip_prefix("\"C\"").unwrap_or(r)).unwrap_or(f);
            let f = f.trim_start().strip_prefix("fn").ok_or_else(|| format!("`{ty}`: only function pointers are bound as Option"))?;
            let f = f.trim_start().strip_prefix('(').ok_or_else(|| format!("malformed function pointer `{ty}`"))?;
            let close = f.rfind(')').ok_or_else(|| format!("malformed function pointer `{ty}`"))?;
            let (args, rest) = (&f[..close], f[close + 1..].trim());
            let ret = match rest.strip_prefix("->") {
                Some(r) => self.c_type(r)?,
                None => "void".to_owned(),
            };
            let params = split_top_level(args)
                .into_iter()
                .map(|a| self.c_type(param_type(a).unwrap_or(a)))
                .collect::<Result<Vec<_>, _>>()?;
            let args = if params.is_empty() { "void".to_owned() } else { params.join(", ") };
            return Ok(format!("{ret} (*)({args})"));
        }
        let path: String = ty.split_whitespace().collect();
        // `Volatile<T>` (freebsd_kpi::common::mutex::Volatile): a `volatile T` in C.
        if let Some(inner) = path.strip_prefix("Volatile<").and_then(|r| r.strip_suffix('>')) {
            return Ok(format!("volatile {}", self.c_type(inner)?));
        }
        let last = path.rsplit("::").next().unwrap_or(&path);
        let prim = match last {
            "()" | "!" | "c_void" => "void",
            "usize" => "size_t",
            "isize" => "ssize_t",
            "c_char" => "char",
            "c_schar" | "i8" => "signed char",
            "c_uchar" | "u8" => "unsigned char",
            "c_short" | "i16" => "short",
            "c_ushort" | "u16" => "unsigned short",
            "c_int" | "i32" => "int",
            "c_uint" | "u32" => "unsigned int",
            "c_long" | "i64" => "long",
            "c_ulong" | "u64" => "unsigned long",
            "c_longlong" => "long long",
            "c_ulonglong" => "unsigned long long",
            "bool" => "_Bool",
            _ => "",
        };
        if !prim.is_empty() {
            return Ok(prim.to_owned());
        }
        if !last.is_empty() && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            if let Some(c) = self.names.get(last) {
                return Ok(c.clone());
            }
            // Kernel typedefs keep their C name (`module_t`); other names are C structs
            // bound opaquely (`domainset` -> `struct domainset`).
            return Ok(if last.ends_with("_t") { last.to_owned() } else { format!("struct {last}") });
        }
        Err(format!("no C spelling for Rust type `{ty}`"))
    }

    /// Return type, parameter types and variadic flag of a function symbol, in C.
    pub fn signature(&self, s: &Symbol) -> Result<(String, Vec<String>, bool), String> {
        let ret = self.c_type(&s.ret)?;
        let mut params = Vec::new();
        let mut variadic = false;
        for p in split_top_level(&s.params) {
            if p == "..." {
                variadic = true;
                continue;
            }
            let ty = param_type(p).ok_or_else(|| format!("malformed parameter `{p}`"))?;
            params.push(self.c_type(ty)?);
        }
        Ok((ret, params, variadic))
    }

    /// The C declaration of a function symbol named `name` (`void *malloc(size_t, struct
    /// malloc_type *, int)`); with an empty name, the C function type (`void *(size_t, ...)`).
    pub fn c_decl(&self, s: &Symbol, name: &str) -> Result<String, String> {
        let (ret, mut params, variadic) = self.signature(s)?;
        if variadic {
            params.push("...".into());
        }
        let args = if params.is_empty() { "void".to_owned() } else { params.join(", ") };
        Ok(if ret.ends_with('*') { format!("{ret}{name}({args})") } else { format!("{ret} {name}({args})") })
    }
}

/// Splits a parameter list at top-level commas.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in s.char_indices() {
        match ch {
            '(' | '<' | '[' => depth += 1,
            // The `>` of a function pointer's `->` closes nothing.
            '>' if s[..i].ends_with('-') => {}
            ')' | '>' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = s[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// The type of `name : type` (the first `:` that is not part of a `::` path separator).
fn param_type(p: &str) -> Option<&str> {
    let b = p.as_bytes();
    (0..b.len())
        .find(|&i| b[i] == b':' && b.get(i + 1) != Some(&b':') && (i == 0 || b[i - 1] != b':'))
        .map(|i| p[i + 1..].trim())
}

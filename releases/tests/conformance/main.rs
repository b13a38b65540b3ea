//! ABI conformance: every binding of every release folder, proven against the real headers.
//!
//! For each release folder the test takes the tables the binding macros produce (struct
//! layouts, constants, function prototypes, data symbol types; see `freebsd_kpi::abi` and
//! `freebsd_kpi::kpi::KpiSymbol`), generates C probes from them, compiles the probes with gcc
//! against the real FreeBSD headers (14.0 against the 14.2 headers with
//! `-D__FreeBSD_version=1400097`) and compares every value. A release without a header tree
//! here (13.1) is compared with its committed table of cited values (`v13_1/abi-13.1.tsv`).
//! Every difference is listed with the item, the reference value and the Rust value.
//!
//! Needs gcc and the headers (`ci/freebsd-headers.sh 14`, run automatically, cached in
//! `~/.cache/freebsd-kmi-rs/headers`); fails, never skips, when they are missing.
//!
//! Run: `cargo test -p freebsd-kpi-rs --features catalog --test conformance`.

#[cfg(not(feature = "catalog"))]
#[test]
fn conformance_needs_the_catalog_feature() {
    panic!(
        "the ABI conformance test reads every release folder through the `catalog` feature: run \
         `cargo test -p freebsd-kpi-rs --features catalog --test conformance` (a workspace-wide \
         `cargo test --workspace` enables it through the tools)"
    );
}

#[cfg(feature = "catalog")]
mod compare;
#[cfg(feature = "catalog")]
mod probe;
#[cfg(feature = "catalog")]
mod tables;

#[cfg(feature = "catalog")]
mod conformance {
    use crate::compare::{Mismatch, compare, report};
    use crate::probe::{HeaderSet, header_facts, headers_for, require_gcc};
    use crate::tables::{Facts, Tables, rust_facts};
    use freebsd_kpi::catalog::RELEASES;
    use freebsd_kpi::release::Release;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    /// Header trees `ci/freebsd-headers.sh` can fetch, by major.
    const HEADER_MAJORS: &[u64] = &[14, 15];

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// `<folder>/abi-<name>.tsv`: the cited reference of a release without headers here.
    fn cited_table_path(r: &Release) -> PathBuf {
        root().join(r.identity.folder).join(format!("abi-{}.tsv", r.identity.name))
    }

    /// The header set a release is checked against.
    fn header_set(r: &Release) -> Result<HeaderSet, String> {
        let major = r.identity.major;
        if !HEADER_MAJORS.contains(&major) {
            return Err(format!(
                "FreeBSD {}: no header tree can be fetched for major {major} and there is no cited table {}",
                r.identity.name,
                cited_table_path(r).display()
            ));
        }
        Ok(HeaderSet { root: headers_for(major)?, major, freebsd_version: r.identity.freebsd_version })
    }

    /// The whole check of one release's tables against a header tree.
    pub fn check_against_headers(t: &Tables, h: &HeaderSet) -> Result<Vec<Mismatch>, String> {
        let reference = header_facts(t, h)?;
        Ok(compare(&reference, &rust_facts(t), false))
    }

    /// A cited table: item -> value, every row with a non-empty source.
    fn load_cited_table(path: &Path) -> Result<BTreeMap<String, String>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut out = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [item, value, source] = cols[..] else {
                return Err(format!("{}:{}: expected `item<TAB>value<TAB>source`", path.display(), n + 1));
            };
            if source.trim().is_empty() {
                return Err(format!("{}:{}: `{item}` cites no source", path.display(), n + 1));
            }
            if out.insert(item.to_owned(), value.to_owned()).is_some() {
                return Err(format!("{}:{}: `{item}` listed twice", path.display(), n + 1));
            }
        }
        Ok(out)
    }

    #[test]
    fn every_release_matches_the_real_headers() {
        require_gcc().unwrap_or_else(|e| panic!("{e}"));
        let mut failures = Vec::new();
        let mut checked = 0;
        for r in RELEASES {
            if cited_table_path(r).exists() {
                continue; // checked by `releases_without_headers_match_their_cited_tables`
            }
            let t = Tables::of(r);
            match header_set(r).and_then(|h| check_against_headers(&t, &h)) {
                Ok(m) if m.is_empty() => checked += 1,
                Ok(m) => failures.push(report(&format!("FreeBSD {} vs its headers", r.identity.name), &m)),
                Err(e) => failures.push(format!("FreeBSD {}: {e}", r.identity.name)),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(checked > 0, "no release folder was checked against headers");
    }

    #[test]
    fn releases_without_headers_match_their_cited_tables() {
        let mut failures = Vec::new();
        let mut checked = 0;
        for r in RELEASES {
            let path = cited_table_path(r);
            if !path.exists() {
                continue;
            }
            match load_cited_table(&path) {
                Ok(reference) => {
                    let m = compare(&reference, &rust_facts(&Tables::of(r)), true);
                    if !m.is_empty() {
                        failures.push(report(&format!("FreeBSD {} vs {}", r.identity.name, path.display()), &m));
                    }
                    checked += 1;
                }
                Err(e) => failures.push(e),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(RELEASES.iter().any(|r| r.identity.name == "13.1") && checked > 0, "13.1 has no cited table");
    }

    fn release(name: &str) -> &'static Release {
        RELEASES.iter().find(|r| r.identity.name == name).unwrap_or_else(|| panic!("no release {name}"))
    }

    /// Perturbs one struct offset, one constant and one prototype of a copy of `t`.
    fn perturb(t: &mut Tables) {
        let sysinit = t.structs.iter_mut().find(|s| s.c_name == "struct sysinit").unwrap();
        sysinit.fields.iter_mut().find(|f| f.c_name == "func").unwrap().offset += 8;
        let m_zero = t.consts.iter_mut().find(|c| c.name == "M_ZERO").unwrap();
        m_zero.value = crate::tables::Value::Int(0x0101);
        let malloc = t.symbols.iter_mut().find(|s| s.name == "malloc").unwrap();
        assert!(malloc.params.ends_with("c_int"), "{}", malloc.params);
        malloc.params = malloc.params.replace("c_int", "c_long");
    }

    #[test]
    fn a_perturbed_binding_fails_the_header_check() {
        require_gcc().unwrap_or_else(|e| panic!("{e}"));
        let r = release("14.0");
        let h = header_set(r).unwrap_or_else(|e| panic!("{e}"));
        let mut t = Tables::of(r);
        assert_eq!(check_against_headers(&t, &h).unwrap(), vec![], "the unperturbed tables must conform");
        perturb(&mut t);
        let m = check_against_headers(&t, &h).unwrap();
        let text = report("perturbed 14.0", &m);
        assert_eq!(m.len(), 3, "exactly the three perturbed items must be reported:\n{text}");
        assert_eq!(
            m[0],
            Mismatch { item: "offsetof(struct sysinit, func)".into(), expected: "16".into(), actual: "24".into() }
        );
        assert_eq!(m[1], Mismatch { item: "M_ZERO".into(), expected: "256".into(), actual: "257".into() });
        assert_eq!(m[2].item, "prototype(malloc)");
        assert_eq!(m[2].actual, "void *malloc(size_t, struct malloc_type *, long)");
        assert!(
            m[2].expected.starts_with(
                "incompatible with the header's `void *malloc(size_t size, struct malloc_type *type, int flags)"
            ),
            "{}",
            m[2].expected
        );
        for needle in ["offsetof(struct sysinit, func): expected 16", "actual 24", "M_ZERO: expected 256", "actual 257"] {
            assert!(text.contains(needle), "report lacks `{needle}`:\n{text}");
        }
    }

    #[test]
    fn items_absent_from_the_headers_are_each_reported() {
        require_gcc().unwrap_or_else(|e| panic!("{e}"));
        let r = release("14.0");
        let h = header_set(r).unwrap_or_else(|e| panic!("{e}"));
        let mut t = Tables::of(r);
        // A constant, a struct field and a function the headers do not declare: each is
        // reported (the compiler error names it), and the other probes still run.
        t.consts.push(crate::tables::Const {
            name: "M_NO_SUCH_FLAG".into(),
            header: "sys/sys/malloc.h".into(),
            value: crate::tables::Value::Int(1),
        });
        let sysinit = t.structs.iter_mut().find(|s| s.c_name == "struct sysinit").unwrap();
        sysinit.fields.push(crate::tables::Field { name: "spare".into(), c_name: "spare".into(), offset: 32, size: 8 });
        let mut f = t.symbols.iter().find(|s| s.name == "free").unwrap().clone();
        f.name = "no_such_function".into();
        t.symbols.push(f);
        let m = check_against_headers(&t, &h).unwrap();
        let items: Vec<&str> = m.iter().map(|m| m.item.as_str()).collect();
        assert_eq!(
            items,
            [
                "offsetof(struct sysinit, spare)",
                "sizeof(((struct sysinit *)0)->spare)",
                "M_NO_SUCH_FLAG",
                "prototype(no_such_function)",
                "noreturn(no_such_function)",
            ],
            "{}",
            report("absent items", &m)
        );
        assert!(m.iter().all(|m| m.expected.starts_with("<error: ")), "{}", report("absent items", &m));
        assert!(m[2].expected.contains("M_NO_SUCH_FLAG"), "{}", m[2].expected);
    }

    #[test]
    fn a_perturbed_13_1_binding_fails_the_cited_table_check() {
        let r = release("13.1");
        let reference = load_cited_table(&cited_table_path(r)).unwrap();
        let mut t = Tables::of(r);
        assert_eq!(compare(&reference, &rust_facts(&t), true), vec![]);
        perturb(&mut t);
        let m = compare(&reference, &rust_facts(&t), true);
        assert_eq!(
            m,
            vec![
                Mismatch { item: "offsetof(struct sysinit, func)".into(), expected: "8".into(), actual: "16".into() },
                Mismatch { item: "M_ZERO".into(), expected: "256".into(), actual: "257".into() },
                Mismatch {
                    item: "prototype(malloc)".into(),
                    expected: "void *malloc(size_t, struct malloc_type *, int)".into(),
                    actual: "void *malloc(size_t, struct malloc_type *, long)".into(),
                },
            ]
        );
        // A binding missing from the folder, or a row missing from the table, is reported too.
        let mut fewer: Facts = rust_facts(&Tables::of(r));
        let dropped = fewer.pop().unwrap();
        let m = compare(&reference, &fewer, true);
        assert_eq!(m, vec![Mismatch { item: dropped.0.clone(), expected: dropped.1, actual: "<not bound>".into() }]);
    }

    /// The one-list rule: every binding of a release folder is declared through a macro that
    /// records it, and every table reaches the release's catalog entry.
    #[test]
    fn every_binding_is_in_a_table() {
        let mut problems = Vec::new();
        let mut dirs: Vec<(String, Vec<&Release>)> = vec![("common".into(), RELEASES.iter().collect())];
        for r in RELEASES {
            dirs.push((r.identity.folder.into(), vec![r]));
        }
        for (dir, releases) in &dirs {
            let mod_rs = std::fs::read_to_string(root().join(dir).join("mod.rs")).unwrap();
            let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let name = format!("{dir}/{}", file.file_name().unwrap().to_string_lossy());
                if text.contains("assert_layout!") {
                    problems.push(format!("{name}: assert_layout! is gone; declare layouts with abi_structs!"));
                }
                let lines: Vec<&str> = text.lines().collect();
                for (i, l) in lines.iter().enumerate() {
                    if let Some(rest) = l.strip_prefix("pub const ") {
                        let c = rest.split([':', ' ']).next().unwrap();
                        if !(c.ends_with("_TABLES") || ["ABI", "RELEASE"].contains(&c)) {
                            problems.push(format!("{name}:{}: constant {c} is outside abi_consts!", i + 1));
                        }
                    }
                    if l.trim().starts_with("table ") {
                        let t = l.trim()["table ".len()..].split(',').next().unwrap();
                        if !name.ends_with("mod.rs") && !mod_rs.contains(t) {
                            problems.push(format!("{name}: table {t} is not listed in {dir}/mod.rs"));
                        }
                    }
                    if *l == "#[repr(C)]" {
                        let Some(s) = lines[i + 1..].iter().find_map(|l| l.strip_prefix("pub struct ")) else { continue };
                        let s = s.split([' ', '{', '(']).next().unwrap();
                        let opaque = lines[i..].iter().take(6).any(|l| l.contains("_opaque"));
                        for r in releases.iter().filter(|_| !opaque) {
                            if !r.abi_structs().any(|a| a.name == s) {
                                problems.push(format!("{name}: struct {s} has no abi_structs! row in FreeBSD {}", r.identity.name));
                            }
                        }
                    }
                }
            }
        }
        // Every common table reaches every release.
        for r in RELEASES {
            for t in freebsd_kpi::common::STRUCT_TABLES {
                if !r.abi.structs.contains(t) {
                    problems.push(format!("FreeBSD {}: a common struct table ({}) is missing", r.identity.name, t[0].c_name));
                }
            }
            for t in freebsd_kpi::common::CONST_TABLES {
                if !r.abi.consts.contains(t) {
                    problems.push(format!("FreeBSD {}: a common constant table ({}) is missing", r.identity.name, t[0].name));
                }
            }
            for t in freebsd_kpi::common::SYMBOL_TABLES {
                if !r.symbol_tables.contains(t) {
                    problems.push(format!("FreeBSD {}: a common symbol table ({}) is missing", r.identity.name, t[0].name));
                }
            }
        }
        assert!(problems.is_empty(), "one-list rule violated:\n{}", problems.join("\n"));
    }
}

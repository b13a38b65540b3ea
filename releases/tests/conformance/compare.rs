//! The comparison: a pure function over (reference facts, Rust facts), so the perturbation
//! tests can feed it anything.

use crate::tables::Facts;
use std::collections::BTreeMap;
use std::fmt;

/// One item whose Rust value differs from the reference (headers or cited 13.1 table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The item (`offsetof(struct sysinit, func)`, `M_ZERO`, `prototype(malloc)`).
    pub item: String,
    /// The reference value (what the header, or the cited 13.1 source, says).
    pub expected: String,
    /// The Rust binding's value.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: expected {} (reference), actual {} (Rust)", self.item, self.expected, self.actual)
    }
}

/// Every item of `rust` whose value differs from `reference`, in `rust`'s order. With
/// `complete`, reference items that the Rust side lacks are reported too (the 13.1 table
/// must list exactly what the folder binds).
pub fn compare(reference: &BTreeMap<String, String>, rust: &Facts, complete: bool) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (item, actual) in rust {
        match reference.get(item) {
            Some(expected) if expected == actual => {}
            Some(expected) => out.push(Mismatch { item: item.clone(), expected: expected.clone(), actual: actual.clone() }),
            None => out.push(Mismatch {
                item: item.clone(),
                expected: "<no reference value>".into(),
                actual: actual.clone(),
            }),
        }
    }
    if complete {
        for (item, expected) in reference {
            if !rust.iter().any(|(i, _)| i == item) {
                out.push(Mismatch { item: item.clone(), expected: expected.clone(), actual: "<not bound>".into() });
            }
        }
    }
    out
}

/// A failure report listing every mismatch.
pub fn report(what: &str, mismatches: &[Mismatch]) -> String {
    let mut s = format!("{what}: {} mismatch(es) between the bindings and the reference:\n", mismatches.len());
    for m in mismatches {
        s.push_str(&format!("  {m}\n"));
    }
    s
}

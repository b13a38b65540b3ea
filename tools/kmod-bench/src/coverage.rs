//! The KPI coverage row (issue 16): per release, how many of the symbols its kernel exports
//! (the release folder's `kernel-exports.txt`, generated from the real headers) the
//! freebsd-kpi-rs bindings bind and the simulator implements.

use std::fmt::Write as _;

/// `(release, exports, bound, simulated)` of every release folder.
pub fn rows() -> Vec<(&'static str, usize, usize, usize)> {
    freebsd_kpi::catalog::RELEASES
        .iter()
        .map(|r| {
            let exports = cargo_kmod::check::kernel_exports(r);
            let bound = r.symbols().filter(|s| exports.contains_key(s.name)).count();
            let sim = kernel_sim::SimRelease::by_name(r.identity.name).map_or(0, |s| kernel_sim::ksyms::release_symbols(s).len());
            (r.identity.name, exports.len(), bound, sim)
        })
        .collect()
}

/// The Markdown section.
pub fn render() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n### KPI coverage\n");
    let _ = writeln!(
        s,
        "Symbols each release's kernel exports to modules (`releases/<folder>/kernel-exports.txt`, from the real \
         headers by `ci/kernel-exports.py`), how many the bindings bind and how many the simulator implements \
         (a module needing an unimplemented one gets the *cannot simulate* verdict).\n"
    );
    let _ = writeln!(s, "| release | kernel exports | bound (freebsd-kpi-rs) | implemented (kernel-sim) |");
    let _ = writeln!(s, "|---|---:|---:|---:|");
    for (name, exports, bound, sim) in rows() {
        let pct = |n: usize| if exports == 0 { 0.0 } else { 100.0 * n as f64 / exports as f64 };
        let _ = writeln!(s, "| {name} | {exports} | {bound} ({:.1} %) | {sim} ({:.1} %) |", pct(bound), pct(sim));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn coverage_counts_are_subsets_of_the_exports() {
        let rows = super::rows();
        assert_eq!(rows.len(), freebsd_kpi::catalog::RELEASES.len());
        for (name, exports, bound, sim) in rows {
            assert!(exports > 3000, "{name}: {exports}");
            assert!(bound > 0 && bound <= exports, "{name}: {bound}");
            assert!(sim >= bound && sim <= exports, "{name}: {sim}");
        }
        assert!(super::render().contains("| 14.0 |"));
    }
}

//! The simulator's kernels agree with the bindings' release catalog.

use kernel_sim::SimRelease;

#[test]
fn every_bound_release_is_simulated_with_the_catalogs_values() {
    for r in freebsd_kpi::catalog::RELEASES {
        let from_catalog = SimRelease::from_catalog(r);
        assert_eq!(SimRelease::by_name(r.identity.name), Some(from_catalog));
        let table = SimRelease::ALL.iter().find(|s| s.name == r.identity.name);
        assert_eq!(table, Some(&from_catalog), "releases/{} has no SimRelease constant", r.identity.folder);
    }
}

//! `--nowait-sweep`: fail each `M_NOWAIT` allocation site in turn.
//!
//! A clean lifecycle first counts the `M_NOWAIT` allocations a load + unload makes (K,
//! [`Kernel::nowait_allocations`]). Then, for i in 1..=K, a freshly booted kernel is told
//! to return NULL for the i-th one ([`Kernel::set_nowait_failure`], malloc(9)'s contract
//! for `M_NOWAIT`) and the lifecycle runs again. Each site must be handled: either the
//! load succeeds (the module coped) and everything unloads cleanly, or the load fails
//! cleanly with an errno from `MOD_LOAD` (`ENOMEM` expected) — never a panic (a Rust
//! allocation that reached the alloc-error handler), a fault, a refused unload or a live
//! allocation.
//!
//! A second pass runs the same sites with the kmem arena *exhausted* from site i on
//! ([`Kernel::set_nowait_exhaustion`]): every later `M_NOWAIT` request fails too, as when
//! memory runs out or a request is larger than what is free (the huge lengths of issue 15).
//! It catches error paths that allocate again (a cleanup or a retry that allocates) and
//! assume the first failure was the only one.

use kernel_sim::Kernel;

use super::inputs::Input;
use super::lifecycle::run_cycle;
use super::report::{ENOMEM, Failure, SiteResult, SweepReport, errno_text};

/// Runs the sweep; `boot` boots a fresh kernel of the run's release.
pub fn sweep(
    inputs: &[Input],
    shutdown: bool,
    force_unload: bool,
    boot: &dyn Fn() -> anyhow::Result<Kernel>,
) -> anyhow::Result<(SweepReport, Vec<Failure>)> {
    let mut failures = Vec::new();
    let sites = {
        let mut k = boot()?;
        let clean = run_cycle(&mut k, inputs, 1, shutdown, force_unload);
        if let Some(f) = clean.failures.first() {
            failures.push(Failure::SweepSetup(f.to_string()));
            return Ok((SweepReport::default(), failures));
        }
        k.nowait_allocations()
    };
    eprintln!(
        "NOWAIT sweep: a clean load + unload makes {sites} M_NOWAIT allocation(s); failing each in turn"
    );
    let mut report = SweepReport {
        sites,
        results: Vec::new(),
    };
    for (site, exhausted) in (1..=sites)
        .map(|s| (s, false))
        .chain((1..=sites).map(|s| (s, true)))
    {
        let mut k = boot()?;
        if exhausted {
            k.set_nowait_exhaustion(Some(site));
        } else {
            k.set_nowait_failure(Some(site));
        }
        let cy = run_cycle(&mut k, inputs, 1, shutdown, force_unload);
        let reached = k.nowait_allocations() >= site;
        let (ok, outcome) = match cy.failures.first() {
            None if reached => (
                true,
                "allocation failure handled; loaded and unloaded cleanly".to_owned(),
            ),
            None => (
                true,
                "not reached this time (fewer M_NOWAIT allocations than the count run)".to_owned(),
            ),
            Some(Failure::Load {
                file,
                errno,
                mod_load,
                ..
            }) if cy.failures.len() == 1 && !mod_load.is_empty() => {
                let (m, e) = &mod_load[0];
                let note = if *e == ENOMEM {
                    ""
                } else {
                    " (ENOMEM expected)"
                };
                (
                    true,
                    format!(
                        "load of {file} failed cleanly: MOD_LOAD of {m} returned {}{note}, kldload {}; no live allocation",
                        errno_text(*e),
                        errno_text(*errno)
                    ),
                )
            }
            Some(_) => {
                let all: Vec<String> = cy.failures.iter().map(|f| f.to_string()).collect();
                (false, all.join("; "))
            }
        };
        if !ok {
            for f in cy.failures {
                failures.push(Failure::NowaitSite {
                    site,
                    exhausted,
                    what: Box::new(f),
                });
            }
            eprint!("--- console of NOWAIT site {site} ---\n{}", cy.console);
        }
        eprintln!(
            "  {}site {site}/{sites}: {}",
            if exhausted { "exhausted from " } else { "" },
            if ok { "ok" } else { "FAIL" }
        );
        report.results.push(SiteResult {
            site,
            exhausted,
            outcome,
            ok,
        });
    }
    Ok((report, failures))
}

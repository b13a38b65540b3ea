//! The sysctl target of `--fuzz` (issues 12 and 17): every leaf a module registered
//! ([`crate::Kernel::sysctl_leaves_of`]) gets, from several simulated processes running at
//! once on their own kernel threads (so handlers of different requests interleave whenever one
//! blocks, and at every KPI call under a seeded schedule):
//!
//! * writes of random bytes of 0, 1, 3, 4, 8, 4096 and 1 MiB;
//! * reads into short buffers (0 .. the needed length) and full reads;
//! * a third of the processes unprivileged (uid 1001) and some jailed root.
//!
//! Every answer must be an errno (0 ..= `ELAST` 97); a module fault or panic fails the run
//! (the caller sees it as a [`crate::Fault`] or in [`crate::Kernel::panics`]); a write that
//! succeeds for a process the kernel must refuse (non-root without `CTLFLAG_ANYBODY`, jailed
//! root without `CTLFLAG_PRISON`/`ANYBODY`, a `CTLFLAG_SECURE` oid above its securelevel,
//! an oid without `CTLFLAG_WR`) fails the run too. Leaks are found by the unload that
//! follows.

use crate::Kernel;
use crate::kern::kern_sysctl::{self as ks, SysctlCred, UserCall};
use crate::kern::kern_switch::sched;

/// `ELAST` on 14.x/15.0 (sys/sys/errno.h).
pub const ELAST: i32 = 97;
/// The write lengths of the issue.
pub const WRITE_LENGTHS: [usize; 7] = [0, 1, 3, 4, 8, 4096, 1 << 20];

/// What one fuzz run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuzzStats {
    /// Requests made.
    pub requests: u64,
    /// Requests answered 0.
    pub ok: u64,
    /// Requests answered with an errno.
    pub errors: u64,
    /// Violations (empty when the run passed).
    pub failures: Vec<String>,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

struct Worker {
    names: *const Vec<(String, u32)>,
    rng: Rng,
    ops: u32,
    cred: SysctlCred,
    securelevel: i32,
    stats: FuzzStats,
}

fn call(w: &mut Worker, name: &str, oldlen: Option<usize>, new: Option<Vec<u8>>) -> i32 {
    let mut c = UserCall { name: name.to_string(), cred: w.cred, oldlen, new, error: 0, old: Vec::new(), retval: 0 };
    let e = ks::userland_sysctl(&mut c);
    // Back to user space: no lock may be held (userret's WITNESS_WARN).
    super::fuzz::userret();
    w.stats.requests += 1;
    if e == 0 { w.stats.ok += 1 } else { w.stats.errors += 1 }
    if !(0..=ELAST).contains(&e) {
        w.stats.failures.push(format!("{name}: answered {e}, not an errno"));
    }
    e
}

fn run_ops(w: &mut Worker) {
    // SAFETY: the batch owns the name list for the whole call.
    let names = unsafe { &*w.names };
    if names.is_empty() {
        return;
    }
    for _ in 0..w.ops {
        let (name, kind) = names[w.rng.below(names.len())].clone();
        match w.rng.below(3) {
            0 => {
                // Length query, then a short read.
                let mut c = UserCall { name: name.clone(), cred: w.cred, oldlen: None, new: None, error: 0, old: Vec::new(), retval: 0 };
                let e = ks::userland_sysctl(&mut c);
                super::fuzz::userret();
                w.stats.requests += 1;
                if e != 0 {
                    w.stats.errors += 1;
                    if !(0..=ELAST).contains(&e) {
                        w.stats.failures.push(format!("{name}: length query answered {e}, not an errno"));
                    }
                    continue;
                }
                w.stats.ok += 1;
                let short = w.rng.below(c.retval + 1);
                call(w, &name, Some(short), None);
            }
            1 => {
                let len = WRITE_LENGTHS[w.rng.below(WRITE_LENGTHS.len())];
                let mut v = vec![0u8; len];
                for b in v.iter_mut().take(4096) {
                    *b = w.rng.next() as u8;
                }
                let e = call(w, &name, None, Some(v));
                if e == 0 {
                    check_refusal(w, &name, kind, len);
                }
            }
            _ => {
                let len = w.rng.below(64);
                call(w, &name, Some(len), None);
            }
        }
    }
}

/// A write that the kernel's checks (`sysctl_root`) must have refused succeeded.
fn check_refusal(w: &mut Worker, name: &str, kind: u32, len: usize) {
    let why = if kind & ks::CTLFLAG_WR == 0 {
        Some("the oid is read-only (no CTLFLAG_WR)")
    } else if kind & ks::CTLFLAG_SECURE != 0 && w.securelevel > ((kind & ks::CTLMASK_SECURE) >> ks::CTLSHIFT_SECURE) as i32 {
        Some("CTLFLAG_SECURE above the securelevel")
    } else if kind & ks::CTLFLAG_ANYBODY == 0 && w.cred.uid != 0 {
        Some("uid != 0 without CTLFLAG_ANYBODY")
    } else if kind & (ks::CTLFLAG_ANYBODY | ks::CTLFLAG_PRISON) == 0 && w.cred.jailed {
        Some("jailed root without CTLFLAG_PRISON")
    } else {
        None
    };
    if let Some(why) = why {
        w.stats.failures.push(format!("{name}: a {len}-byte write by uid {}{} succeeded: {why}", w.cred.uid, if w.cred.jailed { " (jailed)" } else { "" }));
    }
}

extern "C" fn fuzz_thread(arg: usize) {
    // SAFETY: a Worker of the batch, alive until the batch call returns (the scheduler runs
    // every thread to its end before the gate returns).
    run_ops(unsafe { &mut *(arg as *mut Worker) });
}

extern "C" fn fuzz_batch(arg: usize) -> u64 {
    // SAFETY: the workers of fuzz(), alive for the call.
    let ws = unsafe { &mut *(arg as *mut Vec<Worker>) };
    let s = sched();
    let p0 = s.proc0();
    for i in 1..ws.len() {
        let wp = &mut ws[i] as *mut Worker as usize;
        s.create(fuzz_thread as *const () as usize, wp, format!("sysctl-fuzz{i}"), p0, "kernel".into(), 0, 4);
    }
    run_ops(&mut ws[0]);
    0
}

/// Fuzz `names` with `n` requests in batches of `procs` concurrent processes, seeded.
pub fn fuzz(k: &mut Kernel, names: &[String], n: u32, seed: u64, procs: usize) -> Result<FuzzStats, crate::Fault> {
    let list: Vec<(String, u32)> = names.iter().filter_map(|nm| k.sysctl_info(nm).ok().map(|i| (nm.clone(), i.kind))).collect();
    let procs = procs.max(1);
    let mut total = FuzzStats::default();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let per_batch = 16u32;
    let mut left = n;
    let mut batch = 0u64;
    while left > 0 {
        let ops = left.min(per_batch * procs as u32);
        left -= ops;
        let securelevel = k.securelevel();
        let mut ws: Vec<Worker> = (0..procs)
            .map(|i| Worker {
                names: &list,
                rng: Rng(rng.next() | 1),
                ops: ops / procs as u32 + u32::from((i as u32) < ops % procs as u32),
                // Process 0 is root; a third unprivileged; some jailed root.
                cred: match (batch as usize + i) % 3 {
                    0 => SysctlCred::ROOT,
                    1 => SysctlCred { uid: 1001, jailed: false },
                    _ => SysctlCred { uid: 0, jailed: true },
                },
                securelevel,
                stats: FuzzStats::default(),
            })
            .collect();
        sched().set_main_name("sysctl-fuzz0");
        let p = &mut ws as *mut Vec<Worker> as u64;
        k.exec_call(fuzz_batch as *const () as usize, &[p], None).map_err(|a| k.fault(a))?;
        for w in ws {
            total.requests += w.stats.requests;
            total.ok += w.stats.ok;
            total.errors += w.stats.errors;
            total.failures.extend(w.stats.failures);
        }
        batch += 1;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(cred: SysctlCred, securelevel: i32) -> Worker {
        Worker { names: std::ptr::null(), rng: Rng(1), ops: 0, cred, securelevel, stats: FuzzStats::default() }
    }

    #[test]
    fn oracle_flags_writes_the_kernel_must_refuse() {
        let rw = ks::CTLTYPE_INT | ks::CTLFLAG_RW;
        let cases = [
            (SysctlCred { uid: 1001, jailed: false }, -1, rw, true),
            (SysctlCred { uid: 1001, jailed: false }, -1, rw | ks::CTLFLAG_ANYBODY, false),
            (SysctlCred { uid: 0, jailed: true }, -1, rw, true),
            (SysctlCred { uid: 0, jailed: true }, -1, rw | ks::CTLFLAG_PRISON, false),
            (SysctlCred::ROOT, 1, rw | ks::CTLFLAG_SECURE, true),
            (SysctlCred::ROOT, 0, rw | ks::CTLFLAG_SECURE, false),
            (SysctlCred::ROOT, -1, ks::CTLTYPE_INT | ks::CTLFLAG_RD, true),
            (SysctlCred::ROOT, -1, rw, false),
        ];
        for (cred, lvl, kind, flagged) in cases {
            let mut w = worker(cred, lvl);
            check_refusal(&mut w, "x", kind, 4);
            assert_eq!(!w.stats.failures.is_empty(), flagged, "{cred:?} level {lvl} kind {kind:#x}");
        }
    }
}

impl Kernel {
    /// The sysctl leaves of every loaded file (the `--fuzz` targets), without duplicates.
    pub fn sysctl_fuzz_targets(&self) -> Vec<String> {
        let mut v: Vec<String> = self.files().into_iter().flat_map(|(id, _)| self.sysctl_leaves_of(id)).collect();
        v.sort();
        v.dedup();
        v
    }

    /// `--fuzz N` on the sysctls: [`fuzz`] over [`Kernel::sysctl_fuzz_targets`] from 4
    /// processes (root, uid 1001, jailed root, ...).
    pub fn fuzz_sysctls(&mut self, ops: u64, seed: u64) -> (Vec<String>, Result<FuzzStats, crate::Fault>) {
        let names = self.sysctl_fuzz_targets();
        if names.is_empty() || ops == 0 {
            return (names, Ok(FuzzStats::default()));
        }
        let r = fuzz(self, &names, ops.min(u32::MAX as u64) as u32, seed, 4);
        (names, r)
    }
}

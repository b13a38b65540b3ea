//! The sysctl target of `--fuzz` (issues 12, 15 and 17): every leaf a module registered
//! ([`crate::Kernel::sysctl_leaves_of`]) gets `__sysctl(2)` calls ([`ks::sys___sysctl`])
//! from several simulated user processes running at once on their own kernel threads (so
//! handlers of different requests interleave whenever one blocks, and at every KPI call
//! under a seeded schedule). Every pointer is an address in the calling process's memory:
//!
//! * writes of random bytes of 0, 1, 3, 4, 8, 4096 and 1 MiB;
//! * reads into short buffers (0 .. the needed length) and full reads;
//! * huge lengths (issue 15): `newlen` and `*oldlenp` of 2^20 .. 2^40, `usize::MAX / 2` and
//!   `usize::MAX` over a buffer of a few bytes at the end of the process's memory, over an
//!   unmapped address or NULL; NULL or unmapped `oldlenp`; NULL `new` with a nonzero
//!   `newlen`. The kernel answers with `EFAULT` (copyin/copyout/vslock of unmapped pages),
//!   `EINVAL` (`SYSCTL_IN` of more than is left, a range that wraps), `ENOMEM` (a short old
//!   buffer, `vslock` of more than `vm.max_user_wired`), or takes the bytes the handler
//!   asks for; an unmapped `oldlenp` is always `EFAULT`;
//! * a third of the processes unprivileged (uid 1001) and some jailed root.
//!
//! Every answer must be an errno (0 ..= `ELAST` 97); a module fault or panic fails the run
//! (the caller sees it as a [`crate::Fault`] or in [`crate::Kernel::panics`]: a handler that
//! passes a user length to `malloc(M_WAITOK)` panics with kern_malloc.c's message); a write
//! that succeeds for a process the kernel must refuse (non-root without `CTLFLAG_ANYBODY`,
//! jailed root without `CTLFLAG_PRISON`/`ANYBODY`, a `CTLFLAG_SECURE` oid above its
//! securelevel, an oid without `CTLFLAG_WR`) fails the run too. Leaks are found by the unload
//! that follows.

use crate::Kernel;
use crate::kern::kern_switch::{TID0, sched};
use crate::kern::kern_sysctl::{self as ks, SysctlCred, UserCall};
use crate::user::Ucred;
use crate::user::errno::EFAULT;

/// `ELAST` on 14.x/15.0 (sys/sys/errno.h).
pub const ELAST: i32 = 97;
/// The write lengths of the issue.
pub const WRITE_LENGTHS: [usize; 7] = [0, 1, 3, 4, 8, 4096, 1 << 20];
/// The huge `newlen`s and `*oldlenp`s (issue 15), over buffers far shorter than they say.
pub const HUGE_LENGTHS: [usize; 9] = [1 << 20, 1 << 24, 1 << 30, 1 << 31, 1 << 32, 1 << 36, 1 << 40, usize::MAX / 2, usize::MAX];
/// Bytes of user memory of each worker (the largest write fits).
const BUF: usize = (1 << 20) + 4096;
/// An address no process maps (the first pages are never mapped).
const UNMAPPED: usize = 0x1000;

/// What one fuzz run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuzzStats {
    /// Requests made.
    pub requests: u64,
    /// Requests answered 0.
    pub ok: u64,
    /// Requests answered with an errno.
    pub errors: u64,
    /// Requests with a huge length or an unmapped/NULL pointer.
    pub huge: u64,
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

/// The user memory of one worker in its process: `BUF` bytes at `buf`, a `size_t` at
/// `lenp`, and the end of the process's mapping.
#[derive(Debug, Clone, Copy, Default)]
struct Mem {
    buf: usize,
    lenp: usize,
    end: usize,
}

struct Worker {
    names: *const Vec<(String, u32)>,
    rng: Rng,
    ops: u32,
    cred: SysctlCred,
    pid: i32,
    mem: Mem,
    securelevel: i32,
    stats: FuzzStats,
}

impl Worker {
    fn poke(&self, addr: usize, data: &[u8]) {
        let pid = self.pid;
        crate::kern::with(|k| {
            if let Some(p) = k.user.procs.get_mut(&pid) {
                p.vm.bytes_mut(addr, data.len()).copy_from_slice(data)
            }
        })
    }

    fn peek_len(&self) -> usize {
        let pid = self.pid;
        crate::kern::with(|k| k.user.procs.get(&pid).map(|p| usize::from_ne_bytes(p.vm.bytes(self.mem.lenp, 8).try_into().expect("8 bytes"))))
            .unwrap_or(0)
    }

    /// A pointer the kernel is given for `len` bytes that are not all there: a few mapped
    /// bytes before the end of the process's memory, an unmapped page, or NULL.
    fn short_ptr(&mut self) -> usize {
        match self.rng.below(4) {
            0 => 0,
            1 => UNMAPPED + self.rng.below(0x1000),
            _ => self.mem.end - 1 - self.rng.below(16),
        }
    }
}

/// One `__sysctl(2)`: its errno, checked to be one.
fn call(w: &mut Worker, name: &str, c: &UserCall) -> i32 {
    let e = ks::sys___sysctl(c);
    // Back to user space: no lock may be held (userret's WITNESS_WARN).
    super::fuzz::userret();
    let tid = sched().current().tid;
    crate::kern::with(|k| k.user.denied.remove(&tid));
    w.stats.requests += 1;
    if e == 0 { w.stats.ok += 1 } else { w.stats.errors += 1 }
    if !(0..=ELAST).contains(&e) {
        w.stats.failures.push(format!("{name}: {c:?} answered {e}, not an errno"));
    }
    e
}

fn run_ops(w: &mut Worker) {
    super::set_td_ucred();
    // SAFETY: the batch owns the name list for the whole call.
    let names = unsafe { &*w.names };
    if names.is_empty() {
        return;
    }
    let m = w.mem;
    for _ in 0..w.ops {
        let (name, kind) = names[w.rng.below(names.len())].clone();
        let base = UserCall { name: name.clone(), old: 0, oldlenp: m.lenp, new: 0, newlen: 0 };
        match w.rng.below(5) {
            0 => {
                // Length query, then a short read.
                w.poke(m.lenp, &0usize.to_ne_bytes());
                if call(w, &name, &base) != 0 {
                    continue;
                }
                let need = w.peek_len();
                let short = w.rng.below(need.min(BUF) + 1);
                w.poke(m.lenp, &short.to_ne_bytes());
                call(w, &name, &UserCall { old: m.buf, ..base });
            }
            1 => {
                let len = WRITE_LENGTHS[w.rng.below(WRITE_LENGTHS.len())];
                let mut v = vec![0u8; len.min(4096)];
                for b in v.iter_mut() {
                    *b = w.rng.next() as u8;
                }
                w.poke(m.buf, &v);
                let e = call(w, &name, &UserCall { oldlenp: 0, new: m.buf, newlen: len, ..base });
                if e == 0 {
                    check_refusal(w, &name, kind, len);
                }
            }
            2 => {
                let len = w.rng.below(64);
                w.poke(m.lenp, &len.to_ne_bytes());
                call(w, &name, &UserCall { old: m.buf, ..base });
            }
            3 => {
                // A huge newlen over a few bytes, an unmapped page or NULL (NULL: no new
                // value at all, whatever newlen says).
                w.stats.huge += 1;
                let newlen = HUGE_LENGTHS[w.rng.below(HUGE_LENGTHS.len())];
                let new = w.short_ptr();
                let avail = m.end.saturating_sub(new);
                if new >= m.buf {
                    let n = avail.min(16);
                    let bytes: Vec<u8> = (0..n).map(|_| w.rng.next() as u8).collect();
                    w.poke(new, &bytes);
                }
                let e = call(w, &name, &UserCall { oldlenp: 0, new, newlen, ..base });
                if e == 0 && new != 0 {
                    check_refusal(w, &name, kind, newlen);
                }
            }
            _ => {
                // A huge *oldlenp over a short, unmapped or NULL old buffer; or an unmapped
                // or NULL oldlenp.
                w.stats.huge += 1;
                let oldlen = HUGE_LENGTHS[w.rng.below(HUGE_LENGTHS.len())];
                let old = w.short_ptr();
                match w.rng.below(6) {
                    0 => {
                        let oldlenp = UNMAPPED + w.rng.below(0x1000);
                        let e = call(w, &name, &UserCall { old, oldlenp, ..base });
                        if e != EFAULT {
                            w.stats.failures.push(format!("{name}: an unmapped oldlenp answered {e}, not EFAULT (userland_sysctl copies it in first)"));
                        }
                    }
                    1 => {
                        call(w, &name, &UserCall { old, oldlenp: 0, ..base });
                    }
                    _ => {
                        w.poke(m.lenp, &oldlen.to_ne_bytes());
                        call(w, &name, &UserCall { old, ..base });
                    }
                }
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
    for i in 1..ws.len() {
        let s = sched();
        let (pa, _) = s.new_proc();
        let pid = ws[i].pid;
        let wp = &mut ws[i] as *mut Worker as usize;
        let t = s.create(fuzz_thread as *const () as usize, wp, format!("sysctl-fuzz{i}"), pa, "sysctl".into(), pid, 4);
        let tid = sched().threads[t].tid;
        crate::kern::with(|k| k.user.thread_proc.insert(tid, pid));
    }
    crate::kern::with(|k| k.user.thread_proc.insert(TID0, ws[0].pid));
    run_ops(&mut ws[0]);
    0
}

/// Fuzz `names` with `n` requests in batches of `procs` concurrent processes, seeded.
pub fn fuzz(k: &mut Kernel, names: &[String], n: u32, seed: u64, procs: usize) -> Result<FuzzStats, crate::Fault> {
    let list: Vec<(String, u32)> = names.iter().filter_map(|nm| k.sysctl_info(nm).ok().map(|i| (nm.clone(), i.kind))).collect();
    let procs = procs.max(1);
    // One process per credential (root, uid 1001, jailed root), each with the memory of
    // every worker slot.
    let kinds = [SysctlCred::ROOT, SysctlCred { uid: 1001, jailed: false }, SysctlCred { uid: 0, jailed: true }];
    let mut pids = Vec::new();
    let mut mems: Vec<Vec<Mem>> = Vec::new();
    for c in kinds {
        let mut u = if c.uid == 0 { Ucred::root() } else { Ucred::user(c.uid, c.uid) };
        u.jailed = c.jailed;
        let pid = k.spawn("sysctl", u);
        let m = crate::kern::with(|kk| {
            let p = kk.user.procs.get_mut(&pid).expect("process");
            let end = p.vm.base + p.vm.len;
            (0..procs).map(|_| Mem { buf: p.vm.alloc(BUF).expect("user memory"), lenp: p.vm.alloc(8).expect("user memory"), end }).collect::<Vec<_>>()
        });
        pids.push(pid);
        mems.push(m);
    }
    let mut total = FuzzStats::default();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let per_batch = 16u32;
    let mut left = n;
    let mut batch = 0u64;
    let mut result = Ok(());
    while left > 0 {
        let ops = left.min(per_batch * procs as u32);
        left -= ops;
        let securelevel = k.securelevel();
        let mut ws: Vec<Worker> = (0..procs)
            .map(|i| {
                // Process 0 is root; a third unprivileged; some jailed root.
                let c = (batch as usize + i) % 3;
                Worker {
                    names: &list,
                    rng: Rng(rng.next() | 1),
                    ops: ops / procs as u32 + u32::from((i as u32) < ops % procs as u32),
                    cred: kinds[c],
                    pid: pids[c],
                    mem: mems[c][i],
                    securelevel,
                    stats: FuzzStats::default(),
                }
            })
            .collect();
        sched().set_main_name("sysctl-fuzz0");
        let p = &mut ws as *mut Vec<Worker> as u64;
        let r = k.exec_call(fuzz_batch as *const () as usize, &[p], None);
        k.st_mut().user.thread_proc.retain(|_, p| !pids.contains(p));
        if let Err(a) = r {
            result = Err(k.fault(a));
            break;
        }
        for w in ws {
            total.requests += w.stats.requests;
            total.ok += w.stats.ok;
            total.errors += w.stats.errors;
            total.huge += w.stats.huge;
            total.failures.extend(w.stats.failures);
        }
        batch += 1;
    }
    if let Err(f) = result {
        return Err(f);
    }
    for pid in pids {
        k.exit_process(pid)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(cred: SysctlCred, securelevel: i32) -> Worker {
        Worker { names: std::ptr::null(), rng: Rng(1), ops: 0, cred, pid: 0, mem: Mem::default(), securelevel, stats: FuzzStats::default() }
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

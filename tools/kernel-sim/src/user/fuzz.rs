//! Fuzzing the devices of loaded modules from concurrent simulated user processes
//! ([`crate::Kernel::fuzz`], `cargo kmod run --fuzz N`).
//!
//! Up to 4 processes, each on a simulated kernel thread of its own (the scheduler
//! interleaves them at every lock, sleep and KPI call when seeded), make random system calls
//! on every device node the modules created:
//!
//! * open (read-only, write-only, read-write; sometimes `O_NONBLOCK`) and close;
//! * `pread`/`pwrite` of 0 to 64 KiB (sometimes up to 4 GiB) at random (also negative and
//!   huge) offsets;
//! * `preadv`/`pwritev` with 2 to 8 iovecs;
//! * ioctl with the commands found in the modules' code (32-bit constants that are
//!   valid `_IO`/`_IOR`/`_IOW`/`_IOWR` encodings) and random ones, with a valid buffer
//!   (random contents), a short one (it ends at the end of the process's memory), NULL,
//!   an unmapped address, and encodings with huge lengths;
//! * poll(2) of 1 to 3 descriptors (open, not open, or -1) for read, write, both or random
//!   (also invalid) events, with a timeout of 0 or up to 20 ms (simulated time; a poller
//!   may sleep until another process's write wakes it), the array valid, NULL or unmapped;
//! * every buffer is valid, NULL, unmapped or partly mapped at random.
//!
//! Processes 2 and 4 are unprivileged (uid 1001, and root in a jail): when `priv_check`
//! refuses them a privilege during a system call that then succeeds, the module ignored
//! the refusal, and the run fails. (A method that only *asks* whether the caller is
//! privileged, to decide what to show, and succeeds either way, is reported too: the
//! fuzzer cannot tell it from an ignored refusal; such a module should be fuzzed with
//! that call answering an error for the unprivileged, or be checked by its own tests.) Faults, panics (WITNESS reports among them) and hangs
//! (deadlocks, the watchdog) end the fuzzing with the failure; leaks are found by the
//! unload that follows. The same seed gives the same operations (and, with a scheduler
//! seed, the same interleaving).

use std::time::Instant;

use super::Ucred;
use super::errno::strerror;
use crate::kern::kern_switch::{TID0, sched};
use crate::kern::sys_generic as sys;
use crate::kern::sys_generic::{IOC_IN, IOC_OUT, IOC_VOID};
use crate::{Fault, Kernel};

/// What [`Kernel::fuzz`] did.
#[derive(Debug, Clone, Default)]
pub struct FuzzReport {
    /// Operations made.
    pub ops: u64,
    /// Operations that returned an error (expected: most random calls fail).
    pub errors: u64,
    /// Device nodes fuzzed.
    pub devices: Vec<String>,
    /// ioctl commands found in the modules' code.
    pub commands: Vec<u32>,
    /// Host time taken, in seconds.
    pub seconds: f64,
    /// The seed.
    pub seed: u64,
    /// Why the fuzzing failed (a module bug), if it did.
    pub failure: Option<String>,
    /// A crash of module code.
    pub fault: Option<Box<Fault>>,
}

impl FuzzReport {
    /// Operations per second (host time).
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.seconds.max(1e-9)
    }
}

/// Processes and their credentials: two root, one uid 1001, one jailed root.
fn creds() -> [Ucred; 4] {
    [Ucred::root(), Ucred::user(1001, 1001), Ucred::root(), Ucred { jailed: true, ..Ucred::root() }]
}

struct Worker {
    pid: i32,
    rng: u64,
    todo: u64,
    done: u64,
    errors: u64,
    devices: Vec<String>,
    commands: Vec<u32>,
    privileged: bool,
    who: String,
    buf: usize,
    vm_end: usize,
    failure: Option<String>,
    finished: bool,
    wait_chan: usize,
}

const BUF: usize = 128 << 10;

impl Worker {
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// A user address for `len` bytes: valid, NULL, unmapped or partly mapped.
    fn addr(&mut self, len: usize) -> usize {
        match self.below(8) {
            0 => 0,
            1 => 0x1000 + self.below(0x1000) as usize,
            2 => self.vm_end - (len / 2).max(1),
            _ => self.buf + self.below((BUF - len.min(BUF)) as u64 + 1) as usize,
        }
    }

    fn fd(&mut self) -> i32 {
        let fds: Vec<i32> = crate::kern::with(|k| {
            k.user.procs.get(&self.pid).map(|p| p.fds.iter().enumerate().filter(|(_, f)| f.is_some()).map(|(i, _)| i as i32).collect())
        })
        .unwrap_or_default();
        if fds.is_empty() || self.below(16) == 0 {
            // A descriptor that is not open: EBADF.
            return 40 + self.below(4) as i32;
        }
        fds[self.below(fds.len() as u64) as usize]
    }

    fn op(&mut self) -> (String, Result<(), i32>) {
        let nopen = crate::kern::with(|k| k.user.procs.get(&self.pid).map(|p| p.fds.iter().flatten().count())).unwrap_or(0);
        let choice = if nopen == 0 { 0 } else { self.below(16) };
        match choice {
            0 | 1 => {
                let i = self.below(self.devices.len() as u64) as usize;
                let dev = self.devices[i].clone();
                let mut fl = self.below(3) as i32;
                if self.below(2) == 0 {
                    fl |= crate::kern::devfs_vnops::O_NONBLOCK;
                }
                (format!("open(/dev/{dev}, {fl:#x})"), sys::sys_open(&format!("/dev/{dev}"), fl).map(|_| ()))
            }
            2 if nopen > 2 || self.below(4) == 0 => {
                let fd = self.fd();
                (format!("close({fd})"), sys::sys_close(fd))
            }
            3..=6 => {
                let fd = self.fd();
                let len = match self.below(16) {
                    0 | 1 => 0,
                    // Huge: up to and beyond DEVFS_IOSIZE_MAX (INT_MAX).
                    2 => self.below(1 << 32) as usize,
                    _ => self.below(64 << 10) as usize + 1,
                };
                let a = self.addr(len);
                let off = match self.below(8) {
                    0 => -(self.below(1 << 20) as i64),
                    1 => i64::MAX - self.below(1 << 16) as i64,
                    _ => self.below(8192) as i64,
                };
                let write = self.below(2) == 0;
                if write && a >= self.buf && a < self.buf + BUF {
                    let r = self.next();
                    crate::kern::with(|k| {
                        if let Some(p) = k.user.procs.get_mut(&self.pid) {
                            let s = p.vm.bytes_mut(a, len.min(64));
                            for (i, b) in s.iter_mut().enumerate() {
                                *b = (r >> ((i % 8) * 8)) as u8;
                            }
                        }
                    });
                }
                let name = format!("{}(fd {fd}, {a:#x}, {len}, offset {off})", if write { "pwrite" } else { "pread" });
                (name, sys::sys_rw(fd, &[(a, len)], Some(off), write).map(|_| ()))
            }
            7 | 8 => {
                let fd = self.fd();
                let n = 2 + self.below(7) as usize;
                let iovs: Vec<(usize, usize)> = (0..n)
                    .map(|_| {
                        let l = self.below(8 << 10) as usize;
                        (self.addr(l), l)
                    })
                    .collect();
                let write = self.below(2) == 0;
                let off = self.below(4096) as i64;
                let name = format!("{}(fd {fd}, {n} iovecs, offset {off})", if write { "pwritev" } else { "preadv" });
                (name, sys::sys_rw(fd, &iovs, Some(off), write).map(|_| ()))
            }
            9 => {
                use crate::kern::sys_generic::pollbits::*;
                let n = 1 + self.below(3) as usize;
                let a = self.addr(n * sys::POLLFD_SIZE);
                let mut desc = Vec::new();
                let mut raw = Vec::new();
                for _ in 0..n {
                    let fd = if self.below(8) == 0 { -1 } else { self.fd() };
                    let events = match self.below(6) {
                        0 | 1 => POLLIN | POLLRDNORM,
                        2 => POLLOUT | POLLWRNORM,
                        3 => POLLIN | POLLOUT,
                        4 => POLLPRI | POLLRDBAND | POLLWRBAND,
                        _ => self.next() as u16 as i32,
                    } as i16;
                    desc.push(format!("{fd}:{events:#x}"));
                    raw.extend_from_slice(&fd.to_ne_bytes());
                    raw.extend_from_slice(&events.to_ne_bytes());
                    raw.extend_from_slice(&0i16.to_ne_bytes());
                }
                if a >= self.buf && a + raw.len() <= self.buf + BUF {
                    crate::kern::with(|k| {
                        if let Some(p) = k.user.procs.get_mut(&self.pid) {
                            p.vm.bytes_mut(a, raw.len()).copy_from_slice(&raw);
                        }
                    });
                }
                let timeout = if self.below(2) == 0 { 0 } else { 1 + self.below(20) as i32 };
                (format!("poll({a:#x} [{}], {n}, {timeout})", desc.join(" ")), sys::sys_poll(a, n as u32, timeout).map(|_| ()))
            }
            _ => {
                let fd = self.fd();
                let cmd: u32 = match self.below(4) {
                    0 | 1 if !self.commands.is_empty() => {
                        let i = self.below(self.commands.len() as u64) as usize;
                        self.commands[i]
                    }
                    2 => {
                        // A huge or odd length with a random direction.
                        let dir = [IOC_VOID, IOC_IN, IOC_OUT, IOC_IN | IOC_OUT][self.below(4) as usize];
                        dir | ((self.below(0x2000) as u32 + 0x1000) << 16) | (self.next() as u32 & 0xffff)
                    }
                    _ => self.next() as u32,
                };
                let len = sys::iocparm_len(cmd) as usize;
                let data = if cmd & IOC_VOID != 0 && len == 0 {
                    self.next() as usize & 0xffff_ffff
                } else {
                    let a = self.addr(len);
                    if a >= self.buf && a + len <= self.buf + BUF {
                        let r = self.next();
                        crate::kern::with(|k| {
                            if let Some(p) = k.user.procs.get_mut(&self.pid) {
                                for (i, b) in p.vm.bytes_mut(a, len).iter_mut().enumerate() {
                                    // Small values (valid sizes, indexes) more often than not.
                                    *b = if i % 4 == 0 { (r >> (i % 64)) as u8 & 0x7f } else { 0 };
                                }
                            }
                        });
                    }
                    a
                };
                (format!("ioctl(fd {fd}, {cmd:#010x}, {data:#x})"), sys::sys_ioctl(fd, cmd as u64, data))
            }
        }
    }

    fn run(&mut self) {
        super::set_td_ucred();
        let tid = sched().current().tid;
        while self.todo > 0 && self.failure.is_none() {
            self.todo -= 1;
            crate::kern::with(|k| k.user.denied.remove(&tid));
            let (name, r) = self.op();
            userret();
            self.done += 1;
            if r.is_err() {
                self.errors += 1;
            }
            let denied = crate::kern::with(|k| k.user.denied.remove(&tid)).unwrap_or_default();
            if r.is_ok() && !denied.is_empty() && !self.privileged {
                self.failure = Some(format!(
                    "{}: priv_check refused privilege {} (EPERM) during {name}, which then succeeded: the module ignored the refusal",
                    self.who, denied[0]
                ));
            }
        }
    }
}

/// `userret()`'s `WITNESS_WARN(WARN_PANIC, NULL, "userret: returning")` for the running
/// process thread: back to user space, no lock may be held.
pub(crate) fn userret() {
    let t = sched().current();
    if t.held.is_empty() {
        return;
    }
    let mut msg = String::from("userret: returning with the following locks held:\n");
    for h in t.held.iter().rev() {
        msg.push_str(&crate::kern::subr_witness::list_lock(h));
    }
    msg.push_str("witness_warn\n");
    let caller = t.held.last().map(|h| h.caller).unwrap_or(0);
    crate::kern::panic::kernel_panic(msg, caller);
}

extern "C" fn worker_entry(arg: usize) {
    // SAFETY: `arg` is the Worker that Kernel::fuzz keeps alive until the gate call returns.
    let w = unsafe { &mut *(arg as *mut Worker) };
    w.run();
    w.finished = true;
    sched().wake_chan(w.wait_chan, false, false);
}

extern "C" fn spawn_workers(arg: u64) -> u64 {
    // SAFETY: `arg` points to the Vec<Box<Worker>> of Kernel::fuzz (alive for the call).
    let ws = unsafe { &mut *(arg as *mut Vec<Box<Worker>>) };
    for w in ws.iter_mut() {
        w.finished = w.todo == 0;
        w.wait_chan = arg as usize;
        if w.todo == 0 {
            continue;
        }
        let s = sched();
        let (proc_addr, _) = s.new_proc();
        let i = s.create(worker_entry as *const () as usize, &mut **w as *mut Worker as usize, format!("fuzz{}", w.pid), proc_addr, "fuzz".into(), w.pid, 8);
        let tid = sched().threads[i].tid;
        crate::kern::with(|k| k.user.thread_proc.insert(tid, w.pid));
    }
    // Thread 0 waits for the batch (a worker may sleep in a d_* method; when every thread
    // waits with no timeout pending, the scheduler reports the deadlock).
    // SAFETY: as above; the workers only touch their own Worker.
    while !unsafe { &*(arg as *const Vec<Box<Worker>>) }.iter().all(|w| w.finished) {
        crate::kern::kern_switch::block(crate::kern::kern_switch::Wait {
            chan: arg as usize,
            wmesg: "fuzzwait".into(),
            deadline: None,
            caller: 0,
            on_lock: false,
            seq: 0,
            pri: 0,
        });
    }
    0
}

fn plausible_ioctl(v: u32) -> bool {
    let len = sys::iocparm_len(v);
    let group = (v >> 8) & 0xff;
    let ok_dir = match v & 0xe000_0000 {
        IOC_VOID => len == 0 || len == 4,
        IOC_IN | IOC_OUT => len > 0 && len <= 4096,
        d if d == IOC_IN | IOC_OUT => len > 0 && len <= 4096,
        _ => false,
    };
    ok_dir && (group as u8).is_ascii_alphabetic()
}

/// ioctl command encodings among the 32-bit constants of `bytes`: in code (`exec`), the
/// immediates of `cmp eax, imm32` (`3d`), `cmp r/m32, imm32` (`81 /7`), `mov r32, imm32`
/// (`b8+r`), `sub`/`add` (`2d`, `05`, `81 /5`, `81 /0`) and `lea r, [r + disp32]` (`8d` with
/// a disp32 ModRM), as compilers emit for a `switch`/`match` on the command (for `add` and
/// `lea` the negated value too: `cmd - C` is `cmd + (-C)`); in data, aligned words (command
/// tables).
pub fn find_ioctl_commands(bytes: &[u8], exec: bool) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let push = |v: u32, out: &mut Vec<u32>| {
        if plausible_ioctl(v) && !out.contains(&v) && out.len() < 256 {
            out.push(v);
        }
    };
    let mut i = 1;
    while i + 4 <= bytes.len() {
        let v = u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        if exec {
            let p = bytes[i - 1];
            let pp = if i >= 2 { bytes[i - 2] } else { 0 };
            let cmp_mov_sub = p == 0x3d || p == 0x2d || (0xb8..=0xbf).contains(&p) || (pp == 0x81 && ((0xf8..=0xff).contains(&p) || (0xe8..=0xef).contains(&p)));
            let add_lea = p == 0x05 || (pp == 0x81 && (0xc0..=0xc7).contains(&p)) || (pp == 0x8d && (0x80..=0xbf).contains(&p) && p & 7 != 4);
            if cmp_mov_sub {
                push(v, &mut out);
            }
            if add_lea {
                push(v, &mut out);
                push(v.wrapping_neg(), &mut out);
            }
        } else if i % 4 == 0 {
            push(v, &mut out);
        }
        i += 1;
    }
    out
}

impl Kernel {
    /// ioctl commands found in the loaded modules' sections.
    pub fn ioctl_commands(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for f in &self.files {
            for s in &f.image.sections {
                if s.size == 0 || !f.image.contains(s.addr, s.size) {
                    continue;
                }
                // SAFETY: a loaded section of the image (every page is readable).
                let b = unsafe { std::slice::from_raw_parts(s.addr as *const u8, s.size) };
                // SHF_EXECINSTR
                for c in find_ioctl_commands(b, s.flags & 0x4 != 0) {
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// Make `ops` random system calls on every device node from `procs` (1 to 4)
    /// concurrent processes, seeded with `seed` (see the module documentation).
    pub fn fuzz(&mut self, ops: u64, procs: usize, seed: u64) -> FuzzReport {
        let started = Instant::now();
        let mut rep = FuzzReport { seed, devices: self.devices(), commands: self.ioctl_commands(), ..Default::default() };
        if rep.devices.is_empty() || ops == 0 {
            return rep;
        }
        let procs = procs.clamp(1, 4);
        let mut ws: Vec<Box<Worker>> = Vec::new();
        for (i, cred) in creds().into_iter().take(procs).enumerate() {
            let privileged = cred.uid == 0 && !cred.jailed;
            let who = if privileged { format!("process {} (root)", i + 1) } else if cred.jailed { format!("process {} (jailed root)", i + 1) } else { format!("process {} (uid {}:{})", i + 1, cred.uid, cred.gid) };
            let pid = self.spawn("fuzz", cred);
            let (buf, vm_end) = crate::kern::with(|k| {
                let p = k.user.procs.get_mut(&pid).expect("process");
                (p.vm.alloc(BUF).expect("user memory"), p.vm.base + p.vm.len)
            });
            let share = ops / procs as u64 + u64::from((i as u64) < ops % procs as u64);
            ws.push(Box::new(Worker {
                pid,
                rng: seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ (i as u64 + 1),
                todo: share,
                done: 0,
                errors: 0,
                devices: rep.devices.clone(),
                commands: rep.commands.clone(),
                privileged,
                who,
                buf,
                vm_end,
                failure: None,
                finished: true,
                wait_chan: 0,
            }));
        }
        // Batches keep each gate call well inside the watchdog.
        const BATCH: u64 = 256;
        let total: Vec<u64> = ws.iter().map(|w| w.todo).collect();
        let mut left = total.clone();
        while left.iter().any(|&l| l > 0) && rep.fault.is_none() && ws.iter().all(|w| w.failure.is_none()) {
            for (w, l) in ws.iter_mut().zip(left.iter_mut()) {
                let n = (*l).min(BATCH);
                w.todo = n;
                *l -= n;
            }
            crate::kern::kern_switch::sched().set_main_name("fuzz");
            let p = &mut ws as *mut Vec<Box<Worker>> as u64;
            let r = self.exec_call(spawn_workers as *const () as usize, &[p], None);
            self.st_mut().user.thread_proc.retain(|&t, _| t == TID0);
            if let Err(a) = r {
                rep.fault = Some(Box::new(self.fault(a)));
            }
        }
        for w in &ws {
            rep.ops += w.done;
            rep.errors += w.errors;
            if rep.failure.is_none() {
                rep.failure.clone_from(&w.failure);
            }
        }
        if rep.fault.is_none() {
            for w in &ws {
                if let Err(f) = self.exit_process(w.pid) {
                    rep.fault = Some(Box::new(f));
                    break;
                }
            }
        }
        rep.seconds = started.elapsed().as_secs_f64();
        let _ = strerror;
        rep
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_ioctl_encodings() {
        // cmp eax, imm32; mov esi, imm32; cmp rdi, imm32; a constant that is no immediate.
        let mut b = vec![0x90u8, 0x3d];
        b.extend_from_slice(&0x4004_4601u32.to_le_bytes());
        b.push(0xbe);
        b.extend_from_slice(&0x2000_4602u32.to_le_bytes());
        b.extend_from_slice(&[0x48, 0x81, 0xff]);
        b.extend_from_slice(&0x8004_4603u32.to_le_bytes());
        b.extend_from_slice(&[0x90, 0x90]);
        b.extend_from_slice(&0x4004_4604u32.to_le_bytes());
        let c = super::find_ioctl_commands(&b, true);
        assert_eq!(c, vec![0x4004_4601, 0x2000_4602, 0x8004_4603]);
        let mut d = vec![0u8; 4];
        d.extend_from_slice(&0xc010_4605u32.to_le_bytes());
        assert_eq!(super::find_ioctl_commands(&d, false), vec![0xc010_4605]);
    }
}

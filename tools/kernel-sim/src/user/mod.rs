//! Simulated user processes: the programs that talk to a module's devices (`--exec`
//! commands, fuzzers).
//!
//! * Every process ([`Proc`]) has a credential ([`Ucred`], the fields of `struct ucred` in
//!   `sys/sys/ucred.h` that the kernel's checks read: effective uid, real uid, gid, groups,
//!   whether it is in a jail), a user address space ([`UserVm`]: one mapped region; a user
//!   pointer outside it makes `copyin`/`copyout`/`uiomove` return `EFAULT`, never crash the
//!   tool) and a file descriptor table.
//! * A process runs on a simulated kernel thread: each system call it makes (open, read,
//!   write, ioctl, close, ...: `kern/sys_generic.rs`, `kern/devfs_vnops.rs`) runs on thread 0
//!   through the gate ([`crate::Kernel::syscall`]) for commands, or on a simulated thread of
//!   its own for the concurrent fuzzer processes; the scheduler maps the thread to its
//!   process ([`UserState::thread_proc`]), so `curthread`'s credential is the process's.
//! * [`shell`]: `sh -c`-like command lines (`echo TEXT > PATH`, `cat PATH`, `dd ...`,
//!   `sleep N`, and what other files register in [`commands::COMMANDS`]).

pub mod commands;
pub mod errno;
pub mod fuzz;
pub mod shell;
pub mod sysctl;
pub mod sysctl_fuzz;

use std::collections::HashMap;
use std::rc::Rc;

use crate::kern::devfs_vnops::File;

/// The credential of a simulated process: what `struct ucred` (`sys/sys/ucred.h`) holds
/// for the checks of `kern_priv.c`, `vfs_subr.c` `vaccess()` and `kern_sysctl.c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ucred {
    /// `cr_uid`: effective user id.
    pub uid: u32,
    /// `cr_ruid`: real user id.
    pub ruid: u32,
    /// Effective group id (`cr_groups[0]` before 15.0, `cr_gid` on 15.0).
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// `cr_prison != &prison0`: the process is in a jail (`jailed(cred)`).
    pub jailed: bool,
}

impl Default for Ucred {
    fn default() -> Self {
        Ucred::root()
    }
}

impl Ucred {
    /// root:wheel, not jailed: the credential of `kldload` and of commands by default.
    pub fn root() -> Ucred {
        Ucred { uid: 0, ruid: 0, gid: 0, groups: vec![0], jailed: false }
    }

    /// An unprivileged user `uid:gid`.
    pub fn user(uid: u32, gid: u32) -> Ucred {
        Ucred { uid, ruid: uid, gid, groups: vec![gid], jailed: false }
    }

    /// `groupmember(gid, cred)` (`sys/kern/kern_prot.c`): the effective or a supplementary
    /// group.
    pub fn groupmember(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// Parse `UID[:GID]` (`--exec-as`); the group defaults to the uid's (`1001` is
    /// `1001:1001`, `0` is root:wheel). `jail:` in front makes the process jailed.
    pub fn parse(s: &str) -> Result<Ucred, String> {
        let (jailed, rest) = match s.strip_prefix("jail:") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (u, g) = match rest.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (rest, None),
        };
        let uid: u32 = u.parse().map_err(|_| format!("--exec-as {s:?}: expected UID[:GID] (numbers, e.g. 1001 or 1001:1001), or jail:UID[:GID]"))?;
        let gid: u32 = match g {
            Some(g) => g.parse().map_err(|_| format!("--exec-as {s:?}: the group {g:?} is not a number"))?,
            None => uid,
        };
        let mut c = Ucred::user(uid, gid);
        c.jailed = jailed;
        Ok(c)
    }
}

/// The user address space of a process: one mapped, readable and writable region. Addresses
/// outside it are unmapped for this process (`copyin`/`copyout` return `EFAULT`).
#[derive(Debug)]
pub struct UserVm {
    /// First address.
    pub base: usize,
    /// Length in bytes.
    pub len: usize,
    brk: usize,
}

/// Size of a process's user region (reserved lazily by the host: `MAP_NORESERVE`).
pub const USER_VM_SIZE: usize = 64 << 20;

impl UserVm {
    /// Map a fresh region of `len` bytes.
    pub fn new(len: usize) -> UserVm {
        // SAFETY: anonymous private mapping; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        assert!(p != libc::MAP_FAILED, "kernel-sim: cannot map {len} bytes of user memory");
        UserVm { base: p as usize, len, brk: 0 }
    }

    /// Whether `[addr, addr + len)` lies inside the region (`len == 0`: always, like
    /// amd64 `copyin` of nothing).
    pub fn contains(&self, addr: usize, len: usize) -> bool {
        if len == 0 {
            return true;
        }
        match addr.checked_add(len) {
            Some(end) => addr >= self.base && end <= self.base + self.len,
            None => false,
        }
    }

    /// Allocate `n` bytes (16-byte aligned) of user memory, like `malloc(3)` in the process.
    /// `None` when the region is full.
    pub fn alloc(&mut self, n: usize) -> Option<usize> {
        let start = (self.brk + 15) & !15;
        let end = start.checked_add(n)?;
        if end > self.len {
            return None;
        }
        self.brk = end;
        Some(self.base + start)
    }

    /// Free everything allocated (between commands).
    pub fn reset(&mut self) {
        self.brk = 0;
    }

    /// Host view of user bytes (the process reading its own memory).
    ///
    /// # Panics
    /// When the range is outside the region.
    pub fn bytes(&self, addr: usize, len: usize) -> &[u8] {
        assert!(self.contains(addr, len), "user range outside the process's memory");
        if len == 0 {
            return &[];
        }
        // SAFETY: inside the mapping owned by this UserVm.
        unsafe { std::slice::from_raw_parts(addr as *const u8, len) }
    }

    /// Host view of user bytes, writable (the process writing its own memory).
    ///
    /// # Panics
    /// When the range is outside the region.
    pub fn bytes_mut(&mut self, addr: usize, len: usize) -> &mut [u8] {
        assert!(self.contains(addr, len), "user range outside the process's memory");
        if len == 0 {
            return &mut [];
        }
        // SAFETY: inside the mapping owned by this UserVm, borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, len) }
    }
}

impl Drop for UserVm {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new().
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

/// A simulated user process.
#[derive(Debug)]
pub struct Proc {
    /// Process id.
    pub pid: i32,
    /// `p_comm`.
    pub comm: String,
    /// Its credential (`p_ucred`, `td_ucred`).
    pub cred: Ucred,
    /// Its user memory.
    pub vm: UserVm,
    /// File descriptor table (`struct filedesc`).
    pub fds: Vec<Option<Rc<File>>>,
}

/// The user-process side of the simulated kernel (kept in [`crate::kern::KState`]).
#[derive(Debug, Default)]
pub struct UserState {
    /// Processes by pid.
    pub procs: HashMap<i32, Proc>,
    /// Which process each simulated thread belongs to (by tid).
    pub thread_proc: HashMap<u32, i32>,
    /// `td_fpop` of each thread (by tid): the file whose d_* method runs, for
    /// `devfs_set_cdevpriv`/`devfs_get_cdevpriv`.
    pub fpop: HashMap<u32, Rc<File>>,
    /// Fake `struct ucred`s handed to module code (`td_ucred`).
    pub creds: FakeUcreds,
    /// Privileges `priv_check` refused to each thread (by tid) since the fuzzer last
    /// looked.
    pub denied: HashMap<u32, Vec<i32>>,
    next_pid: i32,
}

impl UserState {
    /// A new process.
    pub fn spawn(&mut self, comm: &str, cred: Ucred) -> i32 {
        self.next_pid += 1;
        let pid = 100 + self.next_pid;
        self.procs.insert(pid, Proc { pid, comm: comm.into(), cred, vm: UserVm::new(USER_VM_SIZE), fds: Vec::new() });
        pid
    }
}

/// The process of the running simulated thread, if it is a user process's.
pub fn curproc_pid() -> Option<i32> {
    let tid = crate::kern::kern_switch::try_sched()?.current().tid;
    crate::kern::with(|k| k.user.thread_proc.get(&tid).copied())
}

/// The credential of the running thread: its process's, or root (kernel threads run with
/// `proc0`'s credential, which is root's).
pub fn curcred() -> Ucred {
    match curproc_pid() {
        Some(pid) => crate::kern::with(|k| k.user.procs.get(&pid).map(|p| p.cred.clone()).unwrap_or_default()),
        None => Ucred::root(),
    }
}

/// Whether `[addr, addr + len)` is mapped user memory of the running thread's process
/// (kernel threads have no user memory: proc0's vmspace maps none).
pub fn user_range_ok(addr: usize, len: usize) -> bool {
    let Some(pid) = curproc_pid() else { return false };
    crate::kern::with(|k| k.user.procs.get(&pid).is_some_and(|p| p.vm.contains(addr, len)))
}

/// Offsets of `td_ucred` in `struct thread` and of the fields of `struct ucred` the
/// simulator fills, from an `offsetof` probe against the 14.2 and 15.0 headers (none for
/// 13.x: no headers; there `td_ucred` stays NULL and modules must use `priv_check(td)`).
#[derive(Debug, Clone, Copy)]
struct UcredLayout {
    td_ucred: usize,
    cr_uid: usize,
    cr_ruid: usize,
    cr_svuid: usize,
    cr_ngroups: usize,
    cr_rgid: usize,
    cr_svgid: usize,
    cr_groups: usize,
}

impl UcredLayout {
    fn of(freebsd_version: u32) -> Option<UcredLayout> {
        match freebsd_version / 100_000 {
            14 => Some(UcredLayout { td_ucred: 384, cr_uid: 96, cr_ruid: 100, cr_svuid: 104, cr_ngroups: 108, cr_rgid: 112, cr_svgid: 116, cr_groups: 176 }),
            15 => Some(UcredLayout { td_ucred: 392, cr_uid: 100, cr_ruid: 104, cr_svuid: 108, cr_ngroups: 96, cr_rgid: 116, cr_svgid: 120, cr_groups: 184 }),
            _ => None,
        }
    }
}

/// The fake `struct ucred` of each process (by pid): 512 zeroed bytes + its groups array.
#[derive(Debug, Default)]
pub struct FakeUcreds {
    map: HashMap<i32, FakeUcred>,
}

/// A fake `struct ucred` (512 bytes) and its groups array.
type FakeUcred = (Box<[u64]>, Box<[u32]>);

impl FakeUcreds {
    /// Drop the fake credential of an exited process.
    pub fn forget(&mut self, pid: i32) {
        self.map.remove(&pid);
    }
}

/// Point the running thread's `td_ucred` at a fake `struct ucred` of its process's
/// credential (14.x/15.0), so that C code reading `td->td_ucred->cr_uid` sees it.
pub fn set_td_ucred() {
    let Some(s) = crate::kern::kern_switch::try_sched() else { return };
    let td = s.curthread();
    let tid = s.current().tid;
    let Some(pid) = crate::kern::with(|k| k.user.thread_proc.get(&tid).copied()) else { return };
    let Some(l) = crate::kern::with(|k| UcredLayout::of(k.release.freebsd_version)) else { return };
    let addr = crate::kern::with(|k| {
        let cred = k.user.procs.get(&pid)?.cred.clone();
        let e = k.user.creds.map.entry(pid).or_insert_with(|| {
            let mut groups = vec![cred.gid];
            groups.extend(cred.groups.iter().copied().filter(|g| *g != cred.gid));
            (vec![0u64; 64].into_boxed_slice(), groups.into_boxed_slice())
        });
        let base = e.0.as_mut_ptr() as usize;
        let groups = e.1.as_ptr() as usize;
        // SAFETY: offsets inside the 512-byte fake ucred (all below 200).
        unsafe {
            ((base + l.cr_uid) as *mut u32).write(cred.uid);
            ((base + l.cr_ruid) as *mut u32).write(cred.ruid);
            ((base + l.cr_svuid) as *mut u32).write(cred.uid);
            ((base + l.cr_ngroups) as *mut i32).write(e.1.len() as i32);
            ((base + l.cr_rgid) as *mut u32).write(cred.gid);
            ((base + l.cr_svgid) as *mut u32).write(cred.gid);
            ((base + l.cr_groups) as *mut usize).write(groups);
        }
        Some(base)
    });
    if let Some(a) = addr {
        // SAFETY: td is the running thread's fake struct thread (8 KiB, larger than
        // struct thread); td_ucred is a pointer field.
        unsafe { ((td + l.td_ucred) as *mut usize).write(a) };
    }
}

/// The credential whose fake `struct ucred` is at `addr` (root for any other pointer:
/// the kernel's own credentials).
pub fn cred_at(addr: usize) -> Ucred {
    crate::kern::with(|k| {
        let pid = k.user.creds.map.iter().find(|(_, (m, _))| m.as_ptr() as usize == addr).map(|(p, _)| *p)?;
        k.user.procs.get(&pid).map(|p| p.cred.clone())
    })
    .unwrap_or_default()
}

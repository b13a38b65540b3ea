//! Privileges (`sys/kern/kern_priv.c`, `sys/sys/priv.h`, `prison_priv_check()` of
//! `sys/kern/kern_jail.c`).
//!
//! `priv_check(td, priv)` is `priv_check_cred(td->td_ucred, priv)`. `priv_check_cred`:
//! a privilege outside `PRIV_VALID` (`_PRIV_LOWEST` < priv < `_PRIV_HIGHEST`) is a KASSERT
//! panic (`priv_check_cred: invalid privilege %d`); a jailed credential is refused (`EPERM`)
//! every privilege that `prison_priv_check` does not list, which is all of them here except
//! the `PRIV_VFS_*` DAC overrides (so jailed root gets `EPERM` for `PRIV_DRIVER` and
//! `PRIV_IO`); then the superuser policy grants it when `cr_uid == 0` (`cr_ruid == 0` for
//! `PRIV_MAXFILES`, `PRIV_MAXPROC`, `PRIV_PROC_LIMIT`); `PRIV_KMEM_READ` is granted to
//! everybody; everything else is `EPERM`.
//!
//! The credential of a thread is its user process's ([`crate::user::Ucred`]); kernel
//! threads and `kldload` run as root.

use super::kern_switch::sched;
use super::panic::kernel_panic;
use super::subr_witness::{self as witness, sym};
use crate::ksyms::KsymDef;
use crate::user::Ucred;
use crate::user::errno::EPERM;

/// `PRIV_IO`.
pub const PRIV_IO: i32 = 12;
/// `PRIV_DRIVER`.
pub const PRIV_DRIVER: i32 = 14;
/// `PRIV_MAXFILES`.
pub const PRIV_MAXFILES: i32 = 3;
/// `PRIV_MAXPROC`.
pub const PRIV_MAXPROC: i32 = 4;
/// `PRIV_PROC_LIMIT`.
pub const PRIV_PROC_LIMIT: i32 = 160;
/// `PRIV_KMEM_READ`.
pub const PRIV_KMEM_READ: i32 = 680;
/// `PRIV_VFS_READ`.
pub const PRIV_VFS_READ: i32 = 310;
/// `PRIV_VFS_WRITE`.
pub const PRIV_VFS_WRITE: i32 = 311;
/// `_PRIV_LOWEST`, `_PRIV_HIGHEST`.
pub const PRIV_LOWEST: i32 = 1;
/// `_PRIV_HIGHEST`.
pub const PRIV_HIGHEST: i32 = 703;

/// `priv_check_cred` on a credential: 0 or `EPERM`.
pub fn priv_check_ucred(cred: &Ucred, priv_: i32) -> i32 {
    // prison_priv_check(): jails keep only the privileges it lists.
    // PRIV_SYSCTL_WRITEJAIL (242): `case PRIV_SYSCTL_WRITEJAIL: return (0);` (sysctls with
    // CTLFLAG_PRISON, kern_sysctl.c sysctl_root).
    if cred.jailed && !(310..=320).contains(&priv_) && priv_ != 242 {
        return EPERM;
    }
    let ok = match priv_ {
        PRIV_MAXFILES | PRIV_MAXPROC | PRIV_PROC_LIMIT => cred.ruid == 0,
        _ => cred.uid == 0,
    };
    if ok || priv_ == PRIV_KMEM_READ { 0 } else { EPERM }
}

fn check_valid(priv_: i32, caller: usize) {
    if !(priv_ > PRIV_LOWEST && priv_ < PRIV_HIGHEST) {
        kernel_panic(format!("priv_check_cred: invalid privilege {priv_}\n  offending call at {}\n", sym(caller)), caller);
    }
}

/// The credential of the thread whose `struct thread` is at `td`.
pub fn cred_of_td(td: usize) -> Ucred {
    let s = sched();
    let tid = s.by_td(td).map(|i| s.threads[i].tid);
    let Some(tid) = tid else { return Ucred::root() };
    super::with(|k| {
        let pid = k.user.thread_proc.get(&tid)?;
        k.user.procs.get(pid).map(|p| p.cred.clone())
    })
    .unwrap_or_default()
}

/// Record a refusal for the running thread (the fuzzer checks that the system call that
/// asked then fails).
fn note(e: i32, priv_: i32) -> i32 {
    if e != 0
        && let Some(s) = super::kern_switch::try_sched()
    {
        let tid = s.current().tid;
        super::with(|k| k.user.denied.entry(tid).or_default().push(priv_));
    }
    e
}

extern "C" fn k_priv_check(td: usize, priv_: i32) -> i32 {
    let caller = witness::caller();
    check_valid(priv_, caller);
    note(priv_check_ucred(&cred_of_td(td), priv_), priv_)
}

extern "C" fn k_priv_check_cred(cred: usize, priv_: i32) -> i32 {
    let caller = witness::caller();
    check_valid(priv_, caller);
    note(priv_check_ucred(&crate::user::cred_at(cred), priv_), priv_)
}

witness::caller_shim!(sim_priv_check, k_priv_check);
witness::caller_shim!(sim_priv_check_cred, k_priv_check_cred);

/// Register priv_check, priv_check_cred.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::function("priv_check", sim_priv_check as *const () as usize));
    v.push(KsymDef::function("priv_check_cred", sim_priv_check_cred as *const () as usize));
}

//! The sysctl MIB (`sys/kern/kern_sysctl.c`, `sys/sys/sysctl.h`).
//!
//! The tree lives in the modules' and the simulator's `struct sysctl_oid`s with the layout of
//! the simulated release ([`OidLayout`]: 96 bytes with an `SLIST_ENTRY` link on 13.x, 112
//! bytes with an `RB_ENTRY` link from 1400071 on); the simulator keeps each children list
//! sorted by number on the host side and writes the links into the structs (an `SLIST` on
//! 13.x; on 14.x/15.x a right-leaning chain, a valid ordered tree for `RB_FOREACH`/`RB_FIND`
//! readers). What follows `kern_sysctl.c`:
//!
//! * Static roots (`sysctl__children`, `sysctl___debug`, `sysctl___kern`, `sysctl___hw`, ...)
//!   are kernel data symbols with the numbers of kern_mib.c (`CTL_KERN` 1 ... `CTL_USER` 8;
//!   `dev`, `security`, `compat`, `regression` are `OID_AUTO`).
//! * `sysctl_register_oid`: a sibling of the same name that is a node gets `oid_refcnt++`
//!   and the new oid is not inserted; a leaf of that name gives `can't re-use a leaf`.
//!   `OID_AUTO` (any negative number) takes the next value of a static counter that starts at
//!   0x7fffffff and counts down ("By decrementing the next OID number we spend less time
//!   inserting"), wrapping to `CTL_AUTO_START` (0x100) on collisions. Leaves with
//!   `CTLFLAG_TUN` and without `CTLFLAG_NOFETCH` get `NOFETCH` and their tunable is fetched
//!   (`sysctl_load_tunable_by_oid_locked`: the dotted path looked up in the kernel
//!   environment and written through the handler with a kernel request; a failure prints
//!   `Setting sysctl %s failed: %d`).
//! * `linker_file_register_sysctls(lf, false)` registers a module's `set_sysctl_set` dormant
//!   (`CTLFLAG_DORMANT` leaves are invisible) before its SYSINITs, `linker_file_enable_sysctls`
//!   enables them after; `linker_file_unregister_sysctls` removes them after `MOD_UNLOAD`,
//!   before the SYSUNINITs (kern_linker.c `linker_load_file` / `linker_file_unload`).
//! * `sysctl_add_oid` (existing node of that name: `oid_refcnt++`; existing leaf: `can't
//!   re-use a leaf` and NULL), `sysctl_ctx_init`/`sysctl_ctx_free` (dry run, re-register,
//!   `EBUSY`), `sysctl_remove_oid(oid, del, recurse)`, `sysctl_remove_name`: removal of a
//!   leaf whose handler runs marks it `CTLFLAG_DYING` and sleeps on `&oid_running` with wmesg
//!   "oidrm" until the last handler returns.
//! * Requests (`struct sysctl_req`, 96 bytes) go through `sysctl_root`: `ENOENT` for unknown
//!   or dormant names, `ENOTDIR` past a leaf, `EISDIR` for a node without handler, `EPERM` for
//!   a write to an oid without `CTLFLAG_WR`, `securelevel_gt(cred, level)` for
//!   `CTLFLAG_SECURE` writes, then `priv_check(td, PRIV_SYSCTL_WRITE)` for writes without
//!   `CTLFLAG_ANYBODY` (`PRIV_SYSCTL_WRITEJAIL` with `CTLFLAG_PRISON`: jailed root passes it,
//!   not `PRIV_SYSCTL_WRITE`; kern_jail.c `prison_priv_check`). `CTLFLAG_VNET` oids count as
//!   `PRISON` for a jail that owns its vnet; simulated jails never own one.
//! * `sysctl_root_handler_locked`: `oid_running++` for `CTLFLAG_DYN` oids around the handler,
//!   `wakeup(&oid_running)` when the last one leaves a `DYING` oid. Giant (for handlers
//!   without `CTLFLAG_MPSAFE`) is not simulated.
//! * `sysctl_old_user`/`sysctl_new_user` (user buffers; `WITNESS_WARN` "sysctl_old_user()"
//!   when the old buffer is not wired and a non-sleepable lock is held) and
//!   `sysctl_old_kernel`/`sysctl_new_kernel` (kernel buffers, tunables): a short old buffer
//!   copies what fits, still advances `oldidx` by the full length and gives `ENOMEM`; a
//!   `SYSCTL_IN` of more than what is left gives `EINVAL`. `userland_sysctl` retries on
//!   `EAGAIN` and reports `validlen` as the length when the buffer was too short.
//! * User requests are `__sysctl(2)` calls of a simulated process ([`sys___sysctl`] with a
//!   [`UserCall`] of user addresses): `copyin` of `*oldlenp` and `copyout` of the length
//!   (`EFAULT`), `copyout`/`copyin` of the values (`EFAULT` outside the process's memory),
//!   `sysctlmemlock` for old buffers over `4 * PAGE_SIZE`, and `sysctl_wire_old_buffer`'s
//!   `vslock` (sys/vm/vm_glue.c: `EINVAL`, `ENOMEM` above [`VM_PAGE_MAX_USER_WIRED`],
//!   `EFAULT`). Read from the 14.x/15.0 text of kern_sysctl.c (RB-tree `sysctl_find_oid`)
//!   and a 13.x one (SLIST): `userland_sysctl`, `sysctl_old_user`, `sysctl_new_user` and
//!   `sysctl_wire_old_buffer` are the same in both.
//! * The default handlers `sysctl_handle_int`/`long`/`64`/`8`/`16`/`32`/`bool`/`string`/
//!   `opaque` and `sysctl_wire_old_buffer`.

// The constants and struct fields carry the names of sys/sys/sysctl.h; see there.
#![allow(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::kern_switch::sched;
use super::subr_witness::{caller, caller_shim};
use crate::ksyms::KsymDef;

/// `CTLTYPE` mask and types (sys/sys/sysctl.h).
pub const CTLTYPE: u32 = 0xf;
pub const CTLTYPE_NODE: u32 = 1;
pub const CTLTYPE_INT: u32 = 2;
pub const CTLTYPE_STRING: u32 = 3;
pub const CTLTYPE_S64: u32 = 4;
pub const CTLTYPE_OPAQUE: u32 = 5;
pub const CTLTYPE_UINT: u32 = 6;
pub const CTLTYPE_LONG: u32 = 7;
pub const CTLTYPE_ULONG: u32 = 8;
pub const CTLTYPE_U64: u32 = 9;
pub const CTLTYPE_U8: u32 = 0xa;
pub const CTLTYPE_U16: u32 = 0xb;
pub const CTLTYPE_S8: u32 = 0xc;
pub const CTLTYPE_S16: u32 = 0xd;
pub const CTLTYPE_S32: u32 = 0xe;
pub const CTLTYPE_U32: u32 = 0xf;
/// `CTLFLAG_*` (sys/sys/sysctl.h, same on 13.1, 14.2 and 15.0).
pub const CTLFLAG_RD: u32 = 0x8000_0000;
pub const CTLFLAG_WR: u32 = 0x4000_0000;
pub const CTLFLAG_RW: u32 = CTLFLAG_RD | CTLFLAG_WR;
pub const CTLFLAG_DORMANT: u32 = 0x2000_0000;
pub const CTLFLAG_ANYBODY: u32 = 0x1000_0000;
pub const CTLFLAG_SECURE: u32 = 0x0800_0000;
pub const CTLFLAG_PRISON: u32 = 0x0400_0000;
pub const CTLFLAG_DYN: u32 = 0x0200_0000;
pub const CTLFLAG_SKIP: u32 = 0x0100_0000;
pub const CTLMASK_SECURE: u32 = 0x00F0_0000;
pub const CTLSHIFT_SECURE: u32 = 20;
pub const CTLFLAG_TUN: u32 = 0x80000;
pub const CTLFLAG_MPSAFE: u32 = 0x40000;
pub const CTLFLAG_VNET: u32 = 0x20000;
pub const CTLFLAG_DYING: u32 = 0x10000;
pub const CTLFLAG_NOFETCH: u32 = 0x1000;
/// `CTL_AUTO_START`.
pub const CTL_AUTO_START: i32 = 0x100;
/// `REQ_UNWIRED` / `REQ_WIRED`.
pub const REQ_UNWIRED: i32 = 1;
pub const REQ_WIRED: i32 = 2;

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ENOMEM: i32 = 12;
pub const EBUSY: i32 = 16;
pub const ENOTDIR: i32 = 20;
pub const EISDIR: i32 = 21;
pub const EINVAL: i32 = 22;
pub const EAGAIN: i32 = 35;
pub const ENOTEMPTY: i32 = 66;

/// `struct sysctl_oid` offsets of one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OidLayout {
    pub size: usize,
    pub parent: usize,
    pub link: usize,
    pub number: usize,
    pub kind: usize,
    pub arg1: usize,
    pub arg2: usize,
    pub name: usize,
    pub handler: usize,
    pub fmt: usize,
    pub refcnt: usize,
    pub running: usize,
    pub descr: usize,
    pub label: usize,
    /// `RB_ENTRY` (24 bytes) rather than `SLIST_ENTRY` (8).
    pub rb: bool,
}

/// 13.x: `SLIST_HEAD oid_children@0, oid_parent@8, SLIST_ENTRY oid_link@16`, 96 bytes
/// (13.1 sys/sys/sysctl.h; FACTS.md section 6).
pub const OID_13: OidLayout = OidLayout {
    size: 96, parent: 8, link: 16, number: 24, kind: 28, arg1: 32, arg2: 40, name: 48, handler: 56,
    fmt: 64, refcnt: 72, running: 76, descr: 80, label: 88, rb: false,
};
/// 14.x/15.x: `RB_ENTRY oid_link@16` (24 bytes), 112 bytes.
pub const OID_14: OidLayout = OidLayout {
    size: 112, parent: 8, link: 16, number: 40, kind: 44, arg1: 48, arg2: 56, name: 64, handler: 72,
    fmt: 80, refcnt: 88, running: 92, descr: 96, label: 104, rb: true,
};

/// The layout of a kernel: the children lists became `RB_HEAD` at __FreeBSD_version 1400071.
pub fn layout_for(freebsd_version: u32) -> OidLayout {
    if freebsd_version < 1_400_071 { OID_13 } else { OID_14 }
}

/// Static roots: (symbol, parent symbol or "" for `sysctl__children`, name, number).
/// Numbers from sys/sys/sysctl.h (`CTL_SYSCTL` 0, `CTL_KERN` 1, `CTL_VM` 2, `CTL_VFS` 3,
/// `CTL_NET` 4, `CTL_DEBUG` 5, `CTL_HW` 6, `CTL_MACHDEP` 7, `CTL_USER` 8) and kern_mib.c.
const ROOTS: &[(&str, &str, &str, i32)] = &[
    ("sysctl___sysctl", "", "sysctl", 0),
    ("sysctl___kern", "", "kern", 1),
    ("sysctl___vm", "", "vm", 2),
    ("sysctl___vfs", "", "vfs", 3),
    ("sysctl___net", "", "net", 4),
    ("sysctl___debug", "", "debug", 5),
    ("sysctl___hw", "", "hw", 6),
    ("sysctl___machdep", "", "machdep", 7),
    ("sysctl___user", "", "user", 8),
    ("sysctl___compat", "", "compat", -1),
    ("sysctl___security", "", "security", -1),
    ("sysctl___dev", "", "dev", -1),
    ("sysctl___regression", "", "regression", -1),
    ("sysctl___debug_sizeof", "sysctl___debug", "sizeof", -1),
    ("sysctl___kern_features", "sysctl___kern", "features", -1),
    ("sysctl___kern_ipc", "sysctl___kern", "ipc", 30),
    ("sysctl___kern_proc", "sysctl___kern", "proc", 14),
    ("sysctl___kern_sched", "sysctl___kern", "sched", -1),
    ("sysctl___vm_stats", "sysctl___vm", "stats", -1),
    ("sysctl___hw_bus", "sysctl___hw", "bus", -1),
    ("sysctl___machdep_mitigations", "sysctl___machdep", "mitigations", -1),
    ("sysctl___security_bsd", "sysctl___security", "bsd", -1),
];

/// The credential a request runs with (the calling process's `struct ucred`, as far as
/// kern_sysctl.c looks at it: `priv_check` and `securelevel_gt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SysctlCred {
    /// `cr_uid`.
    pub uid: u32,
    /// In a jail (`jailed(cred)`).
    pub jailed: bool,
}

impl SysctlCred {
    /// uid 0, not jailed.
    pub const ROOT: SysctlCred = SysctlCred { uid: 0, jailed: false };
}

impl From<&crate::user::Ucred> for SysctlCred {
    fn from(c: &crate::user::Ucred) -> SysctlCred {
        SysctlCred { uid: c.uid, jailed: c.jailed }
    }
}

/// `PRIV_SYSCTL_WRITE` / `PRIV_SYSCTL_WRITEJAIL` (sys/sys/priv.h).
pub const PRIV_SYSCTL_WRITE: i32 = 241;
pub const PRIV_SYSCTL_WRITEJAIL: i32 = 242;

/// Shared sysctl state of the booted kernel.
#[derive(Debug)]
pub struct SysctlState {
    pub layout: OidLayout,
    /// Address of `sysctl__children`.
    pub root: usize,
    /// Children list head address (the parent oid's address, `oid_children` is at offset 0,
    /// or `sysctl__children`) -> oids sorted by number.
    pub lists: HashMap<usize, Vec<usize>>,
    /// The static `newoid` of `sysctl_register_oid`.
    pub newoid: i32,
    /// The kernel environment.
    pub kenv: BTreeMap<String, String>,
    /// `kern_getenv` copies not yet given back: address -> name.
    pub env_copies: HashMap<usize, String>,
    /// `securelevel` (kern.securelevel).
    pub securelevel: i32,
    /// Oids allocated by `sysctl_add_oid` (freed by removal with `del`) -> the address of
    /// the module code that added them.
    pub dyn_oids: HashMap<usize, usize>,
    /// Context lists: `struct sysctl_ctx_list *` -> entries, most recent first
    /// (`TAILQ_INSERT_HEAD`).
    pub ctxs: HashMap<usize, Vec<usize>>,
    /// Credential of the running request (for priv_check from handlers).
    pub cred: SysctlCred,
    /// `struct sysctl_ctx_entry`s handed out (`sysctl_ctx_entry_add`/`find`): (ctx, oid).
    pub ctx_entries: HashMap<(usize, usize), usize>,
    /// `sysctlmemlock`: the thread (tid) of the user request with an old buffer of more than
    /// `4 * PAGE_SIZE` bytes that runs now (`userland_sysctl` serialises them).
    pub memlock: Option<u32>,
}

static STATE: Mutex<Option<SysctlState>> = Mutex::new(None);

/// Run `f` on the sysctl state. Never call module code inside.
pub fn with<R>(f: impl FnOnce(&mut SysctlState) -> R) -> R {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(g.as_mut().expect("kernel-sim: sysctl used with no booted kernel"))
}

fn lay() -> OidLayout {
    with(|s| s.layout)
}

// ---- raw struct access ----

fn rd_u32(a: usize) -> u32 {
    // SAFETY: `a` is a field of a registered struct sysctl_oid or sysctl_req.
    unsafe { (a as *const u32).read_unaligned() }
}
fn wr_u32(a: usize, v: u32) {
    // SAFETY: as above, writable (static oids live in .data: FACTS.md section 8 rule 4).
    unsafe { (a as *mut u32).write_unaligned(v) }
}
fn rd_usize(a: usize) -> usize {
    // SAFETY: as above.
    unsafe { (a as *const usize).read_unaligned() }
}
fn wr_usize(a: usize, v: usize) {
    // SAFETY: as above.
    unsafe { (a as *mut usize).write_unaligned(v) }
}

/// Fields of an oid.
#[derive(Debug, Clone)]
pub struct Oid {
    pub addr: usize,
    pub number: i32,
    pub kind: u32,
    pub name: String,
    pub fmt: String,
    pub descr: String,
    pub handler: usize,
    pub arg1: usize,
    pub arg2: i64,
}

/// Read oid `a`.
pub fn oid(a: usize) -> Oid {
    let l = lay();
    let s = |p: usize| if p == 0 { String::new() } else {
        // SAFETY: the oid's C strings.
        unsafe { super::cstr(p) }
    };
    Oid {
        addr: a,
        number: rd_u32(a + l.number) as i32,
        kind: rd_u32(a + l.kind),
        name: s(rd_usize(a + l.name)),
        fmt: s(rd_usize(a + l.fmt)),
        descr: s(rd_usize(a + l.descr)),
        handler: rd_usize(a + l.handler),
        arg1: rd_usize(a + l.arg1),
        arg2: rd_usize(a + l.arg2) as i64,
    }
}

/// Write the list links of `list` into the structs.
fn relink(s: &SysctlState, list: usize) {
    let l = s.layout;
    let v = s.lists.get(&list).cloned().unwrap_or_default();
    if !l.rb {
        // SLIST: slh_first, sle_next.
        wr_usize(list, v.first().copied().unwrap_or(0));
        for (i, &o) in v.iter().enumerate() {
            wr_usize(o + l.link, v.get(i + 1).copied().unwrap_or(0));
        }
    } else {
        // RB_HEAD rbh_root; RB_ENTRY rbe_link[3] = {up, left, right} (sys/tree.h 14.x):
        // a right-leaning chain in number order.
        wr_usize(list, v.first().copied().unwrap_or(0));
        for (i, &o) in v.iter().enumerate() {
            wr_usize(o + l.link, if i == 0 { 0 } else { v[i - 1] });
            wr_usize(o + l.link + 8, 0);
            wr_usize(o + l.link + 16, v.get(i + 1).copied().unwrap_or(0));
        }
    }
}

/// The dotted name of oid `a`.
pub fn path_of(a: usize) -> String {
    let (l, root) = with(|s| (s.layout, s.root));
    let mut parts = vec![oid(a).name];
    let mut parent = rd_usize(a + l.parent);
    let mut guard = 0;
    while parent != root && parent != 0 && guard < 32 {
        parts.push(oid(parent).name);
        parent = rd_usize(parent + l.parent);
        guard += 1;
    }
    parts.reverse();
    parts.join(".")
}

fn find_name(list: usize, name: &str) -> Option<usize> {
    let v = with(|s| s.lists.get(&list).cloned().unwrap_or_default());
    v.into_iter().find(|&o| oid(o).name == name)
}

/// `sysctl_register_oid`.
pub fn register_oid(oidp: usize) {
    let l = lay();
    let parent = rd_usize(oidp + l.parent);
    let o = oid(oidp);
    if let Some(p) = find_name(parent, &o.name) {
        let po = oid(p);
        if po.kind & CTLTYPE == CTLTYPE_NODE {
            wr_u32(p + l.refcnt, rd_u32(p + l.refcnt) + 1);
        } else {
            super::console_write(format!("sysctl_register_oid: can't re-use a leaf ({})!\n", path_of(p)).as_bytes());
        }
        return;
    }
    let orig = o.number;
    let mut num = orig;
    with(|s| {
        if num < 0 {
            s.newoid -= 1;
            if s.newoid < CTL_AUTO_START {
                s.newoid = 0x7fff_ffff;
            }
            num = s.newoid;
        }
        let mut timeout = 2;
        let list = s.lists.entry(parent).or_default();
        while list.iter().any(|&p| rd_u32(p + l.number) as i32 == num) {
            if num < CTL_AUTO_START || num == 0x7fff_ffff {
                num = CTL_AUTO_START;
                if timeout == 0 {
                    break;
                }
                timeout -= 1;
                continue;
            }
            num += 1;
        }
        wr_u32(oidp + l.number, num as u32);
        let pos = list.iter().position(|&p| rd_u32(p + l.number) as i32 > num).unwrap_or(list.len());
        list.insert(pos, oidp);
        relink(s, parent);
    });
    if (0..CTL_AUTO_START).contains(&orig) && num >= CTL_AUTO_START {
        super::console_write(format!("sysctl: OID number({orig}) is already in use for '{}'\n", o.name).as_bytes());
    }
    if o.kind & CTLTYPE != CTLTYPE_NODE && o.kind & CTLFLAG_TUN != 0 && o.kind & CTLFLAG_NOFETCH == 0 {
        wr_u32(oidp + l.kind, o.kind | CTLFLAG_NOFETCH);
        load_tunable(oidp);
    }
}

/// `sysctl_unregister_oid`.
pub fn unregister_oid(oidp: usize) {
    let l = lay();
    let parent = rd_usize(oidp + l.parent);
    let removed = with(|s| {
        let Some(v) = s.lists.get_mut(&parent) else { return false };
        let Some(i) = v.iter().position(|&o| o == oidp) else { return false };
        v.remove(i);
        relink(s, parent);
        true
    });
    if !removed {
        let err = if rd_u32(oidp + l.number) as i32 == -1 { EINVAL } else { ENOENT };
        super::console_write(format!("sysctl_unregister_oid: failed({err}) to unregister sysctl({})\n", oid(oidp).name).as_bytes());
    }
}

fn is_registered(oidp: usize) -> bool {
    let l = lay();
    let parent = rd_usize(oidp + l.parent);
    with(|s| s.lists.get(&parent).is_some_and(|v| v.contains(&oidp)))
}

// ---- tunables ----

fn load_tunable(oidp: usize) {
    let o = oid(oidp);
    let path = path_of(oidp);
    let Some(val) = super::kern_environment::get(&path) else { return };
    let mut data: Vec<u8> = Vec::new();
    // getenv_array(path, data, sizeof(data) = 512, &size, type size, GETENV_SIGNED/UNSIGNED)
    let int = |size: usize, signed: bool| super::kern_environment::parse_array(&val, size, signed, 512);
    let v = match o.kind & CTLTYPE {
        CTLTYPE_INT | CTLTYPE_S32 => int(4, true),
        CTLTYPE_UINT | CTLTYPE_U32 => int(4, false),
        CTLTYPE_LONG | CTLTYPE_S64 => int(8, true),
        CTLTYPE_ULONG | CTLTYPE_U64 => int(8, false),
        CTLTYPE_S8 => int(1, true),
        CTLTYPE_U8 => int(1, false),
        CTLTYPE_S16 => int(2, true),
        CTLTYPE_U16 => int(2, false),
        CTLTYPE_STRING => {
            // penv = kern_getenv(path); req.newlen = strlen(penv) (no NUL).
            Some(val.as_bytes().to_vec())
        }
        _ => return,
    };
    let Some(v) = v else { return };
    data.extend_from_slice(&v);
    let mut req = Req::new_kernel(None, Some(data));
    let e = root_handler_locked(oidp, o.arg1, o.arg2, req.ptr());
    if e != 0 {
        super::console_write(format!("Setting sysctl {path} failed: {e}\n").as_bytes());
    }
}

// ---- requests ----

/// A `struct sysctl_req` (96 bytes; FACTS.md section 6) of a kernel request (tunables),
/// with host buffers behind it. User requests build theirs in [`userland_sysctl`].
pub struct Req {
    raw: Box<[u64; 12]>,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
}

const R_TD: usize = 0;
const R_LOCK: usize = 8;
const R_OLDPTR: usize = 16;
const R_OLDLEN: usize = 24;
const R_OLDIDX: usize = 32;
const R_OLDFUNC: usize = 40;
const R_NEWPTR: usize = 48;
const R_NEWLEN: usize = 56;
const R_NEWIDX: usize = 64;
const R_NEWFUNC: usize = 72;
const R_VALIDLEN: usize = 80;

impl Req {
    /// A request from the kernel (`kernel_sysctl`, tunables): `sysctl_old_kernel` /
    /// `sysctl_new_kernel` over host buffers of `old` bytes and the `new` bytes.
    pub fn new_kernel(old: Option<usize>, new: Option<Vec<u8>>) -> Req {
        let mut r = Req { raw: Box::new([0; 12]), old: old.map(|n| vec![0u8; n]), new };
        let p = r.ptr();
        wr_usize(p + R_TD, sched().curthread());
        wr_u32(p + R_LOCK, REQ_UNWIRED as u32);
        if let Some(o) = r.old.as_mut() {
            wr_usize(p + R_OLDPTR, if o.is_empty() { NonNullEmpty::ptr() } else { o.as_mut_ptr() as usize });
            wr_usize(p + R_OLDLEN, o.len());
        }
        wr_usize(p + R_VALIDLEN, rd_usize(p + R_OLDLEN));
        if let Some(n) = r.new.as_mut() {
            wr_usize(p + R_NEWPTR, if n.is_empty() { NonNullEmpty::ptr() } else { n.as_mut_ptr() as usize });
            wr_usize(p + R_NEWLEN, n.len());
        }
        wr_usize(p + R_OLDFUNC, sysctl_old_kernel as *const () as usize);
        wr_usize(p + R_NEWFUNC, sysctl_new_kernel as *const () as usize);
        r
    }

    /// Address of the `struct sysctl_req`.
    pub fn ptr(&mut self) -> usize {
        self.raw.as_mut_ptr() as usize
    }
}

/// A non-NULL address for zero-length buffers (a kernel caller passing a valid pointer with
/// length 0): never read or written, since lengths are 0.
struct NonNullEmpty;
static EMPTY: [u8; 8] = [0; 8];
impl NonNullEmpty {
    fn ptr() -> usize {
        EMPTY.as_ptr() as usize
    }
}

/// `sysctl_old_kernel`.
extern "C" fn sysctl_old_kernel(req: usize, p: usize, l: usize) -> i32 {
    let oldptr = rd_usize(req + R_OLDPTR);
    let oldlen = rd_usize(req + R_OLDLEN);
    let oldidx = rd_usize(req + R_OLDIDX);
    let mut i = 0;
    if oldptr != 0 {
        i = l;
        if oldlen <= oldidx {
            i = 0;
        } else if i > oldlen - oldidx {
            i = oldlen - oldidx;
        }
        if i > 0 {
            // SAFETY: p has l readable bytes (handler's contract); the destination is the
            // request's buffer of oldlen bytes.
            unsafe { std::ptr::copy(p as *const u8, (oldptr + oldidx) as *mut u8, i) };
        }
    }
    wr_usize(req + R_OLDIDX, oldidx.wrapping_add(l));
    if oldptr != 0 && i != l { ENOMEM } else { 0 }
}

/// `sysctl_new_kernel`.
extern "C" fn sysctl_new_kernel(req: usize, p: usize, l: usize) -> i32 {
    let newptr = rd_usize(req + R_NEWPTR);
    if newptr == 0 {
        return 0;
    }
    let newlen = rd_usize(req + R_NEWLEN);
    let newidx = rd_usize(req + R_NEWIDX);
    if newlen.wrapping_sub(newidx) < l {
        return EINVAL;
    }
    // SAFETY: bounds checked against the request buffer; p has l writable bytes.
    unsafe { std::ptr::copy((newptr + newidx) as *const u8, p as *mut u8, l) };
    wr_usize(req + R_NEWIDX, newidx + l);
    0
}

/// `sysctl_old_user` (sys/kern/kern_sysctl.c, the same text in 13.x and 14.x/15.0: `oldidx`
/// advances by the full `l` first; with no old buffer that is all; a `WITNESS_WARN` unless
/// the buffer is wired; what fits below `validlen` is copied out (`copyout_nofault` when
/// wired, `copyout` otherwise: either gives `EFAULT` on an unmapped address, which is
/// returned as is); `ENOMEM` when less than `l` fitted).
extern "C" fn sysctl_old_user(req: usize, p: usize, l: usize) -> i32 {
    let origidx = rd_usize(req + R_OLDIDX);
    wr_usize(req + R_OLDIDX, origidx.wrapping_add(l));
    let oldptr = rd_usize(req + R_OLDPTR);
    if oldptr == 0 {
        return 0;
    }
    let wired = rd_u32(req + R_LOCK) as i32 == REQ_WIRED;
    if !wired {
        // WITNESS_WARN(WARN_GIANTOK | WARN_SLEEPOK, NULL, "sysctl_old_user()"): the copyout
        // may fault and sleep.
        super::subr_witness::warn_sleep(0, "sysctl_old_user()", ret_addr());
    }
    let len = rd_usize(req + R_VALIDLEN);
    let mut i = l;
    if len <= origidx {
        i = 0;
    } else {
        if i > len - origidx {
            i = len - origidx;
        }
        // copyout_nofault / copyout(p, (char *)req->oldptr + origidx, i): EFAULT outside the
        // process's memory (an address past the end of the address space included).
        let e = match oldptr.checked_add(origidx) {
            Some(dst) => super::subr_uio::copyout(p, dst, i),
            None if i == 0 => 0,
            None => crate::user::errno::EFAULT,
        };
        if e != 0 {
            return e;
        }
    }
    if i < l { ENOMEM } else { 0 }
}

/// `sysctl_new_user`: nothing without a new value; `EINVAL` when fewer than `l` bytes are
/// left (`req->newlen - req->newidx < l`, in `size_t`: a huge `newlen` passes this check
/// and the `copyin` of the `l` bytes the handler asked for decides); a `WITNESS_WARN`;
/// `copyin` (`EFAULT` outside the process's memory), and `newidx` advances by `l` even then.
extern "C" fn sysctl_new_user(req: usize, p: usize, l: usize) -> i32 {
    let newptr = rd_usize(req + R_NEWPTR);
    if newptr == 0 {
        return 0;
    }
    let newlen = rd_usize(req + R_NEWLEN);
    let newidx = rd_usize(req + R_NEWIDX);
    if newlen.wrapping_sub(newidx) < l {
        return EINVAL;
    }
    super::subr_witness::warn_sleep(0, "sysctl_new_user()", ret_addr());
    let e = match newptr.checked_add(newidx) {
        Some(src) => super::subr_uio::copyin(src, p, l),
        None if l == 0 => 0,
        None => crate::user::errno::EFAULT,
    };
    wr_usize(req + R_NEWIDX, newidx.wrapping_add(l));
    e
}

/// `PAGE_SIZE` on amd64.
const PAGE_SIZE: usize = 4096;

/// `vm_page_max_user_wired` (vm.max_user_wired): `vm_pageout_init()` (sys/vm/vm_pageout.c)
/// sets it to a third of the free pages at boot. The simulated machine has 4 GiB of free
/// pages, so at most 349525 pages (about 1.33 GiB) can be wired.
pub const VM_PAGE_MAX_USER_WIRED: usize = (4usize << 30) / PAGE_SIZE / 3;

/// `vslock(addr, len)` (sys/vm/vm_glue.c, 13.x to 15.0): `EINVAL` when `addr + len` or its
/// page-rounded end wraps around; `ENOMEM` for more than `vm_page_max_user_wired` pages;
/// `vm_map_wire(..., VM_MAP_WIRE_SYSTEM | VM_MAP_WIRE_NOHOLES)` of the pages, which fails
/// (`EFAULT`, "to match copy{in,out}() behaviour") when any of them is not mapped in the
/// process.
pub fn vslock(addr: usize, len: usize) -> i32 {
    let last = addr.wrapping_add(len);
    let start = addr & !(PAGE_SIZE - 1);
    let end = last.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    if last < addr || end < addr {
        return EINVAL;
    }
    let npages = (end - start) / PAGE_SIZE;
    if npages > VM_PAGE_MAX_USER_WIRED {
        return ENOMEM;
    }
    if !crate::user::user_range_ok(start, end - start) {
        return crate::user::errno::EFAULT;
    }
    0
}

/// The module location of a `SYSCTL_OUT`/`SYSCTL_IN` (an indirect call through the request,
/// not a trampoline: there is no caller shim). Reported as the handler of the running oid.
fn ret_addr() -> usize {
    RUNNING_HANDLER.with(|h| h.get())
}

thread_local! {
    static RUNNING_HANDLER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

type Handler = extern "C" fn(usize, usize, i64, usize) -> i32;
type XferFn = extern "C" fn(usize, usize, usize) -> i32;

fn out(req: usize, p: usize, l: usize) -> i32 {
    // SAFETY: oldfunc is one of the transfer functions above (set by Req::build).
    let f: XferFn = unsafe { std::mem::transmute::<usize, XferFn>(rd_usize(req + R_OLDFUNC)) };
    f(req, p, l)
}

fn inp(req: usize, p: usize, l: usize) -> i32 {
    // SAFETY: as above.
    let f: XferFn = unsafe { std::mem::transmute::<usize, XferFn>(rd_usize(req + R_NEWFUNC)) };
    f(req, p, l)
}

/// `sysctl_root_handler_locked`: run the handler with `oid_running` held up.
pub fn root_handler_locked(oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    let l = lay();
    let kind = rd_u32(oidp + l.kind);
    if kind & CTLFLAG_DYN != 0 {
        wr_u32(oidp + l.running, rd_u32(oidp + l.running) + 1);
    }
    let h = rd_usize(oidp + l.handler);
    let prev = RUNNING_HANDLER.with(|c| c.replace(h));
    // SAFETY: the oid's handler, a function with the SYSCTL_HANDLER_ARGS signature
    // (module code or a default handler of this file).
    let f: Handler = unsafe { std::mem::transmute::<usize, Handler>(h) };
    let e = f(oidp, arg1, arg2, req);
    RUNNING_HANDLER.with(|c| c.set(prev));
    if kind & CTLFLAG_DYN != 0 {
        let r = rd_u32(oidp + l.running);
        wr_u32(oidp + l.running, r.saturating_sub(1));
        if r == 1 && rd_u32(oidp + l.kind) & CTLFLAG_DYING != 0 {
            super::kern_synch::wakeup_chan(oidp + l.running, false);
        }
    }
    e
}

/// Find the oid for a dotted name like `sysctl_find_oid` after `name2oid`: `Ok(oid)`, or
/// `ENOENT` (unknown, dormant), `ENOTDIR` (a component after a leaf).
pub fn lookup(name: &str) -> Result<usize, i32> {
    let (root, l) = with(|s| (s.root, s.layout));
    let mut list = root;
    let parts: Vec<&str> = name.split('.').collect();
    if name.is_empty() || parts.len() > 24 {
        return Err(ENOENT);
    }
    for (i, p) in parts.iter().enumerate() {
        let Some(o) = find_name(list, p) else { return Err(ENOENT) };
        let kind = rd_u32(o + l.kind);
        if kind & CTLFLAG_DORMANT != 0 {
            return Err(ENOENT);
        }
        let last = i + 1 == parts.len();
        if kind & CTLTYPE == CTLTYPE_NODE {
            if rd_usize(o + l.handler) != 0 || last {
                return if last { Ok(o) } else { Err(ENOENT) };
            }
            list = o;
        } else if last {
            return Ok(o);
        } else {
            return Err(ENOTDIR);
        }
    }
    Err(ENOENT)
}

/// The children of node `o` (or the root for 0), sorted by number.
pub fn children(o: usize) -> Vec<usize> {
    with(|s| {
        let list = if o == 0 { s.root } else { o };
        s.lists.get(&list).cloned().unwrap_or_default()
    })
}

/// `securelevel_gt(cr, level)` (kern_prot.c): `EPERM` if the securelevel is above `level`.
fn securelevel_gt(level: i32) -> i32 {
    if with(|s| s.securelevel) > level { EPERM } else { 0 }
}

/// `priv_check(td, PRIV_SYSCTL_WRITE / PRIV_SYSCTL_WRITEJAIL)` for the request credential
/// (`kern_priv::priv_check_ucred`: root passes; kern_jail.c `prison_priv_check` grants
/// `PRIV_SYSCTL_WRITEJAIL`, not `PRIV_SYSCTL_WRITE`, to jailed root).
fn priv_sysctl_write(cred: SysctlCred, jail_ok: bool) -> i32 {
    let mut u = crate::user::Ucred::user(cred.uid, if cred.uid == 0 { 0 } else { cred.uid });
    u.jailed = cred.jailed;
    super::kern_priv::priv_check_ucred(&u, if jail_ok { PRIV_SYSCTL_WRITEJAIL } else { PRIV_SYSCTL_WRITE })
}

/// One `__sysctl(2)` call of a simulated user process, by name (the numeric MIB of the real
/// call is what `sysctl.name2oid` gives for the name): every pointer is an address in the
/// calling process's user memory ([`crate::user::UserVm`]), 0 for NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCall {
    /// The dotted name.
    pub name: String,
    /// `old`: where the old value goes.
    pub old: usize,
    /// `oldlenp`: a `size_t` holding the old buffer's size, overwritten with the length.
    pub oldlenp: usize,
    /// `new`: the new value.
    pub new: usize,
    /// `newlen`.
    pub newlen: usize,
}

/// `sys___sysctl(td, uap)` (sys/kern/kern_sysctl.c) for the process of the running thread
/// (its credential and user memory): `userland_sysctl`, then, unless that failed with
/// something other than `ENOMEM`, the length is copied out to `oldlenp` (`EFAULT` if it is
/// not mapped). Returns the errno.
#[allow(non_snake_case)]
pub fn sys___sysctl(c: &UserCall) -> i32 {
    let mut j = 0usize;
    let error = userland_sysctl(&c.name, c.old, c.oldlenp, c.new, c.newlen, &mut j);
    if error != 0 && error != ENOMEM {
        return error;
    }
    if c.oldlenp != 0 {
        let i = super::subr_uio::copyout(&j as *const usize as usize, c.oldlenp, std::mem::size_of::<usize>());
        if i != 0 {
            return i;
        }
    }
    error
}

/// `userland_sysctl(td, name, namelen, old, oldlenp, inkernel = 0, new, newlen, retval,
/// flags)` (sys/kern/kern_sysctl.c, 13.x to 15.0): `copyin` of `*oldlenp` (`EFAULT`),
/// `validlen = oldlen`, a new value only when `new != NULL` (a NULL `new` with a nonzero
/// `newlen` is a read), the user transfer functions; requests with an old buffer of more
/// than `4 * PAGE_SIZE` bytes are serialised on `sysctlmemlock`; `sysctl_root` again while
/// it answers `EAGAIN`; then `*retval` = `validlen` when the old buffer was too short,
/// `oldidx` otherwise.
fn userland_sysctl(name: &str, old: usize, oldlenp: usize, new: usize, newlen: usize, retval: &mut usize) -> i32 {
    let cred = SysctlCred::from(&crate::user::curcred());
    let mut raw = [0u64; 12];
    let p = raw.as_mut_ptr() as usize;
    wr_usize(p + R_TD, sched().curthread());
    if oldlenp != 0 {
        let mut oldlen = 0usize;
        let e = super::subr_uio::copyin(oldlenp, &mut oldlen as *mut usize as usize, std::mem::size_of::<usize>());
        if e != 0 {
            return e;
        }
        wr_usize(p + R_OLDLEN, oldlen);
    }
    wr_usize(p + R_VALIDLEN, rd_usize(p + R_OLDLEN));
    wr_usize(p + R_OLDPTR, old);
    if new != 0 {
        wr_usize(p + R_NEWLEN, newlen);
        wr_usize(p + R_NEWPTR, new);
    }
    wr_usize(p + R_OLDFUNC, sysctl_old_user as *const () as usize);
    wr_usize(p + R_NEWFUNC, sysctl_new_user as *const () as usize);
    wr_u32(p + R_LOCK, REQ_UNWIRED as u32);
    let memlocked = old != 0 && rd_usize(p + R_OLDLEN) > 4 * PAGE_SIZE;
    if memlocked {
        memlock_acquire();
    }
    with(|s| s.cred = cred);
    let error = loop {
        wr_usize(p + R_OLDIDX, 0);
        wr_usize(p + R_NEWIDX, 0);
        let e = sysctl_root(name, cred, p);
        if e != EAGAIN {
            break e;
        }
        super::kern_switch::yield_now();
    };
    with(|s| s.cred = SysctlCred::ROOT);
    // `if (req.lock == REQ_WIRED && req.validlen > 0) vsunlock(...)`: nothing is wired in
    // the simulator's user memory.
    if memlocked {
        memlock_release();
    }
    if error != 0 && error != ENOMEM {
        return error;
    }
    let oldidx = rd_usize(p + R_OLDIDX);
    let validlen = rd_usize(p + R_VALIDLEN);
    *retval = if old != 0 && oldidx > validlen { validlen } else { oldidx };
    error
}

/// The wait channel of `sysctlmemlock`.
fn memlock_chan() -> usize {
    &STATE as *const _ as usize
}

/// `sx_xlock(&sysctlmemlock)`: wait while another request holds it.
fn memlock_acquire() {
    loop {
        let tid = sched().current().tid;
        if with(|s| s.memlock.is_none().then(|| s.memlock = Some(tid)).is_some()) {
            return;
        }
        super::kern_switch::block(super::kern_switch::Wait {
            chan: memlock_chan(),
            wmesg: "sysctlmem".into(),
            deadline: None,
            caller: 0,
            on_lock: true,
            seq: 0,
            pri: 0,
        });
    }
}

/// `sx_xunlock(&sysctlmemlock)`.
fn memlock_release() {
    with(|s| s.memlock = None);
    sched().wake_chan(memlock_chan(), true, false);
}

fn sysctl_root(name: &str, cred: SysctlCred, req: usize) -> i32 {
    let l = lay();
    let o = match lookup(name) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let kind = rd_u32(o + l.kind);
    let handler = rd_usize(o + l.handler);
    if kind & CTLTYPE == CTLTYPE_NODE && handler == 0 {
        return EISDIR;
    }
    let writing = rd_usize(req + R_NEWPTR) != 0;
    if writing && kind & CTLFLAG_WR == 0 {
        return EPERM;
    }
    if writing && kind & CTLFLAG_SECURE != 0 {
        let lvl = ((kind & CTLMASK_SECURE) >> CTLSHIFT_SECURE) as i32;
        let e = securelevel_gt(lvl);
        if e != 0 {
            return e;
        }
    }
    if writing && kind & CTLFLAG_ANYBODY == 0 {
        let e = priv_sysctl_write(cred, kind & CTLFLAG_PRISON != 0);
        if e != 0 {
            return e;
        }
    }
    if handler == 0 {
        return EINVAL;
    }
    // A node with a handler gets the rest of the name (none for a by-name request).
    let (arg1, arg2) = if kind & CTLTYPE == CTLTYPE_NODE { (0, 0) } else { (rd_usize(o + l.arg1), rd_usize(o + l.arg2) as i64) };
    root_handler_locked(o, arg1, arg2, req)
}

// ---- default handlers ----

extern "C" fn h_int(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    handle_scalar::<4>(arg1, arg2, req)
}
extern "C" fn h_32(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    handle_scalar::<4>(arg1, arg2, req)
}
extern "C" fn h_long(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    handle_scalar::<8>(arg1, arg2, req)
}
extern "C" fn h_64(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    handle_scalar::<8>(arg1, arg2, req)
}
extern "C" fn h_16(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    handle_scalar::<2>(arg1, arg2, req)
}
extern "C" fn h_8(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    handle_scalar::<1>(arg1, arg2, req)
}

/// `sysctl_handle_int` and friends: copy out a snapshot (`*arg1`, or `arg2` when arg1 is
/// NULL); on a write, `EPERM` for a constant, else `SYSCTL_IN` into a temporary and store.
fn handle_scalar<const N: usize>(arg1: usize, arg2: i64, req: usize) -> i32 {
    let mut tmp = [0u8; N];
    if arg1 != 0 {
        // SAFETY: arg1 points to the N-byte variable (the oid's contract).
        unsafe { std::ptr::copy_nonoverlapping(arg1 as *const u8, tmp.as_mut_ptr(), N) };
    } else {
        tmp.copy_from_slice(&arg2.to_le_bytes()[..N]);
    }
    let e = out(req, tmp.as_ptr() as usize, N);
    if e != 0 || rd_usize(req + R_NEWPTR) == 0 {
        return e;
    }
    if arg1 == 0 {
        return EPERM;
    }
    let e = inp(req, tmp.as_mut_ptr() as usize, N);
    if e == 0 {
        // SAFETY: as above.
        unsafe { std::ptr::copy_nonoverlapping(tmp.as_ptr(), arg1 as *mut u8, N) };
    }
    e
}

/// `sysctl_handle_bool`: out as a `uint8_t` 0/1; in as a `uint8_t`, stored as `temp != 0`.
extern "C" fn h_bool(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    let mut tmp: u8 = if arg1 != 0 {
        // SAFETY: arg1 points to a bool.
        (unsafe { *(arg1 as *const u8) } != 0) as u8
    } else {
        (arg2 != 0) as u8
    };
    let e = out(req, &tmp as *const u8 as usize, 1);
    if e != 0 || rd_usize(req + R_NEWPTR) == 0 {
        return e;
    }
    if arg1 == 0 {
        return EPERM;
    }
    let e = inp(req, &mut tmp as *mut u8 as usize, 1);
    if e == 0 {
        // SAFETY: as above.
        unsafe { *(arg1 as *mut u8) = (tmp != 0) as u8 };
    }
    e
}

/// `sysctl_handle_string`: arg2 is the buffer size (0: a read-only constant string of
/// `strlen + 1`); a write of `>= arg2` bytes is `EINVAL`, of 0 bytes empties the string,
/// otherwise the new bytes are stored and NUL-terminated.
extern "C" fn h_string(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    // SAFETY: arg1 points to a NUL-terminated string in a buffer of arg2 bytes.
    let slen = |max: usize| unsafe { libc::strnlen(arg1 as *const libc::c_char, max) };
    let (size, ro) = if arg2 == 0 {
        (slen(usize::MAX >> 1) + 1, true)
    } else {
        (arg2 as usize, false)
    };
    let outlen = slen(size - 1) + 1;
    let e = if rd_usize(req + R_OLDPTR) != 0 {
        let snap: Vec<u8> = {
            // SAFETY: outlen bytes of the string buffer.
            let mut v = unsafe { std::slice::from_raw_parts(arg1 as *const u8, outlen) }.to_vec();
            if let Some(last) = v.last_mut() {
                *last = 0;
            }
            v
        };
        out(req, snap.as_ptr() as usize, outlen)
    } else {
        out(req, 0, outlen)
    };
    let _ = ro;
    if e != 0 || rd_usize(req + R_NEWPTR) == 0 {
        return e;
    }
    // `req->newlen - req->newidx >= arg2 || ... < 0`: size_t arithmetic, so a huge newlen
    // is EINVAL here, before any allocation or copy.
    let left = rd_usize(req + R_NEWLEN).wrapping_sub(rd_usize(req + R_NEWIDX));
    if left >= size {
        return EINVAL;
    }
    if left == 0 {
        // SAFETY: the buffer has at least one byte.
        unsafe { *(arg1 as *mut u8) = 0 };
        return 0;
    }
    let mut tmp = vec![0u8; left];
    let e = inp(req, tmp.as_mut_ptr() as usize, left);
    if e == 0 {
        // SAFETY: left < size bytes plus the NUL fit the buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(tmp.as_ptr(), arg1 as *mut u8, left);
            *(arg1 as *mut u8).add(left) = 0;
        }
    }
    e
}

/// `sysctl_handle_opaque`: out `arg2` bytes of `*arg1`, then in `arg2` bytes.
extern "C" fn h_opaque(_oidp: usize, arg1: usize, arg2: i64, req: usize) -> i32 {
    let e = out(req, arg1, arg2 as usize);
    if e != 0 {
        return e;
    }
    inp(req, arg1, arg2 as usize)
}

/// `sysctl_wire_old_buffer(req, len)` (kern_sysctl.c): for a user request not wired yet,
/// `vslock` the first `len` bytes (0 or more than `oldlen`: all of them) of the old buffer;
/// `ENOMEM` from vslock (too many pages) wires nothing and sets `validlen` to 0 (later
/// `SYSCTL_OUT`s copy nothing and answer `ENOMEM`), any other error (`EFAULT` for an
/// unmapped page, `EINVAL` for a range that wraps) is returned. The request is then
/// `REQ_WIRED` with `validlen` the wired length.
extern "C" fn k_sysctl_wire_old_buffer(req: usize, len: usize) -> i32 {
    let oldlen = rd_usize(req + R_OLDLEN);
    let mut wiredlen = if len > 0 && len < oldlen { len } else { oldlen };
    let oldptr = rd_usize(req + R_OLDPTR);
    if rd_u32(req + R_LOCK) as i32 != REQ_WIRED && oldptr != 0 && rd_usize(req + R_OLDFUNC) == sysctl_old_user as *const () as usize {
        if wiredlen != 0 {
            let ret = vslock(oldptr, wiredlen);
            if ret != 0 {
                if ret != ENOMEM {
                    return ret;
                }
                wiredlen = 0;
            }
        }
        wr_u32(req + R_LOCK, REQ_WIRED as u32);
        wr_usize(req + R_VALIDLEN, wiredlen);
    }
    0
}

// ---- dynamic oids ----

extern "C" fn k_sysctl_ctx_init(c: usize) -> i32 {
    if c == 0 {
        return EINVAL;
    }
    // TAILQ_INIT: tqh_first = NULL, tqh_last = &tqh_first.
    wr_usize(c, 0);
    wr_usize(c + 8, c);
    with(|s| s.ctxs.insert(c, Vec::new()));
    0
}

fn ctx_add(c: usize, o: usize) {
    if c == 0 || o == 0 {
        return;
    }
    with(|s| s.ctxs.entry(c).or_default().insert(0, o));
}

#[allow(clippy::too_many_arguments)]
extern "C" fn k_sysctl_add_oid(
    clist: usize, parent: usize, number: i32, name: usize, kind: i32, arg1: usize, arg2: i64, handler: usize, fmt: usize,
    descr: usize, label: usize,
) -> usize {
    let added_by = caller();
    if parent == 0 || name == 0 {
        return 0;
    }
    // SAFETY: C string.
    let nm = unsafe { super::cstr(name) };
    let l = lay();
    if let Some(p) = find_name(parent, &nm) {
        if rd_u32(p + l.kind) & CTLTYPE == CTLTYPE_NODE {
            wr_u32(p + l.refcnt, rd_u32(p + l.refcnt) + 1);
            ctx_add(clist, p);
            return p;
        }
        super::console_write(format!("sysctl_add_oid: can't re-use a leaf ({})!\n", path_of(p)).as_bytes());
        return 0;
    }
    // SAFETY: zeroed allocation of one struct sysctl_oid.
    let o = unsafe { libc::calloc(1, l.size) } as usize;
    wr_usize(o + l.parent, parent);
    wr_u32(o + l.number, number as u32);
    wr_u32(o + l.refcnt, 1);
    // SAFETY: C strings duplicated (strdup(name, M_SYSCTLOID)).
    wr_usize(o + l.name, unsafe { libc::strdup(name as *const libc::c_char) } as usize);
    wr_usize(o + l.handler, handler);
    wr_u32(o + l.kind, CTLFLAG_DYN | kind as u32);
    wr_usize(o + l.arg1, arg1);
    wr_usize(o + l.arg2, arg2 as usize);
    wr_usize(o + l.fmt, fmt);
    if descr != 0 {
        // SAFETY: as above.
        wr_usize(o + l.descr, unsafe { libc::strdup(descr as *const libc::c_char) } as usize);
    }
    wr_usize(o + l.label, label);
    with(|s| s.dyn_oids.insert(o, added_by));
    ctx_add(clist, o);
    register_oid(o);
    o
}

fn free_oid(o: usize) {
    let l = lay();
    with(|s| s.dyn_oids.remove(&o));
    // SAFETY: strdup'ed strings and the calloc'ed oid of k_sysctl_add_oid.
    unsafe {
        libc::free(rd_usize(o + l.descr) as *mut libc::c_void);
        libc::free(rd_usize(o + l.name) as *mut libc::c_void);
        libc::free(o as *mut libc::c_void);
    }
}

/// `sysctl_remove_oid_locked`.
fn remove_oid_locked(o: usize, del: bool, recurse: bool) -> i32 {
    if o == 0 {
        return EINVAL;
    }
    let l = lay();
    let kind = rd_u32(o + l.kind);
    if kind & CTLFLAG_DYN == 0 {
        super::console_write(format!("Warning: can't remove non-dynamic nodes ({})!\n", oid(o).name).as_bytes());
        return EINVAL;
    }
    if kind & CTLTYPE == CTLTYPE_NODE && rd_u32(o + l.refcnt) == 1 {
        for p in children(o) {
            if !recurse {
                super::console_write(format!("Warning: failed attempt to remove oid {} with child {}\n", oid(o).name, oid(p).name).as_bytes());
                return ENOTEMPTY;
            }
            let e = remove_oid_locked(p, del, recurse);
            if e != 0 {
                return e;
            }
        }
    }
    let refcnt = rd_u32(o + l.refcnt);
    if refcnt > 1 {
        wr_u32(o + l.refcnt, refcnt - 1);
    } else {
        if refcnt == 0 {
            super::console_write(format!("Warning: bad oid_refcnt={refcnt} ({})!\n", oid(o).name).as_bytes());
            return EINVAL;
        }
        unregister_oid(o);
        if del {
            // Wait for all threads running the handler to drain.
            while rd_u32(o + l.running) > 0 {
                wr_u32(o + l.kind, rd_u32(o + l.kind) | CTLFLAG_DYING);
                let c = caller();
                super::kern_synch::sleep(o + l.running, 0, 0, "oidrm".into(), None, c, "Sleeping on \"oidrm\"");
            }
            free_oid(o);
        }
    }
    0
}

extern "C" fn k_sysctl_remove_oid(o: usize, del: i32, recurse: i32) -> i32 {
    super::subr_witness::warn_sleep(0, "sysctl_remove_oid", caller());
    remove_oid_locked(o, del != 0, recurse != 0)
}

extern "C" fn k_sysctl_remove_name(parent: usize, name: usize, del: i32, recurse: i32) -> i32 {
    super::subr_witness::warn_sleep(0, "sysctl_remove_name", caller());
    // SAFETY: C string.
    let nm = unsafe { super::cstr(name) };
    match find_name(parent, &nm) {
        Some(p) => remove_oid_locked(p, del != 0, recurse != 0),
        None => ENOENT,
    }
}

extern "C" fn k_sysctl_ctx_free(c: usize) -> i32 {
    super::subr_witness::warn_sleep(0, "sysctl_ctx_free", caller());
    let entries = with(|s| s.ctxs.get(&c).cloned().unwrap_or_default());
    // Dry run: deregister everything, stop at the first error.
    let mut failed = None;
    for (i, &e) in entries.iter().enumerate() {
        if remove_oid_locked(e, false, false) != 0 {
            failed = Some(i);
            break;
        }
    }
    // Restore the deregistered entries, from the failing one's predecessor (or the end)
    // towards the head.
    let upto = failed.unwrap_or(entries.len());
    for &e in entries[..upto].iter().rev() {
        register_oid(e);
    }
    if failed.is_some() {
        return EBUSY;
    }
    for &e in &entries {
        if remove_oid_locked(e, true, false) != 0 {
            super::panic::kernel_panic(format!("sysctl_remove_oid: corrupt tree, entry: {}", oid(e).name), caller());
        }
    }
    with(|s| s.ctxs.insert(c, Vec::new()));
    free_entries(c);
    wr_usize(c, 0);
    wr_usize(c + 8, c);
    0
}

extern "C" fn k_sysctl_ctx_entry_del(c: usize, o: usize) -> i32 {
    if c == 0 || o == 0 {
        return EINVAL;
    }
    let e = with(|s| match s.ctxs.get_mut(&c).and_then(|v| v.iter().position(|&x| x == o).map(|i| (v, i))) {
        Some((v, i)) => {
            v.remove(i);
            0
        }
        None => ENOENT,
    });
    if e == 0
        && let Some(p) = with(|s| s.ctx_entries.remove(&(c, o)))
    {
        // SAFETY: calloc'ed by entry_for.
        unsafe { libc::free(p as *mut libc::c_void) };
    }
    e
}

extern "C" fn k_sysctl_register_oid(o: usize) {
    register_oid(o);
}
extern "C" fn k_sysctl_unregister_oid(o: usize) {
    unregister_oid(o);
}

/// `securelevel_gt(cr, level)` / `securelevel_ge` (kern_prot.c) for module code.
extern "C" fn k_securelevel_gt(_cr: usize, level: i32) -> i32 {
    securelevel_gt(level)
}
extern "C" fn k_securelevel_ge(_cr: usize, level: i32) -> i32 {
    if with(|s| s.securelevel) >= level { EPERM } else { 0 }
}

// ---- the rest of the exported sysctl KPI ----

/// `sysctl_ctx_entry_add`: a `struct sysctl_ctx_entry` (24 bytes: `entry`, `TAILQ_ENTRY
/// link`) at the head of the context.
extern "C" fn k_sysctl_ctx_entry_add(c: usize, o: usize) -> usize {
    if c == 0 || o == 0 {
        return 0;
    }
    ctx_add(c, o);
    entry_for(c, o)
}

/// The `struct sysctl_ctx_entry` of `o` in `c` (allocated on first use, freed with the
/// context).
fn entry_for(c: usize, o: usize) -> usize {
    if let Some(e) = with(|s| s.ctx_entries.get(&(c, o)).copied()) {
        return e;
    }
    // SAFETY: zeroed 24-byte entry.
    let e = unsafe { libc::calloc(1, 24) } as usize;
    wr_usize(e, o);
    with(|s| s.ctx_entries.insert((c, o), e));
    e
}

fn free_entries(c: usize) {
    let es: Vec<usize> = with(|s| {
        let keys: Vec<(usize, usize)> = s.ctx_entries.keys().filter(|k| k.0 == c).copied().collect();
        keys.iter().filter_map(|k| s.ctx_entries.remove(k)).collect()
    });
    for e in es {
        // SAFETY: calloc'ed by entry_for.
        unsafe { libc::free(e as *mut libc::c_void) };
    }
}

/// `sysctl_ctx_entry_find`: the entry of `o` in `c`, or NULL.
extern "C" fn k_sysctl_ctx_entry_find(c: usize, o: usize) -> usize {
    if c == 0 || o == 0 {
        return 0;
    }
    let has = with(|s| s.ctxs.get(&c).is_some_and(|v| v.contains(&o)));
    if has { entry_for(c, o) } else { 0 }
}

/// `sysctl_register_disabled_oid`: leaves become dormant, then `sysctl_register_oid`.
extern "C" fn k_sysctl_register_disabled_oid(o: usize) {
    let l = lay();
    let kind = rd_u32(o + l.kind);
    if kind & CTLTYPE != CTLTYPE_NODE {
        wr_u32(o + l.kind, kind | CTLFLAG_DORMANT);
    }
    register_oid(o);
}

/// `sysctl_enable_oid`: clears `CTLFLAG_DORMANT` of a leaf.
extern "C" fn k_sysctl_enable_oid(o: usize) {
    let l = lay();
    let kind = rd_u32(o + l.kind);
    if kind & CTLTYPE != CTLTYPE_NODE {
        wr_u32(o + l.kind, kind & !CTLFLAG_DORMANT);
    }
}

/// `sysctl_wlock`/`sysctl_wunlock`: the tree lock; one simulated CPU and host-side
/// bookkeeping make it a no-op here.
extern "C" fn k_sysctl_wlock() {}

/// `sysctl_rename_oid(oidp, name)`: `strdup` the new name, free the old one.
extern "C" fn k_sysctl_rename_oid(o: usize, name: usize) {
    let l = lay();
    // SAFETY: the module's C string, duplicated.
    let new = unsafe { libc::strdup(name as *const libc::c_char) } as usize;
    let old = rd_usize(o + l.name);
    wr_usize(o + l.name, new);
    if with(|s| s.dyn_oids.contains_key(&o)) {
        // SAFETY: strdup'ed by sysctl_add_oid or an earlier rename.
        unsafe { libc::free(old as *mut libc::c_void) };
    }
}

/// `sysctl_move_oid(oid, parent)`: `EEXIST` if the name is taken there; otherwise
/// unregister, reparent with `OID_AUTO`, register.
extern "C" fn k_sysctl_move_oid(o: usize, parent: usize) -> i32 {
    let l = lay();
    if rd_usize(o + l.parent) == parent {
        return 0;
    }
    if find_name(parent, &oid(o).name).is_some() {
        return 17; // EEXIST
    }
    unregister_oid(o);
    wr_usize(o + l.parent, parent);
    wr_u32(o + l.number, (-1i32) as u32);
    register_oid(o);
    0
}

/// `sysctl_msec_to_ticks` (kern_sysctl.c): an int in ticks shown in milliseconds; a new
/// value below one tick is `EINVAL`.
extern "C" fn h_msec_to_ticks(oidp: usize, arg1: usize, _arg2: i64, req: usize) -> i32 {
    let hz = super::kern_clock::HZ;
    // SAFETY: arg1 points to the int.
    let tt = unsafe { (arg1 as *const i32).read_unaligned() } as i64;
    let mut s = (tt * 1000 / hz) as i32;
    let e = h_int(oidp, &mut s as *mut i32 as usize, 0, req);
    if e != 0 || rd_usize(req + R_NEWPTR) == 0 {
        return e;
    }
    let tt = s as i64 * hz / 1000;
    if tt < 1 {
        return EINVAL;
    }
    // SAFETY: as above.
    unsafe { (arg1 as *mut i32).write_unaligned(tt as i32) };
    0
}

// RB_GENERATE(sysctl_oid_list, sysctl_oid, oid_link, cmp_sysctl_oid) walkers over the tree
// the simulator links (rbe_link[0] = parent | rank bits, [1] = left, [2] = right; sys/tree.h
// 14.x+), ordered by oid_number (cmp_sysctl_oid).
fn rb_up(o: usize) -> usize {
    rd_usize(o + lay().link) & !3
}
fn rb_left(o: usize) -> usize {
    rd_usize(o + lay().link + 8)
}
fn rb_right(o: usize) -> usize {
    rd_usize(o + lay().link + 16)
}

extern "C" fn k_rb_minmax(head: usize, val: i32) -> usize {
    let mut o = rd_usize(head);
    let mut last = 0;
    while o != 0 {
        last = o;
        o = if val < 0 { rb_left(o) } else { rb_right(o) };
    }
    last
}

extern "C" fn k_rb_next(mut o: usize) -> usize {
    if rb_right(o) != 0 {
        o = rb_right(o);
        while rb_left(o) != 0 {
            o = rb_left(o);
        }
        return o;
    }
    loop {
        let p = rb_up(o);
        if p == 0 || rb_left(p) == o {
            return p;
        }
        o = p;
    }
}

extern "C" fn k_rb_prev(mut o: usize) -> usize {
    if rb_left(o) != 0 {
        o = rb_left(o);
        while rb_right(o) != 0 {
            o = rb_right(o);
        }
        return o;
    }
    loop {
        let p = rb_up(o);
        if p == 0 || rb_right(p) == o {
            return p;
        }
        o = p;
    }
}

fn rb_search(head: usize, key: usize, nfind: bool) -> usize {
    let l = lay();
    let k = rd_u32(key + l.number) as i32;
    let mut o = rd_usize(head);
    let mut best = 0;
    while o != 0 {
        let n = rd_u32(o + l.number) as i32;
        if k < n {
            best = o;
            o = rb_left(o);
        } else if k > n {
            o = rb_right(o);
        } else {
            return o;
        }
    }
    if nfind { best } else { 0 }
}

extern "C" fn k_rb_find(head: usize, key: usize) -> usize {
    rb_search(head, key, false)
}
extern "C" fn k_rb_nfind(head: usize, key: usize) -> usize {
    rb_search(head, key, true)
}

/// `sysctl_find_oid(name, namelen, noid, nindx, req)` by numbers (kern_sysctl.c): `ENOENT`,
/// `ENOTDIR`; a node with a handler ends the walk.
extern "C" fn k_sysctl_find_oid(name: usize, namelen: u32, noid: usize, nindx: usize, _req: usize) -> i32 {
    match find_by_numbers(name, namelen) {
        Ok((o, indx)) => {
            if noid != 0 {
                wr_usize(noid, o);
            }
            if nindx != 0 {
                wr_u32(nindx, indx as u32);
            }
            0
        }
        Err(e) => e,
    }
}

fn find_by_numbers(name: usize, namelen: u32) -> Result<(usize, usize), i32> {
    let l = lay();
    let mut list = with(|s| s.root);
    let mut indx = 0usize;
    while indx < 24 && indx < namelen as usize {
        let want = rd_u32(name + 4 * indx) as i32;
        let Some(o) = children(list).into_iter().find(|&o| rd_u32(o + l.number) as i32 == want) else { return Err(ENOENT) };
        let kind = rd_u32(o + l.kind);
        if kind & CTLFLAG_DORMANT != 0 {
            return Err(ENOENT);
        }
        indx += 1;
        if kind & CTLTYPE == CTLTYPE_NODE {
            if rd_usize(o + l.handler) != 0 || indx == namelen as usize {
                return Ok((o, indx));
            }
            list = o;
        } else if indx == namelen as usize {
            return Ok((o, indx));
        } else {
            return Err(ENOTDIR);
        }
    }
    Err(ENOENT)
}

/// `kernel_sysctl(td, name, namelen, old, oldlenp, new, newlen, retval, flags)`: by numbers,
/// with kernel buffers.
#[allow(clippy::too_many_arguments)]
extern "C" fn k_kernel_sysctl(td: usize, name: usize, namelen: u32, old: usize, oldlenp: usize, new: usize, newlen: usize, retval: usize, flags: i32) -> i32 {
    match find_by_numbers(name, namelen) {
        Ok((o, _)) => {
            let path = path_of(o);
            let cpath = super::kern_environment::leak_cstr(&path);
            let e = k_kernel_sysctlbyname(td, cpath, old, oldlenp, new, newlen, retval, flags);
            // SAFETY: the CString made just above.
            drop(unsafe { std::ffi::CString::from_raw(cpath as *mut libc::c_char) });
            e
        }
        Err(e) => e,
    }
}

caller_shim!(sim_sysctl_add_oid, k_sysctl_add_oid);
caller_shim!(sim_sysctl_remove_oid, k_sysctl_remove_oid);
caller_shim!(sim_sysctl_remove_name, k_sysctl_remove_name);
caller_shim!(sim_sysctl_ctx_free, k_sysctl_ctx_free);

// ---- linker_file_register_sysctls ----

/// `linker_file_register_sysctls(lf, false)` for the set `[start, stop)`: every oid is
/// registered dormant (`sysctl_register_disabled_oid`); called through the gate because a
/// tunable fetch runs the oid's handler.
pub(crate) extern "C" fn sim_register_set(start: usize, stop: usize) -> u64 {
    let l = lay();
    let mut p = start;
    while p + 8 <= stop {
        let o = rd_usize(p);
        if o != 0 {
            let kind = rd_u32(o + l.kind);
            if kind & CTLTYPE != CTLTYPE_NODE {
                wr_u32(o + l.kind, kind | CTLFLAG_DORMANT);
            }
            register_oid(o);
        }
        p += 8;
    }
    0
}

/// The oids of a `set_sysctl_set` section `[start, stop)`.
pub fn set_oids(start: usize, stop: usize) -> Vec<usize> {
    (start..stop).step_by(8).map(rd_usize).filter(|&o| o != 0).collect()
}

/// `linker_file_enable_sysctls`: `sysctl_enable_oid` on each.
pub fn enable_set(start: usize, stop: usize) {
    let l = lay();
    for o in set_oids(start, stop) {
        let kind = rd_u32(o + l.kind);
        if kind & CTLTYPE != CTLTYPE_NODE {
            wr_u32(o + l.kind, kind & !CTLFLAG_DORMANT);
        }
    }
}

/// `linker_file_unregister_sysctls`: `sysctl_unregister_oid` on each (in set order); a
/// shared node only loses a reference.
pub fn unregister_set(start: usize, stop: usize) {
    let l = lay();
    for o in set_oids(start, stop) {
        if is_registered(o) {
            let r = rd_u32(o + l.refcnt);
            if rd_u32(o + l.kind) & CTLTYPE == CTLTYPE_NODE && r > 1 {
                wr_u32(o + l.refcnt, r - 1);
            } else {
                unregister_oid(o);
            }
        } else {
            // A static node of the same name registered by someone else got a reference.
            let parent = rd_usize(o + l.parent);
            if let Some(p) = find_name(parent, &oid(o).name)
                && rd_u32(p + l.kind) & CTLTYPE == CTLTYPE_NODE {
                    let r = rd_u32(p + l.refcnt);
                    wr_u32(p + l.refcnt, r.saturating_sub(1));
                }
        }
    }
}

/// Every registered oid, depth first: `(oid, path)`.
pub fn all_oids() -> Vec<(usize, String)> {
    fn walk(list: usize, prefix: &str, out: &mut Vec<(usize, String)>) {
        for o in children(list) {
            let n = oid(o);
            let path = if prefix.is_empty() { n.name.clone() } else { format!("{prefix}.{}", n.name) };
            out.push((o, path.clone()));
            if n.kind & CTLTYPE == CTLTYPE_NODE && n.handler == 0 {
                walk(o, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(0, "", &mut out);
    out
}

/// Boot: the state, and the static roots in their data symbols.
pub(crate) fn boot(release: &str, freebsd_version: u32, lookup: &dyn Fn(&str) -> Option<usize>, kenv: BTreeMap<String, String>, securelevel: i32) {
    let layout = layout_for(freebsd_version);
    let root = lookup("sysctl__children").expect("sysctl__children symbol");
    *STATE.lock().unwrap_or_else(|e| e.into_inner()) = Some(SysctlState {
        layout,
        root,
        lists: HashMap::new(),
        newoid: 0,
        kenv,
        env_copies: HashMap::new(),
        securelevel,
        dyn_oids: HashMap::new(),
        ctxs: HashMap::new(),
        cred: SysctlCred::ROOT,
        ctx_entries: HashMap::new(),
        memlock: None,
    });
    let l = layout;
    let node_fmt = super::kern_environment::leak_cstr("N");
    for (sym, parent, name, num) in ROOTS {
        let Some(o) = lookup(sym) else { continue };
        let parent = if parent.is_empty() { root } else { lookup(parent).expect("root parent") };
        wr_usize(o + l.parent, parent);
        wr_u32(o + l.number, *num as u32);
        // SYSCTL_ROOT_NODE(CTL_KERN, kern, CTLFLAG_RW | CTLFLAG_CAPRD | CTLFLAG_MPSAFE, ...)
        wr_u32(o + l.kind, CTLTYPE_NODE | CTLFLAG_RW | CTLFLAG_MPSAFE);
        wr_usize(o + l.name, super::kern_environment::leak_cstr(name));
        wr_usize(o + l.fmt, node_fmt);
        wr_u32(o + l.refcnt, 0);
        register_oid(o);
    }
    kernel_leaves(release, freebsd_version, lookup);
}

/// A static oid of the kernel itself (host memory, never removed).
#[allow(clippy::too_many_arguments)]
fn kernel_leaf(parent: usize, name: &str, number: i32, kind: u32, arg1: usize, arg2: i64, handler: usize, fmt: &str, descr: &str) {
    let l = lay();
    // SAFETY: a zeroed struct sysctl_oid that lives as long as the process.
    let o = unsafe { libc::calloc(1, l.size) } as usize;
    wr_usize(o + l.parent, parent);
    wr_u32(o + l.number, number as u32);
    wr_u32(o + l.kind, kind);
    wr_usize(o + l.arg1, arg1);
    wr_usize(o + l.arg2, arg2 as usize);
    wr_usize(o + l.name, super::kern_environment::leak_cstr(name));
    wr_usize(o + l.handler, handler);
    wr_usize(o + l.fmt, super::kern_environment::leak_cstr(fmt));
    wr_usize(o + l.descr, super::kern_environment::leak_cstr(descr));
    register_oid(o);
}

/// A few leaves of a real kernel, so that `sysctl kern` shows something and modules can
/// read them with `kernel_sysctlbyname`: kern.ostype (KERN_OSTYPE 1), kern.osrelease (2),
/// kern.securelevel (KERN_SECURELVL 9, `sysctl_kern_securelvl`: may only be raised),
/// kern.osreldate (24), kern.hz (OID_AUTO, `CTLFLAG_RDTUN | CTLFLAG_NOFETCH`), hw.ncpu
/// (HW_NCPU 3; one simulated CPU). Numbers from sys/sys/sysctl.h.
fn kernel_leaves(release: &str, freebsd_version: u32, lookup: &dyn Fn(&str) -> Option<usize>) {
    let (Some(kern), Some(hw)) = (lookup("sysctl___kern"), lookup("sysctl___hw")) else { return };
    let int = |v: i32| Box::into_raw(Box::new(v)) as usize;
    let rd = CTLFLAG_RD | CTLFLAG_MPSAFE;
    let s = super::kern_environment::leak_cstr;
    kernel_leaf(kern, "ostype", 1, CTLTYPE_STRING | rd, s("FreeBSD"), 0, h_string as *const () as usize, "A", "Operating system type");
    kernel_leaf(kern, "osrelease", 2, CTLTYPE_STRING | rd, s(&format!("{release}-RELEASE")), 0, h_string as *const () as usize, "A", "Operating system release");
    kernel_leaf(kern, "securelevel", 9, CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_PRISON | CTLFLAG_MPSAFE, 0, 0, h_securelvl as *const () as usize, "I", "Current secure level");
    kernel_leaf(kern, "osreldate", 24, CTLTYPE_INT | rd, int(freebsd_version as i32), 0, h_int as *const () as usize, "I", "Kernel release date");
    kernel_leaf(kern, "hz", -1, CTLTYPE_INT | rd | CTLFLAG_TUN | CTLFLAG_NOFETCH, int(super::kern_clock::HZ as i32), 0, h_int as *const () as usize, "I", "Number of clock ticks per second");
    kernel_leaf(hw, "ncpu", 3, CTLTYPE_INT | rd, int(1), 0, h_int as *const () as usize, "I", "Number of active CPUs");
}

/// `sysctl_kern_securelvl` (kern_mib.c): the level may only be raised (`EPERM` otherwise).
extern "C" fn h_securelvl(_oidp: usize, _arg1: usize, _arg2: i64, req: usize) -> i32 {
    let mut level = with(|s| s.securelevel);
    let e = out(req, &level as *const i32 as usize, 4);
    if e != 0 || rd_usize(req + R_NEWPTR) == 0 {
        return e;
    }
    let cur = level;
    let e = inp(req, &mut level as *mut i32 as usize, 4);
    if e != 0 {
        return e;
    }
    if level < cur {
        return EPERM;
    }
    with(|s| s.securelevel = level);
    0
}

/// `kernel_sysctlbyname(td, name, old, oldlenp, new, newlen, retval, flags)`: a request
/// with kernel buffers (`sysctl_old_kernel`/`sysctl_new_kernel`) through `sysctl_root`, with
/// the credential of a kernel thread (root).
#[allow(clippy::too_many_arguments)]
extern "C" fn k_kernel_sysctlbyname(td: usize, name: usize, old: usize, oldlenp: usize, new: usize, newlen: usize, retval: usize, flags: i32) -> i32 {
    // SAFETY: C string.
    let nm = unsafe { super::cstr(name) };
    let mut raw = [0u64; 12];
    let p = raw.as_mut_ptr() as usize;
    wr_usize(p + R_TD, if td != 0 { td } else { sched().curthread() });
    wr_u32(p + R_LOCK, REQ_UNWIRED as u32);
    let oldlen = if oldlenp != 0 { rd_usize(oldlenp) } else { 0 };
    wr_usize(p + R_OLDLEN, oldlen);
    wr_usize(p + R_VALIDLEN, oldlen);
    wr_usize(p + R_OLDPTR, old);
    if new != 0 {
        wr_usize(p + R_NEWPTR, new);
        wr_usize(p + R_NEWLEN, newlen);
    }
    wr_usize(p + R_OLDFUNC, sysctl_old_kernel as *const () as usize);
    wr_usize(p + R_NEWFUNC, sysctl_new_kernel as *const () as usize);
    wr_u32(p + 88, flags as u32);
    let e = sysctl_root(&nm, SysctlCred::ROOT, p);
    if e != 0 && e != ENOMEM {
        return e;
    }
    if retval != 0 {
        let oldidx = rd_usize(p + R_OLDIDX);
        let validlen = rd_usize(p + R_VALIDLEN);
        wr_usize(retval, if old != 0 && oldidx > validlen { validlen } else { oldidx });
    }
    e
}

/// Shutdown: drop the state (oids of modules still loaded die with their files).
pub(crate) fn shutdown() {
    let st = STATE.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(s) = st {
        for (o, _) in s.dyn_oids {
            // SAFETY: calloc'ed by k_sysctl_add_oid.
            unsafe { libc::free(o as *mut libc::c_void) };
        }
        for (p, _) in s.env_copies {
            // SAFETY: calloc'ed by kern_getenv.
            unsafe { libc::free(p as *mut libc::c_void) };
        }
    }
}

/// Register the sysctl KPI: functions and the static roots (zeroed, filled by [`boot`]).
pub fn symbols(v: &mut Vec<KsymDef>) {
    let f = |v: &mut Vec<KsymDef>, n: &str, a: usize| v.push(KsymDef::function(n, a));
    f(v, "sysctl_handle_int", h_int as *const () as usize);
    f(v, "sysctl_handle_32", h_32 as *const () as usize);
    f(v, "sysctl_handle_long", h_long as *const () as usize);
    f(v, "sysctl_handle_64", h_64 as *const () as usize);
    f(v, "sysctl_handle_16", h_16 as *const () as usize);
    f(v, "sysctl_handle_8", h_8 as *const () as usize);
    f(v, "sysctl_handle_bool", h_bool as *const () as usize);
    f(v, "sysctl_handle_string", h_string as *const () as usize);
    f(v, "sysctl_handle_opaque", h_opaque as *const () as usize);
    f(v, "sysctl_wire_old_buffer", k_sysctl_wire_old_buffer as *const () as usize);
    f(v, "sysctl_ctx_init", k_sysctl_ctx_init as *const () as usize);
    f(v, "sysctl_ctx_free", sim_sysctl_ctx_free as *const () as usize);
    f(v, "sysctl_ctx_entry_del", k_sysctl_ctx_entry_del as *const () as usize);
    f(v, "sysctl_add_oid", sim_sysctl_add_oid as *const () as usize);
    f(v, "sysctl_remove_oid", sim_sysctl_remove_oid as *const () as usize);
    f(v, "sysctl_remove_name", sim_sysctl_remove_name as *const () as usize);
    f(v, "sysctl_register_oid", k_sysctl_register_oid as *const () as usize);
    f(v, "sysctl_unregister_oid", k_sysctl_unregister_oid as *const () as usize);
    f(v, "securelevel_gt", k_securelevel_gt as *const () as usize);
    f(v, "kernel_sysctlbyname", k_kernel_sysctlbyname as *const () as usize);
    f(v, "kernel_sysctl", k_kernel_sysctl as *const () as usize);
    f(v, "sysctl_find_oid", k_sysctl_find_oid as *const () as usize);
    f(v, "sysctl_ctx_entry_add", k_sysctl_ctx_entry_add as *const () as usize);
    f(v, "sysctl_ctx_entry_find", k_sysctl_ctx_entry_find as *const () as usize);
    f(v, "sysctl_register_disabled_oid", k_sysctl_register_disabled_oid as *const () as usize);
    f(v, "sysctl_enable_oid", k_sysctl_enable_oid as *const () as usize);
    f(v, "sysctl_wlock", k_sysctl_wlock as *const () as usize);
    f(v, "sysctl_wunlock", k_sysctl_wlock as *const () as usize);
    f(v, "sysctl_rename_oid", k_sysctl_rename_oid as *const () as usize);
    f(v, "sysctl_move_oid", k_sysctl_move_oid as *const () as usize);
    f(v, "sysctl_msec_to_ticks", h_msec_to_ticks as *const () as usize);
    f(v, "sysctl_oid_list_RB_MINMAX", k_rb_minmax as *const () as usize);
    f(v, "sysctl_oid_list_RB_NEXT", k_rb_next as *const () as usize);
    f(v, "sysctl_oid_list_RB_PREV", k_rb_prev as *const () as usize);
    f(v, "sysctl_oid_list_RB_FIND", k_rb_find as *const () as usize);
    f(v, "sysctl_oid_list_RB_NFIND", k_rb_nfind as *const () as usize);
    f(v, "securelevel_ge", k_securelevel_ge as *const () as usize);
    // SLIST_HEAD / RB_HEAD: one pointer.
    v.push(KsymDef::data("sysctl__children", vec![0; 8], 8));
    for (sym, ..) in ROOTS {
        v.push(KsymDef::data(sym, vec![0; OID_14.size], 8));
    }
}

// ---- the kernel's side for tools ----

/// What `sysctl(8)` learns about an oid (`sysctl.oidfmt`: kind and format; the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidInfo {
    /// Dotted name.
    pub name: String,
    /// `oid_kind`.
    pub kind: u32,
    /// `oid_fmt` ("I", "IU", "L", "Q", "A", "S,name", "N", ...).
    pub fmt: String,
    /// `oid_number`.
    pub number: i32,
    /// `oid_descr`.
    pub descr: String,
}

/// The answer of one `__sysctl(2)` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlReply {
    /// 0 or the errno (`ENOMEM` comes with the bytes that fit).
    pub error: i32,
    /// The old value (as much as fitted).
    pub old: Vec<u8>,
    /// `*oldlenp` after the call: the length needed when no buffer was given, the bytes
    /// copied otherwise (`validlen` when the buffer was too short); when the call failed
    /// with an errno other than `ENOMEM`, what was passed (`sys___sysctl` does not copy the
    /// length out): the buffer's size, 0 without one.
    pub oldlen: usize,
}

impl crate::Kernel {
    /// `linker_file_register_sysctls(lf, false)` for file `id`.
    pub(crate) fn register_sysctls(&mut self, id: u32) -> Result<(), crate::Fault> {
        let Some(f) = self.file(id) else { return Ok(()) };
        let Some((a, b)) = f.image.set_bounds("sysctl_set") else { return Ok(()) };
        if let Some(f) = self.files.iter_mut().find(|f| f.id == id) {
            f.sysctl_set = Some((a, b));
        }
        self.exec_call(sim_register_set as *const () as usize, &[a as u64, b as u64], None).map(|_| ()).map_err(|e| self.fault(e))
    }

    /// `linker_file_unregister_sysctls` for file `id` (once).
    pub(crate) fn unregister_sysctls(&mut self, id: u32) {
        let Some(f) = self.files.iter_mut().find(|f| f.id == id) else { return };
        if let Some((a, b)) = f.sysctl_set.take() {
            unregister_set(a, b);
        }
    }

    /// Oids still registered whose struct, handler, arg1 or name lies in file `id`'s image
    /// when it goes away: the next request would run or read freed memory. Reported like a
    /// panic and removed from the tree.
    pub(crate) fn check_sysctls_gone(&mut self, id: u32) {
        let Some(f) = self.file(id) else { return };
        let l = lay();
        let img = &f.image;
        let name = img.filename.clone();
        let left: Vec<(usize, String)> = all_oids()
            .into_iter()
            .filter(|(o, _)| {
                let n = oid(*o);
                img.contains(*o, 1) || img.contains(n.handler, 1) || img.contains(n.arg1, 1) || img.contains(rd_usize(*o + l.name), 1)
            })
            .collect();
        if left.is_empty() {
            return;
        }
        let names: Vec<&str> = left.iter().map(|(_, p)| p.as_str()).collect();
        let msg = format!(
            "kldunload: {name}: sysctl oid(s) {} still registered after the module was unloaded: their handler or data is freed memory (sysctl_ctx_free / sysctl_remove_oid in MOD_UNLOAD)",
            names.join(", ")
        );
        self.kprintf(&format!("panic: {msg}\n"));
        self.st_mut().panics.push(msg);
        for (o, _) in left.iter().rev() {
            if is_registered(*o) {
                unregister_oid(*o);
            }
        }
    }

    /// `sysctl(3)` by name from a simulated process with credential `cred` (a process made
    /// for the call, whose memory holds the buffers): `oldlen` is the size of the old buffer
    /// (`None`: no buffer, ask for the length), `new` the new value. For raw pointers and
    /// lengths (unmapped, NULL, huge) use [`crate::user::sysctl::sysctl_raw`] in a process.
    /// Module faults in a handler are returned as `Err`.
    pub fn sysctl(&mut self, name: &str, oldlen: Option<usize>, new: Option<&[u8]>, cred: SysctlCred) -> Result<SysctlReply, crate::Fault> {
        let mut uc = if cred.uid == 0 { crate::user::Ucred::root() } else { crate::user::Ucred::user(cred.uid, cred.uid) };
        uc.jailed = cred.jailed;
        let pid = self.spawn("sysctl", uc);
        let mut sh = crate::user::shell::Shell::new(self, pid);
        let r = crate::user::sysctl::request_in(&mut sh, name, oldlen, new);
        let fault = sh.fault.take();
        self.exit_process(pid)?;
        match (fault, r) {
            (Some(f), _) => Err(*f),
            (None, Ok(r)) => Ok(r),
            // The process's memory could not hold the buffers.
            (None, Err(e)) => Ok(SysctlReply { error: e, old: Vec::new(), oldlen: 0 }),
        }
    }

    /// Read a whole value like sysctl(8): ask for the length, then read with room to spare
    /// (sysctl(8) doubles the size).
    pub fn sysctl_read(&mut self, name: &str, cred: SysctlCred) -> Result<SysctlReply, crate::Fault> {
        let r = self.sysctl(name, None, None, cred)?;
        if r.error != 0 {
            return Ok(r);
        }
        let want = (r.oldlen * 2).max(16);
        self.sysctl(name, Some(want), None, cred)
    }

    /// Kind, format and name of `name` (`sysctl.name2oid` + `sysctl.oidfmt`); `Err(errno)`.
    pub fn sysctl_info(&self, name: &str) -> Result<OidInfo, i32> {
        let o = lookup(name)?;
        let n = oid(o);
        Ok(OidInfo { name: path_of(o), kind: n.kind, fmt: n.fmt, number: n.number, descr: n.descr })
    }

    /// The leaves under `name` in `sysctl.next` order (depth first, by number), skipping
    /// `CTLFLAG_SKIP` and dormant oids; a leaf gives itself. `Err(errno)` for an unknown name.
    pub fn sysctl_leaves(&self, name: &str) -> Result<Vec<String>, i32> {
        let root = if name.is_empty() { 0 } else { lookup(name)? };
        let l = lay();
        if root != 0 && (rd_u32(root + l.kind) & CTLTYPE != CTLTYPE_NODE || rd_usize(root + l.handler) != 0) {
            return Ok(vec![path_of(root)]);
        }
        let prefix = if root == 0 { String::new() } else { path_of(root) };
        let mut out = Vec::new();
        fn walk(list: usize, prefix: &str, out: &mut Vec<String>) {
            for o in children(list) {
                let n = oid(o);
                if n.kind & (CTLFLAG_SKIP | CTLFLAG_DORMANT) != 0 {
                    continue;
                }
                let path = if prefix.is_empty() { n.name.clone() } else { format!("{prefix}.{}", n.name) };
                if n.kind & CTLTYPE == CTLTYPE_NODE && n.handler == 0 {
                    walk(o, &path, out);
                } else {
                    out.push(path);
                }
            }
        }
        walk(root, &prefix, &mut out);
        Ok(out)
    }

    /// Every registered oid (depth first) with its path.
    pub fn sysctl_all(&self) -> Vec<(String, OidInfo)> {
        all_oids()
            .into_iter()
            .map(|(o, p)| {
                let n = oid(o);
                (p.clone(), OidInfo { name: p, kind: n.kind, fmt: n.fmt, number: n.number, descr: n.descr })
            })
            .collect()
    }

    /// `kern.securelevel`.
    pub fn securelevel(&self) -> i32 {
        with(|s| s.securelevel)
    }

    /// Set `kern.securelevel`.
    pub fn set_securelevel(&mut self, level: i32) {
        with(|s| s.securelevel = level);
    }

    /// Set a kernel environment variable (`kenv NAME=VALUE`).
    pub fn kenv_set(&mut self, name: &str, value: &str) {
        with(|s| s.kenv.insert(name.to_string(), value.to_string()));
    }

    /// `kern_getenv` copies not given back with `freeenv`: `(address, name)`.
    pub fn kenv_leaks(&self) -> Vec<(usize, String)> {
        super::kern_environment::outstanding()
    }

    /// The leaves file `id` registered: static oids in its image, dynamic ones its code
    /// added, and any whose handler or `arg1` lies in its image (the `--fuzz` targets).
    pub fn sysctl_leaves_of(&self, id: crate::ModuleId) -> Vec<String> {
        let Some(f) = self.file(id.0) else { return Vec::new() };
        let img = &f.image;
        let owners = with(|s| s.dyn_oids.clone());
        all_oids()
            .into_iter()
            .filter(|(o, _)| {
                let n = oid(*o);
                let leafish = n.kind & CTLTYPE != CTLTYPE_NODE || n.handler != 0;
                leafish
                    && n.kind & CTLFLAG_DORMANT == 0
                    && (img.contains(*o, 1)
                        || img.contains(n.handler, 1)
                        || img.contains(n.arg1, 1)
                        || owners.get(o).is_some_and(|&c| img.contains(c, 1)))
            })
            .map(|(_, p)| p)
            .collect()
    }

    /// Dynamic oids currently allocated (`sysctl_add_oid` not yet removed).
    pub fn sysctl_dynamic_oids(&self) -> usize {
        with(|s| s.dyn_oids.len())
    }
}

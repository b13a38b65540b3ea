//! `counters.ko`: sysctl knobs and counters, dynamic and static, and a tunable.
//!
//! On load the module creates, in a [`SysctlCtx`] its state owns:
//! - `debug.counters`: a node;
//! - `debug.counters.value`: a read-write int that accepts 0..=1000 (else `EINVAL`);
//! - `debug.counters.reads`: a read-only u64 counting the reads of `value`;
//! - `debug.counters.name`: a read-write string of at most 32 bytes;
//! - `debug.counters.limit`: a read-only int from the tunable `debug.counters.limit`
//!   (`CTLFLAG_RDTUN`: the kernel sets it from the environment when it is added; 100
//!   otherwise).
//!
//! and a static `debug.counters_static` int ([`sysctl_static!`]). Writes need root (no
//! `CTLFLAG_ANYBODY`). Unloading drops the context, which removes the oids and waits for
//! running handlers before the data goes. Safe Rust only.
//!
//! Its C twin is `examples/c-twins/counters.c`; both behave the same under
//! `cargo kmod run counters --kenv debug.counters.limit=7 --exec 'sysctl debug.counters'
//! --exec 'sysctl debug.counters.value=5'`.
#![no_std]
#![forbid(unsafe_code)]

use core::pin::Pin;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use freebsd_kmi::errno::{EINVAL, Errno};
use freebsd_kmi::heap::KBox;
use freebsd_kmi::kprintln;
use freebsd_kmi::module::Module;
use freebsd_kmi::sync::Mutex;
use freebsd_kmi::sysctl::{Flags, Root, StringBuf, SysctlCtx};
use freebsd_kmi::sysctl_static;

sysctl_static! {
    /// `debug.counters_static`: a static int, registered while the module is loaded.
    static COUNTERS_STATIC: AtomicI32 = AtomicI32::new(0);
    parent: debug, name: c"counters_static", flags: Flags::RW, descr: c"a static int";
}

/// `debug.counters.name` holds at most 32 bytes (C: `char name[33]`).
type Name = StringBuf<33>;

/// What the handlers share, owned by the sysctl context.
struct Counters {
    value: AtomicI32,
    reads: AtomicU64,
    name: Pin<KBox<Mutex<Name>>>,
    limit: AtomicI32,
}

/// The module's state: the sysctl context (and through it, the counters).
struct CountersModule {
    ctx: SysctlCtx<Counters>,
}

impl Module for CountersModule {
    fn load() -> Result<Self, Errno> {
        let counters = Counters {
            value: AtomicI32::new(0),
            reads: AtomicU64::new(0),
            name: Mutex::new(Name::from_bytes(b"counters")?)?,
            limit: AtomicI32::new(100),
        };
        let mut ctx = SysctlCtx::new(counters)?;
        let node = ctx.add_node(Root::DEBUG, c"counters", c"counters example")?;
        ctx.add_rw(
            node,
            c"value",
            Flags::RW,
            c"a value in 0..=1000",
            |c: &Counters, req| {
                if req.is_read() {
                    c.reads.fetch_add(1, Ordering::Relaxed);
                }
                c.value.load(Ordering::Relaxed)
            },
            |c: &Counters, v: i32| {
                if !(0..=1000).contains(&v) {
                    return Err(EINVAL);
                }
                c.value.store(v, Ordering::Relaxed);
                Ok(())
            },
        )?;
        ctx.add_ro(node, c"reads", Flags::empty(), c"reads of value", |c: &Counters, _req| {
            c.reads.load(Ordering::Relaxed)
        })?;
        ctx.add_string_rw(
            node,
            c"name",
            Flags::RW,
            c"a name of at most 32 bytes",
            |c: &Counters| *c.name.lock(),
            |c: &Counters, new: &Name| {
                *c.name.lock() = *new;
                Ok(())
            },
        )?;
        ctx.add_rw(
            node,
            c"limit",
            Flags::RDTUN,
            c"the limit (tunable debug.counters.limit)",
            |c: &Counters, _req| c.limit.load(Ordering::Relaxed),
            |c: &Counters, v: i32| {
                c.limit.store(v, Ordering::Relaxed);
                Ok(())
            },
        )?;
        kprintln!("counters: loaded, limit {}", ctx.data().limit.load(Ordering::Relaxed));
        Ok(CountersModule { ctx })
    }
}

impl Drop for CountersModule {
    fn drop(&mut self) {
        let c = self.ctx.data();
        kprintln!(
            "counters: unloading, value {}, {} reads, static {}",
            c.value.load(Ordering::Relaxed),
            c.reads.load(Ordering::Relaxed),
            COUNTERS_STATIC.load(Ordering::Relaxed)
        );
        // `self.ctx` drops next: sysctl_ctx_free removes the oids, waits for running
        // handlers, then frees the counters.
    }
}

freebsd_kmi::module! {
    type: CountersModule,
    name: "counters",
    version: 1,
}

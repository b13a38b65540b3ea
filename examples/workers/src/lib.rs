//! `workers.ko`: two kernel threads share a counter under a [`Mutex`] and wait on a
//! [`CondVar`] for work items.
//!
//! On load the module starts two threads ([`KThread`]) and hands out 10 work items; each
//! thread takes items one at a time and counts them. On unload the module sets `stop`,
//! wakes the threads, and drops their handles, which joins them (the unload waits until
//! each thread has left the module's code); then it prints the total. Safe Rust only.
//!
//! Its C twin is `examples/c-twins/workers.c`; both print the same lines.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::pin::Pin;
use freebsd_kmi::errno::Errno;
use freebsd_kmi::heap::KBox;
use freebsd_kmi::kprintln;
use freebsd_kmi::module::Module;
use freebsd_kmi::sync::{CondVar, Mutex};
use freebsd_kmi::thread::KThread;

const THREADS: usize = 2;
const ITEMS: u32 = 10;

/// What the threads share, protected by `Shared::work`.
struct Work {
    /// Items handed out and not yet taken.
    pending: u32,
    /// Items done.
    total: u64,
    /// The unload asked the threads to stop (once the pending items are done).
    stop: bool,
}

struct Shared {
    work: Pin<KBox<Mutex<Work>>>,
    /// Signalled when work is handed out or `stop` is set.
    more: Pin<KBox<CondVar>>,
}

/// A worker: waits for items, takes them one by one, stops when told to and nothing is left.
fn worker(shared: &Shared) {
    let mut work = shared.work.lock();
    loop {
        while work.pending == 0 && !work.stop {
            work = shared.more.wait(work);
        }
        if work.pending == 0 {
            break;
        }
        work.pending -= 1;
        work.total += 1;
    }
}

/// The module's state, alive from MOD_LOAD to MOD_UNLOAD.
struct Workers {
    shared: Arc<Shared>,
    threads: Vec<KThread>,
}

impl Module for Workers {
    fn load() -> Result<Self, Errno> {
        let shared = Arc::new(Shared {
            work: Mutex::new(Work { pending: 0, total: 0, stop: false })?,
            more: CondVar::new()?,
        });
        let mut this = Workers { shared, threads: Vec::with_capacity(THREADS) };
        for name in [c"workers0", c"workers1"] {
            let shared = this.shared.clone();
            // On failure `this` is dropped: the threads already started are stopped and joined.
            this.threads.push(KThread::spawn(name, move || worker(&shared))?);
        }
        this.shared.work.lock().pending += ITEMS;
        this.shared.more.notify_all();
        kprintln!("workers: started {} threads, handed out {} work items", THREADS, ITEMS);
        Ok(this)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shared.work.lock().stop = true;
        self.shared.more.notify_all();
        let joined = self.threads.len();
        self.threads.clear(); // joins each thread
        let total = self.shared.work.lock().total;
        kprintln!("workers: stopped {} threads, total {}", joined, total);
    }
}

freebsd_kmi::module! {
    type: Workers,
    name: "workers",
    version: 1,
}

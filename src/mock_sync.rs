//! The mock kernel's locks, sleeps and threads (unit tests only): a single-threaded model
//! that checks each call's preconditions (initialised lock, held on unlock, not held on
//! destroy, held across a sleep) and records what happened. Waits return at once (as a
//! wakeup would), timed ones with EWOULDBLOCK; signal errors are injected.

use crate::mock::MockKernel;
use core::ffi::{CStr, c_char, c_int, c_void};
use freebsd_kpi::common::condvar::cv;
use freebsd_kpi::common::kthread::thread;
use freebsd_kpi::common::lock::lock_object;
use freebsd_kpi::common::mutex::{MTX_SPIN, mtx};
use freebsd_kpi::common::sx::sx;
use freebsd_kpi::common::time::sbintime_t;
use freebsd_kpi::kpi_sync::{KpiSync, KthreadFn};
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    MtxInit { name: String, def: bool },
    MtxDestroy,
    SxInit { name: String },
    SxDestroy,
    CvInit { wmesg: String },
    CvDestroy,
    CvWait { held_during_call: bool },
    CvSignal,
    CvBroadcast,
    Sleep { chan: usize, pri: c_int, wmesg: String, sbt: sbintime_t, interlock_held: bool },
    Wakeup { chan: usize, one: bool },
    Pause { sbt: sbintime_t },
}

#[derive(Debug, Default)]
pub struct Lock {
    pub spin: bool,
    pub sx: bool,
    pub held: bool,
    pub shared: u32,
}

#[derive(Default)]
pub struct State {
    /// Live locks by `lock_object` address.
    pub locks: HashMap<usize, Lock>,
    pub cvs: Vec<usize>,
    pub events: Vec<Event>,
    pub lock_count: usize,
    pub spin_lock_count: usize,
    pub last_lock_site: Option<(String, c_int)>,
    /// Returned (once) by the next interruptible wait or sx_xlock_sig.
    pub next_sig_error: c_int,
    /// Returned by kthread_add (the mock cannot run threads).
    pub kthread_add_error: c_int,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

pub fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

pub fn reset() {
    with(|s| *s = State::default());
}

fn cstr(p: *const c_char) -> String {
    // SAFETY: the facade passes NUL-terminated names.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn site(file: *const c_char, line: c_int) {
    with(|s| s.last_lock_site = Some((cstr(file), line)));
}

fn lock_mut<R>(lo: usize, what: &str, f: impl FnOnce(&mut Lock) -> R) -> R {
    with(|s| f(s.locks.get_mut(&lo).unwrap_or_else(|| panic!("{what}: lock {lo:#x} is not initialised"))))
}

fn take_sig() -> c_int {
    with(|s| core::mem::take(&mut s.next_sig_error))
}

fn held(lock: *mut lock_object) -> bool {
    with(|s| s.locks.get(&(lock as usize)).is_some_and(|l| l.held || l.shared > 0))
}

// SAFETY: a single-threaded model: locks are never contended, sleeps return at once,
// kthread_add fails (no thread runs), kthread_exit is never reached.
unsafe impl KpiSync for MockKernel {
    unsafe fn mtx_init(m: *mut mtx, name: *const c_char, _type_: *const c_char, opts: c_int) {
        let spin = opts & MTX_SPIN != 0;
        // SAFETY: `m` is the mutex being initialised; lock_init sets lo_name like this.
        unsafe { (*m).lock_object.lo_name = name };
        with(|s| {
            let prev = s.locks.insert(m as usize, Lock { spin, ..Lock::default() });
            assert!(prev.is_none(), "mtx_init: lock already initialised");
            s.events.push(Event::MtxInit { name: cstr(name), def: !spin });
        });
    }
    unsafe fn mtx_destroy(m: *mut mtx) {
        with(|s| {
            let l = s.locks.remove(&(m as usize)).expect("mtx_destroy: not initialised");
            assert!(!l.held, "mtx_destroy: held");
            s.events.push(Event::MtxDestroy);
        });
    }
    unsafe fn mtx_lock(m: *mut mtx, file: *const c_char, line: c_int) {
        site(file, line);
        lock_mut(m as usize, "mtx_lock", |l| {
            assert!(!l.spin && !l.sx, "mtx_lock of a spin mutex");
            assert!(!l.held, "mtx_lock: recursed on a non-recursive mutex");
            l.held = true;
        });
        with(|s| s.lock_count += 1);
    }
    unsafe fn mtx_trylock(m: *mut mtx, file: *const c_char, line: c_int) -> c_int {
        site(file, line);
        lock_mut(m as usize, "mtx_trylock", |l| {
            if l.held {
                0
            } else {
                l.held = true;
                1
            }
        })
    }
    unsafe fn mtx_unlock(m: *mut mtx, file: *const c_char, line: c_int) {
        site(file, line);
        lock_mut(m as usize, "mtx_unlock", |l| {
            assert!(l.held, "mtx_unlock: not owned");
            l.held = false;
        });
    }
    unsafe fn mtx_lock_spin(m: *mut mtx, file: *const c_char, line: c_int) {
        site(file, line);
        lock_mut(m as usize, "mtx_lock_spin", |l| {
            assert!(l.spin, "mtx_lock_spin of a sleep mutex");
            assert!(!l.held, "mtx_lock_spin: recursed");
            l.held = true;
        });
        with(|s| s.spin_lock_count += 1);
    }
    unsafe fn mtx_unlock_spin(m: *mut mtx, file: *const c_char, line: c_int) {
        site(file, line);
        lock_mut(m as usize, "mtx_unlock_spin", |l| {
            assert!(l.held, "mtx_unlock_spin: not owned");
            l.held = false;
        });
    }

    unsafe fn sx_init(x: *mut sx, description: *const c_char, _opts: c_int) {
        // SAFETY: `x` is the lock being initialised.
        unsafe { (*x).lock_object.lo_name = description };
        with(|s| {
            assert!(s.locks.insert(x as usize, Lock { sx: true, ..Lock::default() }).is_none(), "sx_init: twice");
            s.events.push(Event::SxInit { name: cstr(description) });
        });
    }
    unsafe fn sx_destroy(x: *mut sx) {
        with(|s| {
            let l = s.locks.remove(&(x as usize)).expect("sx_destroy: not initialised");
            assert!(!l.held && l.shared == 0, "sx_destroy: held");
            s.events.push(Event::SxDestroy);
        });
    }
    unsafe fn sx_xlock(x: *mut sx, opts: c_int, file: *const c_char, line: c_int) -> c_int {
        site(file, line);
        if opts & freebsd_kpi::common::sx::SX_INTERRUPTIBLE != 0 {
            let e = take_sig();
            if e != 0 {
                return e;
            }
        }
        lock_mut(x as usize, "sx_xlock", |l| {
            assert!(!l.held && l.shared == 0, "sx_xlock: already held (single-threaded mock)");
            l.held = true;
        });
        0
    }
    unsafe fn sx_xunlock(x: *mut sx, file: *const c_char, line: c_int) {
        site(file, line);
        lock_mut(x as usize, "sx_xunlock", |l| {
            assert!(l.held, "sx_xunlock: not held");
            l.held = false;
        });
    }
    unsafe fn sx_slock(x: *mut sx, _opts: c_int, file: *const c_char, line: c_int) -> c_int {
        site(file, line);
        lock_mut(x as usize, "sx_slock", |l| {
            assert!(!l.held, "sx_slock: exclusively held");
            l.shared += 1;
        });
        0
    }
    unsafe fn sx_sunlock(x: *mut sx, file: *const c_char, line: c_int) {
        site(file, line);
        lock_mut(x as usize, "sx_sunlock", |l| {
            assert!(l.shared > 0, "sx_sunlock: not held shared");
            l.shared -= 1;
        });
    }

    unsafe fn cv_init(c: *mut cv, desc: *const c_char) {
        with(|s| {
            s.cvs.push(c as usize);
            s.events.push(Event::CvInit { wmesg: cstr(desc) });
        });
    }
    unsafe fn cv_destroy(c: *mut cv) {
        with(|s| {
            let i = s.cvs.iter().position(|&x| x == c as usize).expect("cv_destroy: not initialised");
            s.cvs.remove(i);
            s.events.push(Event::CvDestroy);
        });
    }
    unsafe fn cv_wait(c: *mut cv, lock: *mut lock_object) {
        assert!(with(|s| s.cvs.contains(&(c as usize))), "cv_wait: cv not initialised");
        let h = held(lock);
        assert!(h, "cv_wait: interlock not held");
        with(|s| s.events.push(Event::CvWait { held_during_call: h }));
    }
    unsafe fn cv_wait_sig(c: *mut cv, lock: *mut lock_object) -> c_int {
        // SAFETY: same contract.
        unsafe { Self::cv_wait(c, lock) };
        take_sig()
    }
    unsafe fn cv_timedwait_sbt(c: *mut cv, lock: *mut lock_object, sbt: sbintime_t, _pr: sbintime_t, _flags: c_int) -> c_int {
        assert!(sbt > 0, "a zero sbt means no timeout");
        // SAFETY: same contract.
        unsafe { Self::cv_wait(c, lock) };
        crate::errno::EWOULDBLOCK.get()
    }
    unsafe fn cv_timedwait_sig_sbt(c: *mut cv, lock: *mut lock_object, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int {
        match take_sig() {
            // SAFETY: same contract.
            0 => unsafe { Self::cv_timedwait_sbt(c, lock, sbt, pr, flags) },
            e => e,
        }
    }
    unsafe fn cv_signal(_c: *mut cv) {
        with(|s| s.events.push(Event::CvSignal));
    }
    unsafe fn cv_broadcastpri(_c: *mut cv, _pri: c_int) {
        with(|s| s.events.push(Event::CvBroadcast));
    }

    unsafe fn sleep(chan: *const c_void, lock: *mut lock_object, pri: c_int, wmesg: *const c_char, sbt: sbintime_t, _pr: sbintime_t, _flags: c_int) -> c_int {
        let interlock_held = lock.is_null() || held(lock);
        assert!(interlock_held, "_sleep: interlock not held");
        with(|s| s.events.push(Event::Sleep { chan: chan as usize, pri, wmesg: cstr(wmesg), sbt, interlock_held }));
        if pri & freebsd_kpi::common::param::PCATCH != 0 {
            let e = take_sig();
            if e != 0 {
                return e;
            }
        }
        if sbt != 0 { crate::errno::EWOULDBLOCK.get() } else { 0 }
    }
    fn wakeup(chan: *const c_void) {
        with(|s| s.events.push(Event::Wakeup { chan: chan as usize, one: false }));
    }
    fn wakeup_one(chan: *const c_void) {
        with(|s| s.events.push(Event::Wakeup { chan: chan as usize, one: true }));
    }
    unsafe fn pause_sbt(_wmesg: *const c_char, sbt: sbintime_t, _pr: sbintime_t, _flags: c_int) -> c_int {
        with(|s| s.events.push(Event::Pause { sbt }));
        crate::errno::EWOULDBLOCK.get()
    }
    fn tick_sbt() -> sbintime_t {
        (1 << 32) / 1000
    }
    fn hz() -> c_int {
        1000
    }
    fn ticks() -> c_int {
        0
    }
    unsafe fn kthread_add(_func: KthreadFn, _arg: *mut c_void, _name: *const c_char) -> Result<*mut thread, c_int> {
        Err(with(|s| s.kthread_add_error).max(1))
    }
    unsafe fn kthread_exit() -> ! {
        panic!("kthread_exit in the mock kernel")
    }
}

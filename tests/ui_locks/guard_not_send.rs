// A mutex guard must be released by the thread that took it: it is not Send, so it cannot
// move into a kernel thread's closure.
use freebsd_kmi::sync::Mutex;
use freebsd_kmi::thread::KThread;

fn f() -> Result<(), freebsd_kmi::errno::Errno> {
    let m: &'static _ = Box::leak(Box::new(Mutex::new(0u32)?));
    let guard = m.lock();
    let _t = KThread::spawn(c"t", move || drop(guard))?;
    Ok(())
}

fn main() {
    let _ = f;
}

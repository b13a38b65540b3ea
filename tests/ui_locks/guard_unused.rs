// A guard that is not kept unlocks at once: #[must_use] makes that an error here.
#![deny(unused_must_use)]
use freebsd_kmi::sync::Mutex;

fn f() -> Result<(), freebsd_kmi::errno::Errno> {
    let m = Mutex::new(0u32)?;
    m.lock();
    Ok(())
}

fn main() {
    let _ = f;
}

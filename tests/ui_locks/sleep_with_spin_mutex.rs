// Sleeping releases the interlock it is given; a spin mutex cannot be one (sleeping with a
// spin mutex held is forbidden), so this does not compile.
use freebsd_kmi::sync::{CondVar, SpinMutex};

fn f() -> Result<(), freebsd_kmi::errno::Errno> {
    let m = SpinMutex::new(0u32)?;
    let cv = CondVar::new()?;
    let g = m.lock();
    let _g = cv.wait(g);
    Ok(())
}

fn main() {
    let _ = f;
}

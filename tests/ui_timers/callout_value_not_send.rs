// A callout's value is used by its handler on the softclock thread: it must be Send
// (an Rc is not).
use freebsd_kmi::callout::{Callout, Rearm};
use std::rc::Rc;

fn tick(_: &mut Rc<u32>, _: &mut Rearm) {}

fn f() -> Result<(), freebsd_kmi::errno::Errno> {
    let _c = Callout::new(Rc::new(0u32), tick)?;
    Ok(())
}

fn main() {
    let _ = f;
}

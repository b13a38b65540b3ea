// A callout's value must be 'static: borrowed data could be gone when the handler runs
// (the use-after-free of bindings that arm timers on borrowed data).
use freebsd_kmi::callout::{Callout, Rearm};

fn tick(_: &mut &u32, _: &mut Rearm) {}

fn f() -> Result<(), freebsd_kmi::errno::Errno> {
    let local = 5u32;
    let _c = Callout::new(&local, tick)?;
    Ok(())
}

fn main() {
    let _ = f;
}

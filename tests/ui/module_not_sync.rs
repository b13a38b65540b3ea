// A module's state is shared with kernel threads: it must be Send + Sync.
use freebsd_kmi::errno::Errno;
use freebsd_kmi::module::Module;

struct M(std::cell::Cell<u32>);
impl Module for M {
    fn load() -> Result<Self, Errno> {
        Ok(M(std::cell::Cell::new(0)))
    }
}

fn main() {}

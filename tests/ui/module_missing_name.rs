// module! needs a name.
use freebsd_kmi::errno::Errno;
use freebsd_kmi::module::Module;

struct M;
impl Module for M {
    fn load() -> Result<Self, Errno> {
        Ok(M)
    }
}

freebsd_kmi::module! {
    type: M,
    version: 1,
}

fn main() {}

// A module name is a C string: an embedded NUL is a compile error.
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
    name: "bad\0module",
}

fn main() {}

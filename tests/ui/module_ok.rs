// Correct use compiles (host builds keep the metadata; only a kernel runs it).
use freebsd_kmi::errno::{EBUSY, Errno};
use freebsd_kmi::module::Module;

freebsd_kmi::malloc_define!(M_OK, "ok", "ok allocations");

struct Ok_;
impl Module for Ok_ {
    fn load() -> Result<Self, Errno> {
        Ok(Ok_)
    }
    fn quiesce(&self) -> Result<(), Errno> {
        Err(EBUSY)
    }
}

freebsd_kmi::module! {
    type: Ok_,
    name: "ok",
    version: 3,
    depends: [("other", 1, 2, 3), ("third", 1, 1, 1)],
}

fn main() {}

// Nothing hands out a reference to the module's state: a `&M` could outlive MOD_UNLOAD.
use freebsd_kmi::errno::Errno;
use freebsd_kmi::module::{Module, ModuleState};

struct M;
impl Module for M {
    fn load() -> Result<Self, Errno> {
        Ok(M)
    }
}

static STATE: ModuleState<M> = ModuleState::new();

fn main() {
    let _m: Option<&'static M> = STATE.get();
}

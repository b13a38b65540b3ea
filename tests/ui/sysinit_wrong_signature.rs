// SYSINIT functions are `unsafe extern "C" fn(*const c_void)`.
use freebsd_kmi::kernel::{SI_ORDER_FIRST, SI_SUB_DRIVERS};

static DATA: u32 = 0;
fn not_c_abi(_: u32) {}

freebsd_kmi::sysinit!(SI_SUB_DRIVERS, SI_ORDER_FIRST, not_c_abi, &DATA);

fn main() {}

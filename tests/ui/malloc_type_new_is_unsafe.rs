// A malloc type built outside malloc_define! is never registered with malloc(9): its
// constructor is unsafe, so safe code cannot make one.
use freebsd_kmi::malloc::MallocType;

static M_ROGUE: MallocType = MallocType::new(c"rogue");

fn main() {
    let _ = &M_ROGUE;
}

// A task's handler gets `&T` on a queue thread while other threads may enqueue it and read
// it: T must be Sync (a Cell is not).
use freebsd_kmi::taskqueue::{Task, TaskQueue};
use std::cell::Cell;

fn work(_: &Cell<u32>, _pending: u32) {}

fn f() -> Result<(), freebsd_kmi::errno::Errno> {
    let _t = Task::new(&TaskQueue::system()?, Cell::new(0u32), work)?;
    Ok(())
}

fn main() {
    let _ = f;
}

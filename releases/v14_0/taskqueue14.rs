//! `taskqueue_enqueue_flags` (14.0+; `sys/sys/taskqueue.h` of 14.2 and 15.0, probed): added
//! by commit b6f87b78b5bb (D35051, May 2022), after releng/13.1 branched (absent in 13.0's
//! header; 13.1 cited as absent, unverified against the 13.1 tag).

use crate::common::taskqueue::{task, taskqueue};
use core::ffi::c_int;

abi_consts! {
    table TASKQUEUE14_CONSTS, header "sys/sys/taskqueue.h";
    /// `TASKQUEUE_FAIL_IF_PENDING`: `EEXIST` instead of coalescing.
    pub const TASKQUEUE_FAIL_IF_PENDING: c_int = 1 << 0;
    /// `TASKQUEUE_FAIL_IF_CANCELING`: `ECANCELED` while the task is being cancelled.
    pub const TASKQUEUE_FAIL_IF_CANCELING: c_int = 1 << 1;
}

kpi_functions! {
    table TASKQUEUE14_FUNCTIONS, header "sys/sys/taskqueue.h";
    /// `taskqueue_enqueue_flags(queue, task, flags)`.
    pub fn taskqueue_enqueue_flags(queue: *mut taskqueue, task: *mut task, flags: c_int) -> c_int;
}

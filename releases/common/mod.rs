//! Bindings identical on every supported release (13.1, 14.0, 15.0).
//!
//! FreeBSD keeps these stable across majors (the module metadata and malloc(9) ABI, the
//! SYSINIT subsystem numbers, errno values, the printf(9) family). Each item names the
//! header it mirrors; 14.x values were checked against the 14.2 headers (KBI-compatible
//! with 14.0), 13.1 values against the 13.x sources cited in each file. Release folders
//! re-export this module and add what differs.

pub mod callout;
pub mod condvar;
pub mod conf;
pub mod domainset;
pub mod errno;
pub mod ioccom;
pub mod eventhandler;
pub mod kernel;
pub mod kthread;
pub mod lock;
pub mod malloc;
pub mod module;
pub mod mutex;
pub mod param;
pub mod poll;
pub mod r#priv;
pub mod selinfo;
pub mod sx;
pub mod taskqueue;
// sysctl.rs also holds two macros the release folders expand with their own `struct
// sysctl_oid`: `sysctl_oid_functions!` (table SYSCTL_OID_FUNCTIONS) and `sysctl_roots!`
// (table SYSCTL_ROOTS); each folder lists them in its `release_folder!`.
#[macro_use]
pub mod sysctl;
pub mod syslog;
pub mod systm;
pub mod time;
pub mod uio;
pub mod vm_kern;

use crate::abi::{AbiConst, AbiStruct};
use crate::kpi::KpiSymbol;

/// The common tables of one kind, followed by a release folder's own: the one place that
/// lists them (`release_folder!` and the constants below expand it).
macro_rules! common_tables {
    (symbols $(, $own:expr)* $(,)?) => {
        &[
            crate::common::malloc::MALLOC_FUNCTIONS,
            crate::common::module::MODULE_FUNCTIONS,
            crate::common::systm::SYSTM_FUNCTIONS,
            crate::common::domainset::DOMAINSET_DATA,
            crate::common::mutex::MUTEX_FUNCTIONS,
            crate::common::sx::SX_FUNCTIONS,
            crate::common::condvar::CONDVAR_FUNCTIONS,
            crate::common::systm::SLEEP_FUNCTIONS,
            crate::common::kthread::KTHREAD_FUNCTIONS,
            crate::common::time::TIME_DATA,
            crate::common::kernel::CLOCK_DATA,
            crate::common::vm_kern::VM_KERN_DATA,
            crate::common::conf::CONF_FUNCTIONS,
            crate::common::uio::UIO_FUNCTIONS,
            crate::common::uio::COPY_FUNCTIONS,
            crate::common::r#priv::PRIV_FUNCTIONS,
            crate::common::selinfo::SELINFO_FUNCTIONS,
            crate::common::callout::CALLOUT_FUNCTIONS,
            crate::common::taskqueue::TASKQUEUE_DATA,
            crate::common::taskqueue::TASKQUEUE_FUNCTIONS,
            crate::common::eventhandler::EVENTHANDLER_FUNCTIONS,
            crate::common::sysctl::SYSCTL_FUNCTIONS,
            crate::common::sysctl::GETENV_FUNCTIONS,
            $($own,)*
        ]
    };
    (structs $(, $own:expr)* $(,)?) => {
        &[
            crate::common::kernel::SYSINIT_ENUMS,
            crate::common::malloc::MALLOC_STRUCTS,
            crate::common::module::MODULE_STRUCTS,
            crate::common::lock::LOCK_STRUCTS,
            crate::common::mutex::MUTEX_STRUCTS,
            crate::common::sx::SX_STRUCTS,
            crate::common::condvar::CONDVAR_STRUCTS,
            crate::common::conf::CONF_STRUCTS,
            crate::common::uio::UIO_STRUCTS,
            crate::common::uio::IOVEC_STRUCTS,
            crate::common::selinfo::SELINFO_STRUCTS,
            crate::common::callout::CALLOUT_STRUCTS,
            crate::common::taskqueue::TASKQUEUE_STRUCTS,
            crate::common::sysctl::SYSCTL_STRUCTS,
            $($own,)*
        ]
    };
    (consts $(, $own:expr)* $(,)?) => {
        &[
            crate::common::errno::ERRNO_CONSTS,
            crate::common::kernel::SYSINIT_CONSTS,
            crate::common::malloc::MALLOC_CONSTS,
            crate::common::module::MODEVENT_CONSTS,
            crate::common::module::MODULE_CONSTS,
            crate::common::syslog::SYSLOG_CONSTS,
            crate::common::lock::LOCK_CONSTS,
            crate::common::mutex::MUTEX_CONSTS,
            crate::common::sx::SX_CONSTS,
            crate::common::time::TIME_CONSTS,
            crate::common::callout::CALLOUT_FLAG_CONSTS,
            crate::common::callout::CALLOUT_CONSTS,
            crate::common::eventhandler::EVENTHANDLER_CONSTS,
            crate::common::param::PARAM_SLEEP_CONSTS,
            crate::common::conf::CONF_CONSTS,
            crate::common::uio::UIO_CONSTS,
            crate::common::ioccom::IOCCOM_CONSTS,
            crate::common::r#priv::PRIV_CONSTS,
            crate::common::poll::POLL_CONSTS,
            crate::common::sysctl::SYSCTL_CONSTS,
            $($own,)*
        ]
    };
}

/// Every common symbol table, for the release folders' KPI lists.
pub const SYMBOL_TABLES: &[&[KpiSymbol]] = common_tables!(symbols);

/// Every common struct layout table, for the release folders' ABI tables.
pub const STRUCT_TABLES: &[&[AbiStruct]] = common_tables!(structs);

/// Every common constant table, for the release folders' ABI tables.
pub const CONST_TABLES: &[&[AbiConst]] = common_tables!(consts);

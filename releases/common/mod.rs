//! Bindings identical on every supported release (13.1, 14.0).
//!
//! FreeBSD keeps these stable across majors (the module metadata and malloc(9) ABI, the
//! SYSINIT subsystem numbers, errno values, the printf(9) family). Each item names the
//! header it mirrors; 14.x values were checked against the 14.2 headers (KBI-compatible
//! with 14.0), 13.1 values against the 13.x sources cited in each file. Release folders
//! re-export this module and add what differs.

pub mod domainset;
pub mod errno;
pub mod kernel;
pub mod malloc;
pub mod module;
pub mod syslog;
pub mod systm;

use crate::abi::{AbiConst, AbiStruct};
use crate::kpi::KpiSymbol;

/// Every common symbol table, for the release folders' KPI lists.
pub const SYMBOL_TABLES: &[&[KpiSymbol]] = &[
    malloc::MALLOC_FUNCTIONS,
    module::MODULE_FUNCTIONS,
    systm::SYSTM_FUNCTIONS,
    domainset::DOMAINSET_DATA,
];

/// Every common struct layout table, for the release folders' ABI tables.
pub const STRUCT_TABLES: &[&[AbiStruct]] = &[
    kernel::SYSINIT_ENUMS,
    malloc::MALLOC_STRUCTS,
    module::MODULE_STRUCTS,
];

/// Every common constant table, for the release folders' ABI tables.
pub const CONST_TABLES: &[&[AbiConst]] = &[
    errno::ERRNO_CONSTS,
    kernel::SYSINIT_CONSTS,
    malloc::MALLOC_CONSTS,
    module::MODEVENT_CONSTS,
    module::MODULE_CONSTS,
    syslog::SYSLOG_CONSTS,
];
